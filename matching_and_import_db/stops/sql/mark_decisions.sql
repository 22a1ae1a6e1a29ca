-- What a run found about each decision it evaluated. A decision a reviewer changed while the
-- run was going (updated_at moved, or superseded/withdrawn) is theirs: left alone.
UPDATE stop_decisions d
SET status = v.status, review_reason = v.reason
FROM (VALUES %s) AS v (id, seen, status, reason)
WHERE d.id = v.id AND d.updated_at = v.seen AND d.status IN ('active', 'needs_review')
  AND (d.status, d.review_reason) IS DISTINCT FROM (v.status, v.reason)
RETURNING d.id;
