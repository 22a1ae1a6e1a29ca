-- The catalog's row of the dataset; its version tells web processes to rebuild its layer.
-- %(feature_count)s and %(bbox)s: what the reader counted and bounded when the run's rows
-- are the dataset (a swap of a longitude/latitude source); NULL to count and bound the
-- published table (an upsert, a reprojected source).
INSERT INTO published_datasets AS d (slug, pipeline, run_id, title, layer_group,
    description, colour, geometry_type, columns, key_column, source_srid, feature_count,
    bbox, version, published_at)
SELECT %(slug)s, %(pipeline)s, %(run_id)s, %(title)s, %(group)s, %(description)s,
       %(colour)s, %(geometry_type)s, %(columns)s, %(key)s, %(srid)s,
       coalesce(%(feature_count)s::bigint, (SELECT count(*) FROM {published})),
       coalesce(%(bbox)s::float8[], (
           SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
           FROM (SELECT ST_Extent(geom) AS e FROM {published}) extent WHERE e IS NOT NULL)),
       1, now()
ON CONFLICT (slug) DO UPDATE SET
    pipeline = excluded.pipeline, run_id = excluded.run_id, title = excluded.title,
    layer_group = excluded.layer_group, description = excluded.description,
    colour = excluded.colour, geometry_type = excluded.geometry_type,
    columns = excluded.columns, key_column = excluded.key_column,
    source_srid = excluded.source_srid, feature_count = excluded.feature_count,
    bbox = excluded.bbox, version = d.version + 1, published_at = now()
RETURNING feature_count, version
