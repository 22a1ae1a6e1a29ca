"""The dataset pipeline: every source kind against real files (and a local server answering
as WFS, OGC API Features, CKAN and Overpass from real data), failed runs that leave the
published dataset as it was, and bad input named by file, feature and column."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyogrio
import pytest
import shapely
from psycopg2 import sql

from tests.conftest import FIXTURES, ROOT
from tests.dataset_helpers import (
    DATASETS,
    PARKING_COUNT,
    PARKING_GEOJSON,
    dataset_pipeline,
    fingerprint,
    run_dataset,
    set_config,
    start_services,
)

RUTER_QUAYS = ROOT / "demo" / "ruter2021_quays_nsr.csv"  # 7,317 quays, lon/lat columns
ATLAS = FIXTURES / "stops" / "atlas-sample.csv"  # semicolon-separated, wgs84East/North
HSL = ROOT / "bench" / "data" / "hsl-stop-data-2020-07-22.csv"  # X/Y in EPSG:2392
OSLO_PBF = ROOT / "bench" / "data" / "oslo-center-2025.osm.pbf"  # OpenStreetMap extract


@pytest.fixture
def services():
    server, seen = start_services()
    yield seen
    server.shutdown()
    server.server_close()


def _one(conn, query: str, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        row = cur.fetchone()
    conn.commit()
    return row


def _published_points(conn, slug: str) -> dict[int, tuple[float, float]]:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT osm_id, ST_X(geom), ST_Y(geom) FROM {}").format(
            sql.Identifier("datasets", slug)))
        out = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    conn.commit()
    return out


def _geojson_points() -> dict[int, tuple[float, float]]:
    doc = json.loads(PARKING_GEOJSON.read_text())
    return {f["properties"]["osm_id"]: tuple(f["geometry"]["coordinates"])
            for f in doc["features"]}


def test_a_geojson_file_becomes_a_typed_table(settings_env, db_conn):
    p = dataset_pipeline(db_conn, "parking", slug="bicycle_parking",
                         source=str(PARKING_GEOJSON), title="Bicycle parking")
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["features_published"] == PARKING_COUNT
    columns = _one(db_conn, "SELECT columns FROM published_datasets WHERE slug = %s",
                   "bicycle_parking")[0]
    assert dict(map(tuple, columns)) == {
        "osm_id": "bigint", "name": "text", "capacity": "bigint", "bicycle_parking": "text",
        "covered": "text", "access": "text", "operator": "text"}
    # the 78 parkings OSM gives no numeric capacity are NULL, not 0
    assert _one(db_conn, "SELECT count(*) FILTER (WHERE capacity IS NULL), sum(capacity), "
                "ST_SRID(min(geom_3857)) FROM datasets.bicycle_parking") [0] == 78
    assert _published_points(db_conn, "bicycle_parking") == _geojson_points()


@pytest.mark.parametrize(("name", "extra"), [
    ("oslo-bicycle-parking.gpkg", {}),
    ("oslo-bicycle-parking.fgb", {}),
    ("oslo-bicycle-parking.gml", {}),
    ("oslo-bicycle-parking.kml", {}),
    ("oslo-bicycle-parking.kmz", {}),
    ("oslo-bicycle-parking-utm33.zip", {}),  # a zipped Shapefile in EPSG:25833
])
def test_every_file_format_gives_the_same_points(settings_env, db_conn, name, extra):
    p = dataset_pipeline(db_conn, "parking", slug="parking",
                         source=str(DATASETS / name), **extra)
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["features_published"] == PARKING_COUNT
    with db_conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM datasets.parking ORDER BY 1, 2")
        got = cur.fetchall()
    db_conn.commit()
    want = sorted(_geojson_points().values())
    # the Shapefile went to UTM 33N and back: the same points within a millimetre
    assert len(got) == len(want)
    assert max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(got, want,
                                                                       strict=True)) < 1e-7


def test_a_csv_with_lon_lat_columns(settings_env, db_conn):
    p = dataset_pipeline(db_conn, "quays", slug="quays", source=str(RUTER_QUAYS))
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["features_published"] == 7317
    row = _one(db_conn, "SELECT name, ST_X(geom), ST_Y(geom) FROM datasets.quays "
               "WHERE quay_id = 'NSR:Quay:104502'")
    assert row == ("Grefsenveien", 10.77149, 59.941409)


def test_a_semicolon_csv_in_windows_1252_is_detected(settings_env, db_conn, tmp_path):
    """The ATLAS export as an older spreadsheet would save it: the same rows, cp1252."""
    text = ATLAS.read_text(encoding="utf-8")
    legacy = tmp_path / "atlas-cp1252.csv"
    legacy.write_bytes(text.encode("cp1252", errors="replace"))
    p = dataset_pipeline(db_conn, "atlas", slug="atlas", source=str(legacy),
                         lon="wgs84East", lat="wgs84North")
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
    assert run["counts"]["features_published"] == len(rows)
    names = {r["designationofficial"] for r in rows} if "designationofficial" in rows[0] \
        else {r["designationOfficial"] for r in rows}
    with db_conn.cursor() as cur:
        cur.execute("SELECT designationofficial FROM datasets.atlas")
        got = {r[0] for r in cur.fetchall()}
    db_conn.commit()
    assert got == names and any(ch in "".join(got) for ch in "äöüéè")


@pytest.fixture
def hsl_csv(tmp_path):
    """The benchmark's copy of HSL's register, put in the import directory."""
    path = tmp_path / HSL.name
    path.write_bytes(HSL.read_bytes())
    return path


def test_a_projected_csv_is_reprojected(settings_env, db_conn, hsl_csv):
    """HSL's register: X/Y in the Finnish KKJ grid (EPSG:2392), given as the 'crs'."""
    p = dataset_pipeline(db_conn, "hsl", slug="hsl_stops", source=str(hsl_csv), crs="EPSG:2392",
                         lon="X", lat="Y")
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["features_published"] == 12623
    inside = _one(db_conn, "SELECT count(*) FROM datasets.hsl_stops "
                  "WHERE geom && ST_MakeEnvelope(24.0, 59.9, 25.6, 60.6, 4326)")[0]
    assert inside > 0.99 * 12623  # the Helsinki region (a few stops lie beyond)
    # Yliopisto (1010101) is at the University's main building on Unioninkatu
    lon, lat = _one(db_conn, "SELECT ST_X(geom), ST_Y(geom) FROM datasets.hsl_stops "
                    "WHERE solmutunnu = 1010101")
    assert abs(lon - 24.9497) < 0.002 and abs(lat - 60.1695) < 0.002


