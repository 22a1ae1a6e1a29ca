-- data as text: decoded with orjson, several times faster than psycopg2's json for
-- the 100 kB station lists read at every poll
SELECT name, url, version, etag, last_modified, last_updated, ttl, next_due_at, failures,
       error, data::text, warnings
FROM gbfs_feed_files WHERE feed = %(feed)s
