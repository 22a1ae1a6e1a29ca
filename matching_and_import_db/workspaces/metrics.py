"""Per-workspace ingest metrics in Redis: accepted and rejected datapoints, batches, batch
latency (recent samples for percentiles) and ingest lag (now minus the newest pushed
modification time). JSON for now; every web process writes the same keys."""

from __future__ import annotations

import statistics

SAMPLES = 1000


def _key(workspace_id: int) -> str:
    return f"workspace:{workspace_id}:metrics"


def record_batch(redis, workspace_id: int, *, accepted: int, rejected: int, seconds: float,
                 lag_seconds: float | None) -> None:
    key = _key(workspace_id)
    pipe = redis.pipeline(transaction=False)
    pipe.hincrby(key, "accepted", accepted)
    pipe.hincrby(key, "rejected", rejected)
    pipe.hincrby(key, "batches", 1)
    if lag_seconds is not None:
        pipe.hset(key, "ingest_lag_seconds", f"{lag_seconds:.3f}")
    pipe.lpush(key + ":latency", f"{seconds:.6f}")
    pipe.ltrim(key + ":latency", 0, SAMPLES - 1)
    pipe.execute()


def read(redis, workspace_id: int) -> dict:
    key = _key(workspace_id)
    raw = {k.decode(): v.decode() for k, v in redis.hgetall(key).items()}
    samples = sorted(float(v) for v in redis.lrange(key + ":latency", 0, -1))
    latency = None
    if samples:
        q = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
        latency = {"p50_ms": round(q[49] * 1000, 2), "p99_ms": round(q[98] * 1000, 2),
                   "samples": len(samples)}
    return {"accepted": int(raw.get("accepted", 0)), "rejected": int(raw.get("rejected", 0)),
            "batches": int(raw.get("batches", 0)),
            "ingest_lag_seconds": float(raw["ingest_lag_seconds"])
            if "ingest_lag_seconds" in raw else None,
            "batch_latency": latency}