def test_a_paged_wfs_arrives_complete(settings_env, db_conn, services):
    p = dataset_pipeline(db_conn, "wfs", slug="wfs_parking", source_type="wfs",
                         source=f"{services.base}/wfs", layer="bicycle_parking", page_size=100)
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert services.wfs_start_indexes == [0, 100, 200, 300, 400]
    assert run["counts"]["features_published"] == PARKING_COUNT
    assert _published_points(db_conn, "wfs_parking") == _geojson_points()


def test_ogc_api_features_follows_next_links(settings_env, db_conn, services):
    p = dataset_pipeline(db_conn, "ogc", slug="ogc_parking", source_type="ogcapi",
                         source=f"{services.base}/ogcapi", layer="bicycle_parking",
                         page_size=200)
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert services.ogc_offsets == [0, 200, 400]
    assert _published_points(db_conn, "ogc_parking") == _geojson_points()


def test_a_ckan_package_id_finds_its_resource(settings_env, db_conn, services):
    p = dataset_pipeline(db_conn, "ckan", slug="ckan_parking", source_type="ckan",
                         source=f"{services.base}/ckan", package="oslo-bicycle-parking")
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["features_published"] == PARKING_COUNT
    missing = dataset_pipeline(db_conn, "ckan2", slug="ckan_missing", source_type="ckan",
                               source=f"{services.base}/ckan", package="no-such-package")
    failed = run_dataset(settings_env, missing)
    assert failed["status"] == "failed"
    assert "HTTP 404" in failed["message"]


def test_an_overpass_query_goes_to_the_configured_endpoint(settings_env, db_conn, services):
    query = "[out:xml];node[amenity=bicycle_parking](59.90,10.72,59.94,10.78);out;"
    p = dataset_pipeline(db_conn, "overpass", slug="osm_parking", source_type="overpass",
                         query=query)
    run = run_dataset(settings_env, p, overpass_url=f"{services.base}/overpass/interpreter")
    assert run["status"] == "succeeded", run["message"]
    assert services.overpass_queries == [query]
    assert run["counts"]["features_published"] == PARKING_COUNT
    # GDAL's OSM driver keeps the tags it has no column for in other_tags
    assert _one(db_conn, "SELECT count(*) FROM datasets.osm_parking "
                "WHERE other_tags LIKE '%%bicycle_parking%%'")[0] == PARKING_COUNT


