-- what operators see: how many messages were refused, by reason, over a period
SELECT i.reason, count(*) AS messages, max(i.received_at) AS last_at
FROM sensor_invalid_messages i
WHERE i.received_at >= %(since)s
GROUP BY i.reason
ORDER BY count(*) DESC
