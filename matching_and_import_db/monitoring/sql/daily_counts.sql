-- Totals per day and kind of route since a day, newest first.
SELECT day, kind, sum(count)::bigint AS count
FROM usage_daily
WHERE day >= %(since)s
GROUP BY day, kind
ORDER BY day DESC, kind
