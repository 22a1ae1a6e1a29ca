-- Each enabled GBFS feed: stale or not (as its poller last judged it), and the seconds
-- since its last good fetch (NULL before the first).
SELECT slug, stale, extract(epoch FROM now() - last_success_at)::float8
FROM gbfs_feeds
WHERE enabled
ORDER BY slug
