SELECT name, url, version, etag, last_modified, last_updated, ttl, next_due_at, failures,
       error, data, warnings
FROM gbfs_feed_files WHERE feed = %(feed)s
