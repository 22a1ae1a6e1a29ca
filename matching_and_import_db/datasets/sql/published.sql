-- The published dataset of this slug: its schema, who publishes it, whether its table is there.
SELECT columns, pipeline, to_regclass(%(table)s) IS NOT NULL AS has_table
FROM published_datasets WHERE slug = %(slug)s
