SELECT run_id, pipeline, source, format, profile_version, counts, published_at
FROM stop_publications ORDER BY id DESC LIMIT 1;
