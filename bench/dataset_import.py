"""bench/dataset_import: our dataset pipeline against ogr2ogr on the same files and database.

The files are made here from the synthetic city (bench/synth_city.py: points of interest
and building footprints over Berlin, deterministic), reprojected to EPSG:4326 with pyproj
and written by GDAL (pyogrio): a GeoJSON of 200,000 points and a GeoPackage of 50,000
polygons, each with an integer id, a text and a number column.

Ours is timed in-process around one pipeline run as the scheduler executes it (fetch →
stage: GDAL's Arrow stream, the checks, the tile geometry (EPSG:3857) computed beside the
reading, binary COPY FREEZE into staging, primary key and a GiST index on the tile
geometry → publish: swap and catalog row, run bookkeeping included). ogr2ogr as its
process (`-f PostgreSQL`, its defaults: COPY into a new table, primary key, a GiST index
on the geometry), in a schema of its own: the same indexes, while ours also stores the
second geometry the tiles and bbox queries use. Every repetition starts from no table;
the two alternate and the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg2
import pyogrio
import pyproj
import shapely
from psycopg2 import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import fresh_database, run_pipeline_once  # noqa: E402
from synth_city import buildings, points  # noqa: E402

POINTS, POLYGONS = 200_000, 50_000


def _to_4326(wkts: list[str]) -> np.ndarray:
    geoms = shapely.from_wkt(wkts)
    to_4326 = pyproj.Transformer.from_crs(3857, 4326, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(to_4326.transform(
        xy[:, 0], xy[:, 1])))


def make_files(workdir: Path) -> tuple[Path, Path]:
    pts = list(points(POINTS))
    geojson = workdir / "points.geojson"
    pyogrio.raw.write(str(geojson), shapely.to_wkb(_to_4326([p.wkt_3857 for p in pts])),
                      [np.array([p.id for p in pts], dtype=np.int64),
                       np.array([p.kind for p in pts], dtype=object),
                       np.array([(p.id * 7919) % 1000 / 10 for p in pts])],
                      ["poi_id", "kind", "rating"], driver="GeoJSON", crs="EPSG:4326",
                      geometry_type="Point", COORDINATE_PRECISION=7)
    blds = list(buildings(POLYGONS))
    gpkg = workdir / "buildings.gpkg"
    pyogrio.raw.write(str(gpkg), shapely.to_wkb(_to_4326([b.wkt_3857 for b in blds])),
                      [np.array([b.id for b in blds], dtype=np.int64),
                       np.array([b.use for b in blds], dtype=object),
                       np.array([b.levels * 3.1 for b in blds])],
                      ["building_id", "use", "height_m"], driver="GPKG", crs="EPSG:4326",
                      geometry_type="Polygon", layer="buildings")
    return geojson, gpkg


def run_ours(dsn: str, path: Path, slug: str, redis_url: str, data_dir: str) -> tuple[float, int]:
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("TRUNCATE pipeline_runs, pipelines, published_datasets RESTART IDENTITY "
                    "CASCADE")
        cur.execute("DROP SCHEMA datasets CASCADE; CREATE SCHEMA datasets")
        cur.execute("INSERT INTO pipelines (name, kind, config, enabled) VALUES "
                    "('bench', 'dataset', %s, true) RETURNING id",
                    (json.dumps({"source": str(path), "slug": slug}),))
        pipeline_id = cur.fetchone()[0]
    conn.commit()
    seconds, counts = run_pipeline_once(conn, dsn, redis_url, data_dir, pipeline_id,
                                        str(path.parent))
    return seconds, counts["features_published"]


def _pg(dsn: str) -> str:
    url = make_url(dsn)
    return (f"PG:host={url.host or '127.0.0.1'} port={url.port or 5432} dbname={url.database} "
            f"user={url.username} password={url.password}")


def run_ogr2ogr(dsn: str, path: Path, table: str) -> tuple[float, int]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS ogr_bench")
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("ogr_bench", table)))
    started = time.perf_counter()
    subprocess.run(["ogr2ogr", "-f", "PostgreSQL", _pg(dsn), str(path), "-nln",
                    f"ogr_bench.{table}", "-lco", "GEOMETRY_NAME=geom",
                    "-lco", "FID=fid", "-nlt", "PROMOTE_TO_MULTI" if "gpkg" in path.name
                    else "POINT"], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("ogr_bench", table)))
        count = cur.fetchone()[0]
    conn.close()
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dsn = fresh_database(os.environ["PORTAL_DATABASE_URL"], "portal_bench_datasets")
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        geojson, gpkg = make_files(Path(tmp))
        data_dir = str(Path(tmp) / "data")
        for name, path, slug in (("geojson", geojson, "bench_points"),
                                 ("gpkg", gpkg, "bench_buildings")):
            ours, theirs = [], []
            for i in range(args.repeat):
                # alternate the order so neither always meets a warmer cache
                if i % 2 == 0:
                    ours.append(run_ours(dsn, path, slug, redis_url, data_dir))
                    theirs.append(run_ogr2ogr(dsn, path, slug))
                else:
                    theirs.append(run_ogr2ogr(dsn, path, slug))
                    ours.append(run_ours(dsn, path, slug, redis_url, data_dir))
            assert ours[-1][1] == theirs[-1][1], (ours[-1], theirs[-1])
            results[name] = (statistics.median(t for t, _ in ours),
                             statistics.median(t for t, _ in theirs), ours[-1][1],
                             path.stat().st_size)
    print(f"{args.repeat} repetitions each, medians, seconds")
    print(f"{'file':28} {'features':>8} {'ours':>7} {'ogr2ogr':>8} {'ratio':>6}")
    for name, (ours_s, theirs_s, count, size) in results.items():
        label = f"{name} ({size / 1e6:.1f} MB)"
        print(f"{label:28} {count:8d} {ours_s:7.2f} {theirs_s:8.2f} {ours_s / theirs_s:6.2f}")
    print("ratio = ours / ogr2ogr (below 1: ours is faster; goal at most 0.8)")
    g, p = results["geojson"], results["gpkg"]
    print(json.dumps({"geojson_ratio": round(g[0] / g[1], 3),
                      "gpkg_ratio": round(p[0] / p[1], 3),
                      "geojson_ours_s": round(g[0], 3), "geojson_ogr2ogr_s": round(g[1], 3),
                      "gpkg_ours_s": round(p[0], 3), "gpkg_ogr2ogr_s": round(p[1], 3),
                      "points": g[2], "polygons": p[2], "repeat": args.repeat}))


if __name__ == "__main__":
    main()
