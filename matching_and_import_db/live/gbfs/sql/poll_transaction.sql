-- a poll's writes: what the next poll brings again from the operator, so the commit does
-- not wait for the WAL flush (this transaction only)
SET LOCAL synchronous_commit TO off
