-- What the ride page draws: others get the snapped line only while the ride is
-- published (published), the owner also the recorded line and the chart series.
SELECT ST_AsGeoJSON(t.geom, 6) AS snapped,
       CASE WHEN %(owner)s THEN ST_AsGeoJSON(t.geom_raw, 6) END AS raw,
       CASE WHEN %(owner)s THEN t.series END AS series
FROM rides t
WHERE t.id = %(id)s AND (%(owner)s OR {published});
