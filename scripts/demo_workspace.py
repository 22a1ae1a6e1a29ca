"""The demo workspace's data, pushed as its machine client would: a survey of the bus and
tram stops of the demo city (the real OSM stops of demo/oslo-east-filtered.osm.pbf, once
the demo import has published them), as Akvo Flow datapoints, and a public map of it.

The positions and names are the stops' own; the survey answers are made up and every
datapoint says so ("demo data"). Run by scripts/start.sh beside the portal:

    python scripts/demo_workspace.py --portal URL --issuer URL --client ID --secret S
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg2
import requests

STATUSES = ("shelter ok", "shelter damaged", "no shelter")
MAP = {"slug": "stop-survey", "title": "Stop survey (demo data)", "listed": True,
       "minzoom": 10, "maxzoom": 20, "layers": [
           {"id": "damaged", "dataset": "stop-survey", "properties": ["name", "status", "demo"],
            "filters": [{"property": "status", "op": "eq", "value": "shelter damaged"}],
            "style": {"type": "circle", "paint": {"circle-color": "#d1495b",
                                                  "circle-radius": 7}}},
           {"id": "others", "dataset": "stop-survey", "properties": ["name", "status", "demo"],
            "filters": [{"property": "status", "op": "ne", "value": "shelter damaged"}],
            "style": {"type": "circle", "paint": {"circle-color": "#2e86ab",
                                                  "circle-radius": 5}}}]}


def wait_for(what: str, check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (requests.RequestException, psycopg2.Error):
            pass
        time.sleep(2)
    sys.exit(f"demo workspace: gave up waiting for {what}")


def stops(dsn: str) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT osm_type || osm_id, name, ST_Y(geom), ST_X(geom) FROM osm_stops "
                    "WHERE name IS NOT NULL ORDER BY osm_type, osm_id LIMIT 400")
        rows = cur.fetchall()
    conn.close()
    return rows


def datapoint(i: int, key: str, name: str, lat: float, lon: float) -> dict:
    created = 1764547200000 + i * 60_000  # 2025-12-01, one a minute
    return {"identifier": f"demo-stop-{key}", "surveyId": 9001, "formId": 9101,
            "displayName": name, "latitude": lat, "longitude": lon, "createdAt": created,
            "lastUpdateDateTime": created + 30_000,
            "answers": {"status": STATUSES[i % 3],
                        "demo": "demo data: a real OSM stop, a made-up survey answer"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--portal", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    dsn = os.environ["PORTAL_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")

    found = wait_for("the demo city's stops", lambda: stops(dsn), args.timeout)
    wait_for("the portal", lambda: requests.get(args.portal + "/livez", timeout=3).ok, 120)
    token = wait_for("a client-credentials token", lambda: requests.post(
        args.issuer + "/token", data={"grant_type": "client_credentials"},
        auth=(args.client, args.secret), timeout=5).json().get("access_token"), 120)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{args.portal}/api/workspaces/{args.workspace}"
    batch = [datapoint(i, *row) for i, row in enumerate(found)]
    pushed = requests.post(base + "/datasets/stop-survey/datapoints", json=batch,
                           headers=headers, timeout=60)
    pushed.raise_for_status()
    existing = requests.get(base + "/maps/stop-survey", headers=headers, timeout=10)
    if existing.status_code == 404:
        made = requests.post(base + "/maps", json=MAP, headers=headers, timeout=10)
    else:
        made = requests.put(base + "/maps/stop-survey", json=MAP, headers=headers, timeout=10)
    made.raise_for_status()
    print(f"demo workspace: {pushed.json()['accepted']} datapoints at real stops; "
          f"the map: {made.json()['links']['page']}")


if __name__ == "__main__":
    main()
