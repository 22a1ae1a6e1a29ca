SELECT slug, url, headers, language, stale, stale_reason
FROM gbfs_feeds WHERE slug = %(slug)s
