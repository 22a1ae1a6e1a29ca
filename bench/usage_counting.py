"""bench/usage_counting: the per-request cost of the usage counts (README "Watching it
run"), side by side in one run on one app and one counted route (`/api/layers`, answered
from the catalog):

- none: the app with its counting hook taken out;
- ours: the hook as shipped (a dict increment under a lock; the flush to PostgreSQL, at
  most every PORTAL_ANALYTICS_FLUSH_SECONDS, is in the figures when it falls due);
- redis: the hook replaced by one HINCRBY per request on the app's Redis client (the
  obvious alternative, one more round trip per request).

Requests go through Flask's test client (no network, so the hook's share is not hidden by
socket time), in rounds that alternate the variants (each one first in turn); the figure
is the median of the rounds' microseconds per request. On a shared machine that
end-to-end figure swings by far more than the hook costs, so the hook is also timed alone
(called on a counted request's answer in its request context), ours against the Redis
one. Also the flush itself: one upsert per distinct route, 100 a round trip.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import fresh_database  # noqa: E402

ROUTE = "/api/layers"


def build_app(dsn: str, redis_url: str):
    from app import create_app
    from matching_and_import_db.settings import Settings
    settings = Settings.from_env(overrides={"database_url": dsn, "redis_url": redis_url,
                                            "check_schema": False,
                                            "ratelimit_default": "100000000 per minute"})
    return create_app(settings=settings)


def variants(app):
    """The three apps' after-request hook lists: none, ours, redis."""
    hooks = app.after_request_funcs[None]
    ours = next(h for h in hooks if getattr(h, "__name__", "") == "_count")
    redis = app.extensions["redis"]

    def _count_in_redis(response):
        redis.hincrby("bench:usage:" + time.strftime("%Y-%m-%d"), "api " + ROUTE, 1)
        return response

    without = [h for h in hooks if h is not ours]
    return {"none": without,
            "ours": list(hooks),
            "redis": [_count_in_redis if h is ours else h for h in hooks]}


def per_request_us(client, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        resp = client.get(ROUTE)
        assert resp.status_code == 200, resp.status_code
    return (time.perf_counter() - started) / n * 1e6


def hook_us(app, hook, n: int) -> float:
    """One after-request hook alone, called n times on a counted request's answer."""
    with app.test_request_context(ROUTE):
        from flask import request
        app.create_url_adapter(request)
        request.url_rule, request.view_args = app.url_map.bind("localhost").match(
            ROUTE, return_rule=True)
        response = app.response_class("{}", mimetype="application/json")
        started = time.perf_counter()
        for _ in range(n):
            hook(response)
        return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("PORTAL_SECRET_KEY", "bench-usage-counting")
    base = os.environ["PORTAL_DATABASE_URL"]
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    dsn = fresh_database(base, "portal_bench_usage")
    app = build_app(dsn, redis_url)
    hooks = variants(app)
    client = app.test_client()
    per_request_us(client, 50)  # warm: the catalog, the pool, templates
    figures: dict[str, list[float]] = {name: [] for name in hooks}
    names = list(hooks)
    for i in range(args.rounds):
        for name in names[i % 3:] + names[:i % 3]:  # each variant first in turn
            app.after_request_funcs[None] = hooks[name]
            figures[name].append(per_request_us(client, args.requests))
    median = {name: statistics.median(values) for name, values in figures.items()}
    ours_hook = next(h for h in hooks["ours"] if getattr(h, "__name__", "") == "_count")
    redis_hook = next(h for h in hooks["redis"] if getattr(h, "__name__", "") == "_count_in_redis")
    hook_figures: dict[str, list[float]] = {"ours": [], "redis": []}
    for _ in range(args.rounds):
        hook_figures["ours"].append(hook_us(app, ours_hook, 2000))
        hook_figures["redis"].append(hook_us(app, redis_hook, 2000))
    hook_median = {k: statistics.median(v) for k, v in hook_figures.items()}

    import psycopg2

    from matching_and_import_db.monitoring.usage import UsageCounter
    counter = UsageCounter(flush_seconds=3600)
    for i in range(200):
        for _ in range(50):
            counter.add("page", f"/route/{i}")
    conn = psycopg2.connect(dsn)
    started = time.perf_counter()
    added = counter.flush(conn)
    flush_ms = (time.perf_counter() - started) * 1e3
    conn.close()
    started = time.perf_counter()
    for _ in range(100_000):
        counter.add("api", ROUTE)
    add_us = (time.perf_counter() - started) / 100_000 * 1e6

    ours_extra = median["ours"] - median["none"]
    redis_extra = median["redis"] - median["none"]
    print(f"per request ({args.rounds} rounds of {args.requests} GET {ROUTE}, median):")
    for name in hooks:
        print(f"  {name:6} {median[name]:8.1f} µs (rounds from {min(figures[name]):.1f} "
              f"to {max(figures[name]):.1f})")
    print(f"counting adds: ours {ours_extra:+.1f} µs, a Redis HINCRBY {redis_extra:+.1f} µs "
          f"per request")
    print(f"UsageCounter.add alone: {add_us:.2f} µs; a flush of 200 routes "
          f"({added} requests): {flush_ms:.1f} ms")
    print(f"the hook alone (median of {args.rounds} rounds of 2,000 calls): ours "
          f"{hook_median['ours']:.2f} µs, a Redis HINCRBY {hook_median['redis']:.2f} µs "
          f"(ours/redis {hook_median['ours'] / hook_median['redis']:.3f})")
    print(f"ours/none {median['ours'] / median['none']:.3f}, "
          f"redis/none {median['redis'] / median['none']:.3f}")
    print(json.dumps({"hook_ours_us": round(hook_median["ours"], 2),
                      "hook_redis_us": round(hook_median["redis"], 2),
                      "hook_ratio_ours_to_redis": round(hook_median["ours"]
                                                        / hook_median["redis"], 3),
                      "none_us": round(median["none"], 1), "ours_us": round(median["ours"], 1),
                      "redis_us": round(median["redis"], 1),
                      "ours_extra_us": round(ours_extra, 1),
                      "redis_extra_us": round(redis_extra, 1),
                      "ours_ratio": round(median["ours"] / median["none"], 3),
                      "redis_ratio": round(median["redis"] / median["none"], 3),
                      "add_us": round(add_us, 2), "flush_200_routes_ms": round(flush_ms, 1)}))


if __name__ == "__main__":
    main()
