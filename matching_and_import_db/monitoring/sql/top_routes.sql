-- The most used routes since a day.
SELECT kind, route, sum(count)::bigint AS count
FROM usage_daily
WHERE day >= %(since)s
GROUP BY kind, route
ORDER BY count DESC, route
LIMIT %(limit)s
