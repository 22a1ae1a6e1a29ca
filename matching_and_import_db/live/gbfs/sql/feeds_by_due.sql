-- Every enabled feed with when its first file is due (NULL: no file known yet, just
-- added); the most overdue first, so that a busy poller serves the stalest data first.
SELECT f.slug, f.url, f.headers, f.language, f.stale, f.stale_reason, d.due
FROM gbfs_feeds f
LEFT JOIN LATERAL (SELECT min(x.next_due_at) AS due FROM gbfs_feed_files x
                   WHERE x.feed = f.slug) d ON true
WHERE f.enabled
ORDER BY d.due NULLS FIRST, f.slug
