-- Statistics of the given ways and directions, recomputed from the events and passes of
-- public, processed rides, in the same transaction as the change that touched them.
-- The joins call visibility.PUBLISHED, the one visibility rule (a test checks it is used):
-- road statistics count exactly what everyone may see.
-- Ways with nothing left lose their row.
WITH keys AS (
    SELECT DISTINCT way_id, direction
    FROM unnest(%(way_ids)s::bigint[], %(directions)s::smallint[]) AS k(way_id, direction)
), events AS (
    SELECT e.way_id, e.direction, e.distance_left AS d, e.legal_minimum
    FROM ride_events e
    JOIN keys k ON k.way_id = e.way_id AND k.direction = e.direction
    JOIN rides t ON t.id = e.ride_id
    WHERE ride_shown_to(t.status, t.public, t.user_id, NULL) AND e.distance_left IS NOT NULL
), event_stats AS (
    SELECT way_id, direction, count(*) AS n, avg(d) AS mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS median,
           min(d) AS dmin, max(d) AS dmax,
           count(*) FILTER (WHERE d < legal_minimum) AS below,
           max(legal_minimum) AS legal_minimum
    FROM events GROUP BY way_id, direction
), buckets AS (
    -- 25 cm buckets from 0 to 3 m; everything from 3 m on falls in the last one
    SELECT way_id, direction, least(width_bucket(d, 0, 3, 12), 13) AS bucket, count(*) AS n
    FROM events GROUP BY 1, 2, 3
), histograms AS (
    SELECT k.way_id, k.direction,
           array_agg(coalesce(b.n, 0) ORDER BY s.bucket) AS histogram
    FROM keys k
    CROSS JOIN generate_series(1, 13) AS s(bucket)
    LEFT JOIN buckets b ON b.way_id = k.way_id AND b.direction = k.direction
                       AND b.bucket = s.bucket
    GROUP BY k.way_id, k.direction
), passes AS (
    SELECT u.way_id, u.direction, count(*) AS n
    FROM road_usage u
    JOIN keys k ON k.way_id = u.way_id AND k.direction = u.direction
    JOIN rides t ON t.id = u.ride_id
    WHERE ride_shown_to(t.status, t.public, t.user_id, NULL)
    GROUP BY u.way_id, u.direction
), merged AS (
    SELECT k.way_id, k.direction, coalesce(p.n, 0) AS passes, coalesce(s.n, 0) AS events,
           s.mean, s.median, s.dmin, s.dmax, coalesce(s.below, 0) AS below,
           s.legal_minimum, to_jsonb(h.histogram) AS histogram
    FROM keys k
    LEFT JOIN passes p ON p.way_id = k.way_id AND p.direction = k.direction
    LEFT JOIN event_stats s ON s.way_id = k.way_id AND s.direction = k.direction
    JOIN histograms h ON h.way_id = k.way_id AND h.direction = k.direction
), deleted AS (
    DELETE FROM road_stats r USING merged m
    WHERE r.way_id = m.way_id AND r.direction = m.direction
      AND m.passes = 0 AND m.events = 0
)
INSERT INTO road_stats AS r (way_id, direction, passes, events, distance_mean,
                             distance_median, distance_min, distance_max, below_minimum,
                             legal_minimum, histogram, updated_at)
SELECT way_id, direction, passes, events, mean, median, dmin, dmax, below, legal_minimum,
       histogram, now()
FROM merged
WHERE passes > 0 OR events > 0
ORDER BY way_id, direction  -- one lock order for every worker: no deadlocks
ON CONFLICT (way_id, direction) DO UPDATE SET
    passes = excluded.passes, events = excluded.events,
    distance_mean = excluded.distance_mean, distance_median = excluded.distance_median,
    distance_min = excluded.distance_min, distance_max = excluded.distance_max,
    below_minimum = excluded.below_minimum, legal_minimum = excluded.legal_minimum,
    histogram = excluded.histogram, updated_at = excluded.updated_at;
