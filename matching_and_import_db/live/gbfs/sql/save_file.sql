INSERT INTO gbfs_feed_files (feed, name, url, version, etag, last_modified, last_updated,
                             ttl, next_due_at, failures, error, data, warnings,
                             fetched_at)
VALUES (%(feed)s, %(name)s, %(url)s, %(version)s, %(etag)s, %(last_modified)s,
        %(last_updated)s, %(ttl)s, %(next_due_at)s, %(failures)s, %(error)s, %(data)s,
        %(warnings)s, %(fetched_at)s)
ON CONFLICT (feed, name) DO UPDATE SET
  url = excluded.url, version = excluded.version, etag = excluded.etag,
  last_modified = excluded.last_modified, last_updated = excluded.last_updated,
  ttl = excluded.ttl, next_due_at = excluded.next_due_at, failures = excluded.failures,
  error = excluded.error, fetched_at = excluded.fetched_at,
  warnings = CASE WHEN excluded.data IS NULL THEN gbfs_feed_files.warnings
                  ELSE excluded.warnings END,
  -- a 304 or a failure sends no data: the last good data stays
  data = coalesce(excluded.data, gbfs_feed_files.data)
