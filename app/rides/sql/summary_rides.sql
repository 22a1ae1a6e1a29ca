SELECT count(*) AS rides, coalesce(sum(t.length_m), 0) / 1000 AS km,
       coalesce(sum(t.duration_s), 0) / 3600 AS hours
FROM rides t WHERE {where};