def test_a_broken_file_fails_and_leaves_the_dataset(settings_env, db_conn, tmp_path):
    p = dataset_pipeline(db_conn, "parking", slug="parking", source=str(PARKING_GEOJSON))
    assert run_dataset(settings_env, p)["status"] == "succeeded"
    before = fingerprint(db_conn, "parking")
    broken = tmp_path / "truncated.geojson"
    broken.write_bytes(PARKING_GEOJSON.read_bytes()[:50_000])
    set_config(db_conn, p, slug="parking", source=str(broken))
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "truncated.geojson" in run["message"] and "cannot read" in run["message"]
    assert fingerprint(db_conn, "parking") == before


def test_schema_drift_set_to_fail_leaves_the_dataset(settings_env, db_conn):
    p = dataset_pipeline(db_conn, "parking", slug="parking", source=str(PARKING_GEOJSON))
    assert run_dataset(settings_env, p)["status"] == "succeeded"
    before = fingerprint(db_conn, "parking")
    # the KML of the same parkings has other columns (name, description, ...)
    set_config(db_conn, p, slug="parking", on_drift="fail",
               source=str(DATASETS / "oslo-bicycle-parking.kml"))
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "schema drift" in run["message"] and "column description added" in run["message"]
    assert fingerprint(db_conn, "parking") == before
    # adapting (the default) publishes the new schema and says what changed
    set_config(db_conn, p, slug="parking", source=str(DATASETS / "oslo-bicycle-parking.kml"))
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["schema_changes"] > 0
    assert any("column capacity changed type bigint → text" in line["msg"]
               for line in run["log"])


def test_bad_input_names_file_feature_and_column(settings_env, db_conn, tmp_path):
    rows = RUTER_QUAYS.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[5].split(",")
    cells[header.index("lat")] = ""
    rows[5] = ",".join(cells)
    bad = tmp_path / "quays-one-without-lat.csv"
    bad.write_text("\n".join(rows) + "\n")
    p = dataset_pipeline(db_conn, "quays", slug="quays", source=str(bad))
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "quays-one-without-lat.csv, feature 5: no geometry" in run["message"]
    assert "lon/lat" in run["message"]
    assert _one(db_conn, "SELECT count(*) FROM published_datasets")[0] == 0


def _osm_layer(tmp_path, layer: str):
    """A layer of the OSM extract as a GeoPackage in the import directory. Its
    multipolygons clipped at the extract's edge (rings of two points) are left out:
    GEOS cannot read them (test_a_shape_geos_cannot_read_is_named)."""
    one_ring = layer == "polygons"  # the multipolygons' one-ring parts, as Polygons
    meta, _, wkb, fields = pyogrio.raw.read(str(OSLO_PBF),
                                            layer="multipolygons" if one_ring else layer)
    shapes = shapely.from_wkb(wkb, on_invalid="ignore")
    keep = ~shapely.is_missing(shapes)
    if one_ring:
        keep &= (shapely.get_num_geometries(shapes) == 1)
        keep[keep] &= shapely.get_num_interior_rings(shapely.get_geometry(shapes[keep], 0)) == 0
        wkb = np.array([None] * len(wkb), dtype=object)
        wkb[keep] = shapely.to_wkb(shapely.get_geometry(shapes[keep], 0))
    path = tmp_path / f"oslo-{layer}.gpkg"
    pyogrio.raw.write(str(path), wkb[keep], [f[keep] for f in fields], list(meta["fields"]),
                      driver="GPKG", crs="EPSG:4326",
                      geometry_type="Polygon" if one_ring else meta["geometry_type"])
    return path


