"""bench/datapoints: datapoints/s through the workspace API against COPY of the same rows.

- ours: gunicorn serving the app with gthread workers (--workers 4 of --threads 4 by
  default; deploy/gunicorn.conf.py runs 2 of 4, which gave the same CPU per datapoint and
  a little less throughput on the shared machine, whose other load the 4 contend with);
  a machine client of workspace `bench` gets a client-credentials token from the real
  provider process (scripts/oidc-clients.mjs, panva's oidc-provider) and POSTs Akvo Flow
  shaped datapoints in batches of 1,000 from --clients concurrent connections: every
  request validates the JWT (signature, iss, aud, exp, role; keys from the Redis-cached
  JWKS), parses and checks every item, upserts by identifier in one transaction under
  row-level security, finds the workspace's map over the dataset (the bench makes one)
  and retires its cached tiles over what changed, and answers only after the commit.
- ceiling: the same rows (same columns, the same batches of 1,000, the same number of
  connections) written with COPY, each batch its own transaction, into a copy of the table
  (LIKE ... INCLUDING ALL: generated column, primary key, GiST index): PostgreSQL refuses
  COPY FROM into a table under row-level security, so it has no policy.
- the two alternate in --rounds rounds over the same rows (each round: its new datapoints
  pushed, pushed again as no-ops, then copied), each method's connections opened before
  the first round, so that the others' load on the shared machine weighs on both alike.
- single push: --singles sequential one-datapoint POSTs; p50 and p99 latency.

The datapoints are generated from a fixed seed (positions over the demo city, Oslo east);
the peer anchor (FROST-Server, about 5,000 inserts/s by its maintainers) is quoted, not run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import psycopg2
import redis as redis_lib
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import fresh_database  # noqa: E402
from benchserver import free_port, wait_up  # noqa: E402

BATCH = 1000
FROST_ANCHOR = 5000  # inserts/s, as FROST-Server's maintainers cite it
CLIENT = "bench-sync"
SECRET = "bench-sync-secret"
MAP = {"slug": "points", "title": "Bench points", "minzoom": 0, "maxzoom": 20, "layers": [
    {"id": "working", "dataset": "points", "properties": ["name", "status"],
     "filters": [{"property": "status", "op": "eq", "value": "working"}],
     "style": {"type": "circle", "paint": {"circle-color": "#1f78b4"}}}]}




def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def datapoints(count: int, prefix: str, seed: int = 11) -> list[dict]:
    rnd = random.Random(seed)
    base = 1764000000000
    return [{"identifier": f"{prefix}-{i:08d}", "surveyId": 1000 + i % 7,
             "formId": 2000 + i % 3, "displayName": f"Point {i}",
             "latitude": round(59.90 + rnd.random() * 0.04, 6),
             "longitude": round(10.74 + rnd.random() * 0.10, 6),
             "createdAt": base + i * 1000, "lastUpdateDateTime": base + i * 1000 + 500,
             "answers": {"status": rnd.choice(["working", "broken", "dry"]),
                         "depth_m": rnd.randint(3, 80), "note": "bench"}}
            for i in range(count)]


def batches(items: list, size: int = BATCH) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class Clients:
    """`count` threads, each with a connection of its own kept across runs (made before
    the first timed run: connecting is no part of either method's time)."""

    def __init__(self, count: int, connect):
        self.pool = ThreadPoolExecutor(count)
        self.local = threading.local()
        self.opened = []
        self.connect = connect
        barrier = threading.Barrier(count)
        list(self.pool.map(lambda _: (self.own(), barrier.wait()), range(count)))

    def own(self):
        if not hasattr(self.local, "conn"):
            self.local.conn = self.connect()
            self.opened.append(self.local.conn)
        return self.local.conn

    def run(self, send, count: int) -> float:
        started = time.perf_counter()
        list(self.pool.map(lambda i: send(self.own(), i), range(count)))
        return time.perf_counter() - started

    def close(self) -> None:
        self.pool.shutdown()
        for conn in self.opened:
            conn.close()


class CpuMeter:
    """CPU seconds spent by each side since the last reading: the web workers (gunicorn's
    children), the PostgreSQL backends serving the bench database, and this process (the
    clients). Wall times swing with the others' load on a shared machine; CPU per datapoint
    says what each method costs wherever it runs."""

    def __init__(self, web_pid: int, conn, database: str):
        self.web = psutil.Process(web_pid)
        self.conn = conn
        self.database = database
        self.seen: dict[int, float] = {}

    def _backends(self) -> dict[int, float]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                        "AND pid <> pg_backend_pid()", (self.database,))
            pids = [r[0] for r in cur.fetchall()]
        return {pid: _cpu(psutil.Process(pid)) for pid in pids
                if psutil.pid_exists(pid)}

    def read(self) -> dict[str, float]:
        web = sum(_cpu(child) for child in self.web.children())
        backends = self._backends()
        db = sum(cpu - self.seen.get(pid, 0.0) for pid, cpu in backends.items())
        self.seen.update(backends)
        own = time.process_time()
        out = {"web": web - getattr(self, "_web", web), "db": db,
               "client": own - getattr(self, "_own", own)}
        self._web, self._own = web, own
        return out


