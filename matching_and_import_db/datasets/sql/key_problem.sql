-- The first feature whose key is missing or repeats an earlier feature's (upsert mode).
SELECT fid, {key} IS NULL AS missing FROM (
    SELECT fid, {key}, count(*) OVER (PARTITION BY {key}) AS n FROM {staging}
) k
WHERE {key} IS NULL OR n > 1
ORDER BY fid LIMIT 1
