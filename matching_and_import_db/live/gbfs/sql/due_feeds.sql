-- Feeds with a file due now, or with no file known yet (just added).
SELECT f.slug, f.url, f.headers, f.language, f.stale, f.stale_reason
FROM gbfs_feeds f
WHERE f.enabled
  AND (NOT EXISTS (SELECT 1 FROM gbfs_feed_files x WHERE x.feed = f.slug)
       OR EXISTS (SELECT 1 FROM gbfs_feed_files x
                  WHERE x.feed = f.slug AND x.next_due_at <= %(now)s))
ORDER BY f.slug
