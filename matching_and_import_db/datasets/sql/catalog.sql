-- Every published dataset, as the web processes register them as layers.
SELECT slug, title, layer_group, description, colour, geometry_type, columns, version,
       feature_count, bbox
FROM published_datasets
WHERE to_regclass('datasets.' || quote_ident(slug)) IS NOT NULL
ORDER BY layer_group, title
