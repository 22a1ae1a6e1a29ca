-- One process's counts since its last flush, added to the day's totals.
INSERT INTO usage_daily (day, kind, route, count)
VALUES (%(day)s, %(kind)s, %(route)s, %(count)s)
ON CONFLICT (day, kind, route) DO UPDATE SET count = usage_daily.count + EXCLUDED.count
