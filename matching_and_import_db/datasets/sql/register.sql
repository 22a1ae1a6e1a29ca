-- The catalog's row of the dataset; its version tells web processes to rebuild its layer.
INSERT INTO published_datasets AS d (slug, pipeline, run_id, title, layer_group,
    description, colour, geometry_type, columns, key_column, source_srid, feature_count,
    bbox, version, published_at)
SELECT %(slug)s, %(pipeline)s, %(run_id)s, %(title)s, %(group)s, %(description)s,
       %(colour)s, %(geometry_type)s, %(columns)s, %(key)s, %(srid)s, count(*),
       CASE WHEN count(*) > 0 THEN ARRAY[ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)),
                                         ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom))]
       END, 1, now()
FROM {published}
ON CONFLICT (slug) DO UPDATE SET
    pipeline = excluded.pipeline, run_id = excluded.run_id, title = excluded.title,
    layer_group = excluded.layer_group, description = excluded.description,
    colour = excluded.colour, geometry_type = excluded.geometry_type,
    columns = excluded.columns, key_column = excluded.key_column,
    source_srid = excluded.source_srid, feature_count = excluded.feature_count,
    bbox = excluded.bbox, version = d.version + 1, published_at = now()
RETURNING feature_count, version