def _cpu(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
    except psutil.Error:  # gone, or not ours to read: it counts as nothing
        return 0.0
    return times.user + times.system


def push_all(clients: Clients, base: str, token: str, chunks: list[list],
             bodies: list[str] | None = None) -> float:
    url = base + "/api/workspaces/bench/datasets/points/datapoints"
    bodies = bodies or [json.dumps(c) for c in chunks]

    def send(session: requests.Session, i: int) -> None:
        resp = session.post(url, data=bodies[i], timeout=120, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        if resp.status_code != 200 or resp.json()["accepted"] != len(chunks[i]):
            raise SystemExit(f"push failed: {resp.status_code} {resp.text[:300]}")

    return clients.run(send, len(chunks))


def iso(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_ms / 1000))


def copy_all(clients: Clients, chunks: list[list], workspace_id: int,
             dataset_id: int) -> float:
    def rows(chunk) -> str:
        out = io.StringIO()
        for p in chunk:
            props = json.dumps(p["answers"]).replace("\\", "\\\\")
            out.write("\t".join([
                str(workspace_id), str(dataset_id), p["identifier"], p["displayName"],
                str(p["surveyId"]), str(p["formId"]),
                iso(p["createdAt"]), iso(p["lastUpdateDateTime"]),
                props, f"SRID=4326;POINT({p['longitude']} {p['latitude']})"]) + "\n")
        return out.getvalue()

    def send(conn, i: int) -> None:
        with conn, conn.cursor() as cur:
            cur.copy_expert("COPY copy_ceiling (workspace_id, dataset_id, identifier, "
                            "name, survey_id, form_id, created_at, modified_at, properties, "
                            "geom) FROM STDIN", io.StringIO(rows(chunks[i])))

    return clients.run(send, len(chunks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="datapoints per method")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument("--singles", type=int, default=500, help="one-datapoint pushes")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds, each pushing and copying count/rounds datapoints")
    args = parser.parse_args()

    dsn = fresh_database(os.environ["PORTAL_DATABASE_URL"], "portal_bench_datapoints")
    # the Redis database PORTAL_REDIS_URL names: flushed, like the tests' own
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_lib.Redis.from_url(redis_url).flushdb()
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO workspaces (slug, name) VALUES ('bench', 'Bench') RETURNING id")
        workspace_id = cur.fetchone()[0]
        cur.execute("INSERT INTO workspace_clients (workspace_id, client_id, name) "
                    "VALUES (%s, %s, 'bench')", (workspace_id, CLIENT))
    with tempfile.TemporaryDirectory(prefix="bench-datapoints-") as tmp:
        work = Path(tmp)
        procs = []
        try:
            oidc_port = free_port()
            issuer = f"http://127.0.0.1:{oidc_port}"
            (work / "clients.json").write_text(json.dumps({"audience": "portal", "clients": [
                {"client_id": CLIENT, "client_secret": SECRET, "roles": ["portal_client"],
                 "workspace": "bench"}]}))
            oidc = subprocess.Popen(["node", str(ROOT / "scripts" / "oidc-clients.mjs"),
                                     "--port", str(oidc_port), "--config",
                                     str(work / "clients.json")], cwd=ROOT,
                                    stdout=(work / "oidc.log").open("w"),
                                    stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(oidc)
            wait_up(issuer + "/.well-known/openid-configuration", oidc)
            port = free_port()
            env = {**os.environ, "PORTAL_DATABASE_URL": dsn, "PORTAL_REDIS_URL": redis_url,
                   "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
                   "PORTAL_OIDC_ISSUER": issuer, "PORTAL_CLIENT_ISSUER": issuer,
                   "PORTAL_SECRET_KEY": os.environ.get("PORTAL_SECRET_KEY", "bench-secret"),
                   "PORTAL_RATELIMIT_DEFAULT": "100000000 per minute",
                   "PORTAL_RATELIMIT_CLIENT": "100000000 per minute",
                   "PORTAL_LOG_LEVEL": "WARNING"}
            web = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers),
                 "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
                 "--log-level", "warning",
                 "app:create_app()"], cwd=ROOT, env=env,
                stdout=(work / "web.log").open("w"), stderr=subprocess.STDOUT,
                start_new_session=True)
            procs.append(web)
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/livez", web)
            def token() -> str:  # a fresh one per phase, as a client renews it (5 min TTL)
                return requests.post(issuer + "/token", timeout=10,
                                     data={"grant_type": "client_credentials"},
                                     auth=(CLIENT, SECRET)).json()["access_token"]

            # a public map over the dataset, as a workspace has: each push that changes
            # points also finds the maps that draw them and retires their cached tiles
            made = requests.post(base + "/api/workspaces/bench/maps", json=MAP, timeout=30,
                                 headers={"Authorization": f"Bearer {token()}"})
            if made.status_code != 201:
                raise SystemExit(f"map not made: {made.status_code} {made.text[:300]}")
            # warm up: the key set into Redis, each worker's connections
            pushers = Clients(args.clients, requests.Session)
            copiers = Clients(args.clients, lambda: psycopg2.connect(dsn))
            push_all(pushers, base, token(), batches(datapoints(16 * 10, "warm"), 10))

            with conn.cursor() as cur:
                # PostgreSQL refuses COPY FROM into a table with row-level security: the
                # ceiling is the same table (columns, generated 3857 column, primary key,
                # GiST index) without the policy
                cur.execute("CREATE TABLE copy_ceiling "
                            "(LIKE workspace_datapoints INCLUDING ALL)")
            # the methods alternate round by round on the same rows, so that a change in
            # the machine's load (others work on it) weighs on both alike
            rows = datapoints(args.count, "api")
            per_round = -(-args.count // args.rounds)
            api_s = again_s = copy_s = 0.0
            meter = CpuMeter(web.pid, conn, dsn.rsplit("/", 1)[1])
            cpu = {m: {"web": 0.0, "db": 0.0, "client": 0.0} for m in ("api", "again", "copy")}

            def measured(method: str, seconds: float) -> float:
                for side, used in meter.read().items():
                    cpu[method][side] += used
                return seconds

            for r in range(args.rounds):
                chunks = batches(rows[r * per_round:(r + 1) * per_round])
                bodies = [json.dumps(c) for c in chunks]  # the clients' own work, untimed
                tokens = token(), token()
                meter.read()
                api_s += measured("api", push_all(pushers, base, tokens[0], chunks, bodies))
                # the same again: no-ops
                again_s += measured("again",
                                    push_all(pushers, base, tokens[1], chunks, bodies))
                copy_s += measured("copy", copy_all(copiers, chunks, workspace_id, 1))
            pushers.close()
            copiers.close()
            print(f"HTTP API: {api_s:.1f} s, again {again_s:.1f} s; COPY: {copy_s:.1f} s",
                  flush=True)
            single = datapoints(args.singles, "single", seed=5)
            single_token = token()
            session = requests.Session()
            latencies = []
            for item in single:
                t0 = time.perf_counter()
                resp = session.post(base + "/api/workspaces/bench/datasets/points/datapoints",
                                    json=[item], timeout=30,
                                    headers={"Authorization": f"Bearer {single_token}"})
                latencies.append((time.perf_counter() - t0) * 1000)
                if resp.status_code != 200:
                    raise SystemExit(f"single push failed: {resp.status_code} {resp.text}")
        except BaseException:
            for name in ("web.log", "oidc.log"):
                print(f"--- {name}\n" + (work / name).read_text()[-6000:], file=sys.stderr)
            raise
        finally:
            for proc in procs:
                stop(proc)
    conn.close()

    api_rate = args.count / api_s
    again_rate = args.count / again_s
    copy_rate = args.count / copy_s
    q = statistics.quantiles(latencies, n=100)
    print(f"{args.count} datapoints, batches of {BATCH}, {args.clients} connections, "
          f"{args.workers} gunicorn workers x {args.threads} threads, {os.cpu_count()} cores")
    print(f"{'method':<34}{'seconds':>10}{'datapoints/s':>15}")
    print(f"{'HTTP API (new datapoints)':<34}{api_s:>10.2f}{api_rate:>15.0f}")
    print(f"{'HTTP API (same batches again)':<34}{again_s:>10.2f}{again_rate:>15.0f}")
    print(f"{'COPY (ceiling)':<34}{copy_s:>10.2f}{copy_rate:>15.0f}")
    print(f"ratio API / COPY: {api_rate / copy_rate:.2f}; API / FROST-Server anchor "
          f"({FROST_ANCHOR}/s, quoted): {api_rate / FROST_ANCHOR:.1f}")
    print(f"one-datapoint push, {args.singles} sequential: p50 {q[49]:.1f} ms, "
          f"p99 {q[98]:.1f} ms")
    thousands = args.count / 1000
    per_k = {m: {side: round(used / thousands * 1000, 1) for side, used in sides.items()}
             for m, sides in cpu.items()}
    print("CPU ms per 1,000 datapoints (web workers / PostgreSQL / bench clients):")
    for m, label in (("api", "HTTP API"), ("again", "HTTP API again"), ("copy", "COPY")):
        print(f"  {label:<16}{per_k[m]['web']:>8.1f}{per_k[m]['db']:>8.1f}"
              f"{per_k[m]['client']:>8.1f}")
    load = os.getloadavg()
    print(json.dumps({"datapoints_per_s": round(api_rate),
                      "vs_copy": round(api_rate / copy_rate, 3),
                      "single_push_p99_ms": round(q[98], 1),
                      "single_push_p50_ms": round(q[49], 1),
                      "copy_per_s": round(copy_rate), "repeat_per_s": round(again_rate),
                      "cpu_ms_per_1000": per_k, "load_average": [round(v, 2) for v in load],
                      "batch": BATCH, "count": args.count, "clients": args.clients,
                      "workers": args.workers, "threads": args.threads}))


if __name__ == "__main__":
    main()
