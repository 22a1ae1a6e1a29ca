SELECT o.osm_type, o.osm_id, o.kind, o.name, o.ref, o.uic_ref, o.ref_ifopt, o.ref_sloid,
       o.local_ref, o.operator, o.tags, ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat,
       o.stop_areas
FROM osm_stops o
JOIN unnest(%(types)s::text[], %(ids)s::bigint[]) AS k (osm_type, osm_id)
  ON o.osm_type = k.osm_type AND o.osm_id = k.osm_id;
