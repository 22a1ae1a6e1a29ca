-- Changes whenever a dataset is published, renamed or removed.
SELECT coalesce(string_agg(slug || ':' || version, ',' ORDER BY slug), '') FROM published_datasets
