"""500 fuzzed uploads against the portal as it runs in production: gunicorn with the web
role's workers and threads, and a real scheduler process working the queue.

The uploads are the real fixture files mutated (bit flips, truncation, NUL bytes, huge
fields, repeated lines, other separators, gzip layers), files of the wrong kind, nested
gzip bombs, and hostile names and titles. No answer may be a 5xx, every accepted ride must
end complete or in error with a message its owner can read, and no web worker or scheduler
may grow past 500 MB while it all runs (sampled with psutil)."""

from __future__ import annotations

import gzip
import random
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
import requests

from tests.conftest import FIXTURES, wait_until
from tests.fuzz_helpers import apply, random_ops
from tests.live_helpers import Gunicorn, PeakMemory
from tests.ride_helpers import make_rider

UPLOADS = 500
MEMORY_LIMIT_MB = 500
CLIENTS = 4
RIDES = FIXTURES / "rides"
BASES = [p.read_bytes() for p in sorted((RIDES / "obs").glob("*"))
         + sorted((RIDES / "gpx").glob("*.gpx")) if p.suffix != ".md"]
WRONG_KINDS = [p.read_bytes() for p in (
    FIXTURES / "stops" / "swiss_example_stops_ATLAS.csv", FIXTURES / "stops" / "naptan-sample.csv",
    FIXTURES / "stops" / "vvs-bus-764.gtfs.zip", FIXTURES / "stops" / "swiss_example_osm.xml",
    FIXTURES / "stops" / "swiss_example_expected.json")]
GPX_POINT = b'<trkpt lat="51.342375" lon="12.361369"><time>2015-02-03T17:34:05+00:00</time>'


@cache
def nested_gzip_bomb(unpacked_mb: int = 1024) -> bytes:
    """gzip of a gzip of `unpacked_mb` of zeros: under 2 kB as uploaded."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(16 * 1024 * 1024)
    body = b"".join(inner.compress(zeros) for _ in range(unpacked_mb // 16)) + inner.flush()
    return gzip.compress(body, 9, mtime=0)


def special_cases() -> list[tuple[str, bytes, str | None]]:
    """(filename, content, title) of the hostile uploads the issue names."""
    obs, gpx = BASES[0], (RIDES / "gpx" / "graphhopper_tour-with-loop.gpx").read_bytes()
    return [
        ("bomb.csv.gz", nested_gzip_bomb(), None),
        ("bomb3.csv.gz", gzip.compress(gzip.compress(gzip.compress(bytes(64 << 20)))), None),
        ("device.csv", obs.replace(b"DeviceId=", b"DeviceId=" + b"d" * (5 << 20), 1), None),
        ("nul\x00name.csv", obs, "a title with a NUL \x00 in it"),
        ('crlf\r\n"quoted".csv', obs, None),
        ("inf.gpx", gpx.replace(GPX_POINT, GPX_POINT.replace(b'12.361369', b"inf")), None),
        ("year1.gpx", gpx.replace(b"2015-02-03T17:34:05", b"0001-01-01T00:00:00"), None),
        ("truncated.csv.gz", gzip.compress(obs)[:-40], None),
        ("header-nul.csv", obs.replace(b"Latitude", b"Lati\x00tude", 1), None),
        ("empty.csv", b"", None),
    ]


def fuzzed_uploads(count: int, seed: int = 10):
    rng = random.Random(seed)
    specials = special_cases()
    for i in range(count):
        if i % 10 == 0:
            yield specials[(i // 10) % len(specials)]
        elif i % 10 == 1:
            yield f"wrong-{i}.csv", apply(rng.choice(WRONG_KINDS), random_ops(rng, 1)), None
        else:
            huge = rng.choice([100, 10_000, 1_000_000, 4_000_000])
            yield f"ride-{i}.csv", apply(rng.choice(BASES), random_ops(rng), huge), None


@pytest.fixture
def live(settings_env, start_scheduler, tmp_path):
    env = {**settings_env, "PORTAL_RATELIMIT_UPLOAD": "100000 per hour",
           "PORTAL_RATELIMIT_DEFAULT": "100000 per minute"}
    web = Gunicorn(env, tmp_path / "gunicorn.log")
    scheduler = start_scheduler(**{k: v for k, v in env.items() if k.startswith("PORTAL_RATE")})
    yield web, scheduler
    web.stop()


def test_500_fuzzed_uploads_give_no_5xx_and_no_process_above_500_mb(live, app, oidc_provider,
                                                                      db_conn):
    web, scheduler = live
    key = make_rider(app, oidc_provider, "rita").key
    memory = PeakMemory({"web": web.proc.pid, "scheduler": scheduler.pid})

    def send(upload):
        filename, content, title = upload
        form = {"title": title} if title else {}
        try:
            resp = requests.post(f"{web.url}/api/rides", files={"body": (filename, content)},
                                data=form, headers={"Authorization": f"OBSUserId {key}"},
                                timeout=120)
        except requests.RequestException as exc:  # a worker that died mid-request
            return filename, 599, str(exc)
        return filename, resp.status_code, resp.text[:300]

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(send, fuzzed_uploads(UPLOADS)))
    server_errors = [a for a in answers if a[1] >= 500]

    def settled():
        with db_conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE status IN ('queued', 'processing')), "
                        "count(*) FILTER (WHERE status = 'complete'), "
                        "count(*) FILTER (WHERE status = 'error' AND status_message <> ''), "
                        "count(*) FROM rides")
            pending, complete, failed, total = cur.fetchone()
        db_conn.commit()
        return (complete, failed, total) if pending == 0 else None
    try:
        complete, failed, total = wait_until(settled, 600, 0.5, "every ride to be processed")
    finally:
        peaks = memory.stop()
    statuses = sorted({a[1] for a in answers})
    summary = (f"statuses {statuses}; rides {total}: {complete} complete, {failed} error; "
               f"peak MB " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peaks.items())))
    print(summary)
    assert not server_errors, f"{summary}\n" + "\n".join(map(str, server_errors[:20]))
    assert complete + failed == total, summary
    assert total > UPLOADS // 10, f"too few uploads were accepted to test processing: {summary}"
    too_big = {k: v for k, v in peaks.items() if v > MEMORY_LIMIT_MB}
    assert not too_big, summary
    assert "Traceback" not in web.log(), web.log()[-3000:]
