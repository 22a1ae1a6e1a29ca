-- Claim the oldest ride waiting for processing, or one whose worker's lease ran out
-- (that worker died). SKIP LOCKED: two schedulers never claim the same ride, and never
-- wait for each other.
UPDATE rides t
SET status = 'processing', worker = %(worker)s, attempts = t.attempts + 1,
    lease_until = now() + make_interval(secs => %(lease_seconds)s)
WHERE t.id = (
    SELECT id FROM rides
    WHERE status = 'queued' OR (status = 'processing' AND lease_until < now())
    ORDER BY uploaded_at, id
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING t.id AS ride_id, t.user_id, t.raw_sha256, t.attempts;
