"""Helpers of the dataset pipeline tests: dataset pipelines made in the database, runs
executed by the scheduler's RunWorker, and a local HTTP server that answers as a WFS 2.0,
an OGC API Features server, a CKAN portal and an Overpass API would, from real data."""

from __future__ import annotations

import http.server
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg2
import redis as redis_lib
from lxml import etree
from psycopg2 import sql

from matching_and_import_db.layers.catalog import catalog
from matching_and_import_db.pipelines.runner import RunWorker, request_run
from matching_and_import_db.pipelines.sources import SourcePolicy
from tests.conftest import FIXTURES, ROOT
from tests.http_helpers import QuietHandler, serve
from tests.osm_helpers import run_row

DATASETS = FIXTURES / "datasets"
PARKING_GEOJSON = ROOT / "demo" / "oslo-bicycle-parking.geojson"
PARKING_COUNT = 483  # bicycle_parking nodes of bench/data/oslo-center-2025.osm.pbf
OGR = "http://ogr.maptools.org/"
WFS = "http://www.opengis.net/wfs/2.0"
GML = "http://www.opengis.net/gml/3.2"


def dataset_pipeline(conn, name: str, **config) -> int:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO pipelines (name, kind, config, enabled) "
                    "VALUES (%s, 'dataset', %s, true) RETURNING id", (name, json.dumps(config)))
        pipeline_id = cur.fetchone()[0]
    conn.commit()
    return pipeline_id


def set_config(conn, pipeline_id: int, **config) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE pipelines SET config = %s WHERE id = %s",
                    (json.dumps(config), pipeline_id))
    conn.commit()


def run_dataset(env: dict[str, str], pipeline_id: int, overpass_url: str = "") -> dict:
    """Queue a run and execute it in this process as the scheduler would; its row."""
    dsn = env["PORTAL_DATABASE_URL"]
    conn = psycopg2.connect(dsn)
    try:
        run_id = request_run(conn, pipeline_id)
        policy = SourcePolicy.of(env["PORTAL_IMPORT_DIR"], env["PORTAL_SOURCE_ALLOWED_HOSTS"],
                                 overpass_url=overpass_url or SourcePolicy.overpass_url)
        redis = redis_lib.Redis.from_url(env["PORTAL_REDIS_URL"])
        worker = RunWorker(lambda: psycopg2.connect(dsn), redis,
                           worker=f"{socket.gethostname()}:tests", lease_seconds=30,
                           data_dir=env["PORTAL_DATA_DIR"], sources=policy,
                           tiles=catalog().tile_invalidator(redis))
        worker.run_pending()
        return run_row(conn, run_id)
    finally:
        conn.close()


def fingerprint(conn, slug: str) -> tuple:
    """The published dataset's rows and catalog version, to prove a run left them alone."""
    with conn.cursor() as cur:
        cur.execute("SELECT version, feature_count, columns FROM published_datasets "
                    "WHERE slug = %s", (slug,))
        row = cur.fetchone()
        cur.execute(sql.SQL("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY fid)) "
                            "FROM {} t").format(sql.Identifier("datasets", slug)))
        rows = cur.fetchone()
    conn.commit()
    return row, rows


@dataclass
class FakeServices:
    """What the services were asked, for the tests to check the paging."""
    base: str
    wfs_start_indexes: list[int] = field(default_factory=list)
    ogc_offsets: list[int] = field(default_factory=list)
    overpass_queries: list[str] = field(default_factory=list)


def _wfs_members() -> list[bytes]:
    tree = etree.parse(str(DATASETS / "oslo-bicycle-parking.gml"))
    return [etree.tostring(el[0]) for el in tree.getroot().iter(f"{{{OGR}}}featureMember")]


def start_services() -> tuple[http.server.ThreadingHTTPServer, FakeServices]:
    members = _wfs_members()
    collection = json.loads(PARKING_GEOJSON.read_text())
    seen = FakeServices("")  # its base URL once the server is up (below)

    class Handler(QuietHandler):
        def do_GET(self):
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path.startswith("/files/"):
                path = DATASETS / Path(url.path).name
                if Path(url.path).name == PARKING_GEOJSON.name:
                    path = PARKING_GEOJSON
                return self.answer(path.read_bytes(), "application/octet-stream")
            if url.path == "/wfs" and q.get("request") == "GetFeature":
                start, count = int(q["startIndex"]), int(q["count"])
                seen.wfs_start_indexes.append(start)
                page = members[start:start + count]
                body = (f'<wfs:FeatureCollection xmlns:wfs="{WFS}" xmlns:gml="{GML}" '
                        f'xmlns:ogr="{OGR}" numberMatched="{len(members)}" '
                        f'numberReturned="{len(page)}" timeStamp="2025-06-01T00:00:00Z">'
                        ).encode()
                body += b"".join(b"<wfs:member>" + m + b"</wfs:member>" for m in page)
                return self.answer(body + b"</wfs:FeatureCollection>",
                                  "application/gml+xml; version=3.2")
            if url.path == "/ogcapi/collections/bicycle_parking/items":
                limit, offset = int(q.get("limit", 10)), int(q.get("offset", 0))
                seen.ogc_offsets.append(offset)
                feats = collection["features"][offset:offset + limit]
                links = []
                if offset + limit < len(collection["features"]):
                    links.append({"rel": "next", "type": "application/geo+json",
                                  "href": f"{seen.base}{url.path}?limit={limit}"
                                          f"&offset={offset + limit}&f=json"})
                doc = {"type": "FeatureCollection", "features": feats, "links": links,
                       "numberReturned": len(feats)}
                return self.answer(json.dumps(doc).encode(), "application/geo+json")
            if url.path == "/ckan/api/3/action/package_show":
                if q.get("id") != "oslo-bicycle-parking":
                    return self.answer(json.dumps({"success": False, "error": {
                        "message": "Not found", "__type": "Not Found Error"}}).encode(),
                        "application/json", 404)
                doc = {"success": True, "result": {"name": "oslo-bicycle-parking",
                       "resources": [
                           {"id": "r1", "name": "Readme", "format": "PDF",
                            "url": f"{seen.base}/files/readme.pdf"},
                           {"id": "r2", "name": "Sykkelparkering", "format": "GeoJSON",
                            "url": f"{seen.base}/files/{PARKING_GEOJSON.name}"}]}}
                return self.answer(json.dumps(doc).encode(), "application/json")
            if url.path == "/overpass/interpreter":
                seen.overpass_queries.append(q.get("data", ""))
                return self.answer((DATASETS / "overpass-bicycle-parking.osm").read_bytes(),
                                  "application/osm3s+xml")
            return self.answer(b"not found", "text/plain", 404)

    server, seen.base = serve(Handler)
    return server, seen