@pytest.mark.parametrize("layer", ["multipolygons", "polygons", "lines", "points"])
def test_the_tile_geometry_is_where_postgis_puts_it(settings_env, db_conn, tmp_path, layer):
    """The reader computes geom_3857 itself (in the WKB buffer for points, lines and
    one-ring polygons, through shapely for holes and multi-part shapes): on OSM's real
    buildings with courtyards, multipolygons, one-ring buildings, roads and points, it is
    PostGIS's own ST_Transform, so the dataset's tiles and bbox queries find every
    feature in place."""
    p = dataset_pipeline(db_conn, "oslo", slug="oslo", source=str(_osm_layer(tmp_path, layer)))
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    count, worst, kinds = _one(db_conn, (
        "SELECT count(*), max(ST_HausdorffDistance(geom_3857, ST_Transform(geom, 3857))), "
        "array_agg(DISTINCT GeometryType(geom_3857) || ST_NumGeometries(geom_3857) || "
        "ST_NumInteriorRings(ST_GeometryN(geom_3857, 1))) FROM datasets.oslo"))
    assert count == run["counts"]["features_published"] > 10_000
    assert worst < 1e-6  # metres
    # the catalog's count and bbox (the reader's, not a scan) are the table's
    catalog_count, bbox, extent = _one(db_conn, (
        "SELECT feature_count, bbox, (SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), "
        "ST_YMax(e)] FROM (SELECT ST_Extent(geom) AS e FROM datasets.oslo) x) "
        "FROM published_datasets WHERE slug = 'oslo'"))
    assert catalog_count == count
    # ST_Extent reads PostGIS's single-precision boxes of lines and polygons
    assert max(abs(a - b) for a, b in zip(bbox, extent, strict=True)) < 1e-5
    if layer == "multipolygons":  # one-ring polygons, courtyards and several parts
        assert {"MULTIPOLYGON10", "MULTIPOLYGON11"} <= set(kinds)
        assert any(k.startswith("MULTIPOLYGON") and not k.startswith("MULTIPOLYGON1")
                   for k in kinds)


def test_a_shape_geos_cannot_read_is_named(settings_env, db_conn, tmp_path):
    pbf = tmp_path / OSLO_PBF.name  # into the import directory
    pbf.write_bytes(OSLO_PBF.read_bytes())
    p = dataset_pipeline(db_conn, "oslo", slug="oslo", source=str(pbf), layer="multipolygons")
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "oslo-center-2025.osm.pbf, feature " in run["message"]
    assert "its geometry is not a valid shape (" in run["message"]
    assert "LinearRing" in run["message"]  # GEOS's reason: a ring of two points
    assert _one(db_conn, "SELECT count(*) FROM published_datasets")[0] == 0


def test_a_projected_csv_read_as_lon_lat_is_refused(settings_env, db_conn, hsl_csv):
    p = dataset_pipeline(db_conn, "hsl", slug="hsl", source=str(hsl_csv), lon="X", lat="Y")
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "feature 1, columns X/Y: coordinates outside longitude" in run["message"]


def test_upsert_by_key_writes_only_what_changed(settings_env, db_conn, tmp_path):
    p = dataset_pipeline(db_conn, "quays", slug="quays", source=str(RUTER_QUAYS),
                         mode="upsert", key="quay_id")
    first = run_dataset(settings_env, p)
    assert first["status"] == "succeeded", first["message"]
    rows = RUTER_QUAYS.read_text().splitlines()
    gone = rows.pop(10).split(",")[0]
    renamed = rows[20].split(",")
    renamed[1] = "Renamed quay"
    rows[20] = ",".join(renamed)
    newer = tmp_path / "quays-newer.csv"
    newer.write_text("\n".join(rows) + "\n")
    set_config(db_conn, p, slug="quays", source=str(newer), mode="upsert", key="quay_id")
    fid_before = _one(db_conn, "SELECT fid FROM datasets.quays WHERE quay_id = %s",
                      renamed[0])[0]
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert (run["counts"]["features_inserted"], run["counts"]["features_updated"],
            run["counts"]["features_deleted"]) == (0, 1, 1)
    assert _one(db_conn, "SELECT count(*) FROM datasets.quays WHERE quay_id = %s",
                gone)[0] == 0
    assert _one(db_conn, "SELECT fid, name FROM datasets.quays WHERE quay_id = %s",
                renamed[0]) == (fid_before, "Renamed quay")
    # a key given twice is bad input, named by feature and column
    rows[30] = rows[31]
    newer.write_text("\n".join(rows) + "\n")
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "column quay_id: the key is the same as another feature's" in run["message"]
