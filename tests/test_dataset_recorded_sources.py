"""The dataset pipeline's remote sources against answers real servers gave, served by a local
server (tests/recorded_services_helpers.py; the recordings and where they come from are in
tests/fixtures/datasets/recorded/ATTRIBUTION.md).

No OGC API Features answer recorded from a real server was found in a public repository:
following next links stays tested against the synthetic server of tests/test_datasets.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from psycopg2 import sql

from tests.dataset_helpers import dataset_pipeline, fingerprint, run_dataset, set_config
from tests.recorded_services_helpers import (
    CKAN_DEMO,
    CKAN_PACKAGES,
    GNIS_COUNT,
    start_recorded_services,
)

# three of the 20 places GeoServer answered, where they are (lon, lat) and what it said of
# them; the WFS 1.1 answer writes them latitude first, the WFS 1.0 (GML 2) one longitude
# first: both must publish the same positions. Calca is in Peru's Sacred Valley (13°S 72°W).
GNIS_PLACES = {
    "gnis_pop.148604": ("Aflu", "Algeria", 84683, (2.09, 34.12)),
    "gnis_pop.148619": ("Calca", "Peru", 9179, (-71.97, -13.32)),
    "gnis_pop.148621": ("Cary", "United States of America", 226, (-67.86, 46.0)),
}


@pytest.fixture
def recorded():
    server, seen = start_recorded_services()
    yield seen
    server.shutdown()
    server.server_close()


def _rows(conn, query: sql.Composable, *args) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, args)
        rows = cur.fetchall()
    conn.commit()
    return rows


def _places(conn, slug: str) -> dict[str, tuple]:
    rows = _rows(conn, sql.SQL("SELECT gml_id, name, country, population, ST_X(geom), "
                               "ST_Y(geom) FROM {}").format(sql.Identifier("datasets", slug)))
    return {r[0]: (r[1], r[2], r[3], (round(r[4], 6), round(r[5], 6))) for r in rows}


def _published(conn, slug: str) -> int:
    return _rows(conn, sql.SQL("SELECT count(*) FROM published_datasets WHERE slug = %s"),
                 slug)[0][0]


@pytest.mark.parametrize(("service", "page_size", "start_indexes"), [
    ("gnis11", 7, [0, 7, 14]),  # the last page short
    ("gnis11", 10, [0, 10, 20]),  # the last page empty: 20 is a multiple of 10
    ("gnis10", 7, [0, 7, 14]),  # GML 2, longitude first
])
def test_a_paged_geoserver_wfs_arrives_complete(settings_env, db_conn, recorded, service,
                                                page_size, start_indexes):
    """GeoServer's recorded answer of 20 places, cut into pages of page_size members (each
    member as recorded; the recording is one answer, see recorded_services_helpers)."""
    p = dataset_pipeline(db_conn, "gnis", slug="gnis", source_type="wfs",
                         source=f"{recorded.base}/wfs/{service}", layer="topp:gnis_pop",
                         page_size=page_size)
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert recorded.wfs_start_indexes == start_indexes
    assert run["counts"]["features_published"] == GNIS_COUNT
    places = _places(db_conn, "gnis")
    assert len(places) == GNIS_COUNT
    assert {k: places[k] for k in GNIS_PLACES} == GNIS_PLACES
    # the pages are gone, and so are the .gfs files GDAL wrote beside them
    assert os.listdir(Path(settings_env["PORTAL_DATA_DIR"]) / "downloads") == []


def test_both_wfs_versions_publish_the_same_places(settings_env, db_conn, recorded):
    """The same 20 features as WFS 1.1 (lat/lon, urn:x-ogc:def:crs:EPSG:4326) and WFS 1.0
    (lon/lat, http://www.opengis.net/gml/srs/epsg.xml#4326) end at the same positions."""
    for service in ("gnis11", "gnis10"):
        p = dataset_pipeline(db_conn, service, slug=service, source_type="wfs",
                             source=f"{recorded.base}/wfs/{service}", layer="topp:gnis_pop")
        run = run_dataset(settings_env, p)
        assert run["status"] == "succeeded", run["message"]
    assert _places(db_conn, "gnis11") == _places(db_conn, "gnis10")
    assert len(_places(db_conn, "gnis11")) == GNIS_COUNT


def test_an_arcgis_wfs_2_answer_with_number_matched_unknown(settings_env, db_conn, recorded):
    """ArcGIS Server's WFS 2.0 answer: numberMatched="unknown", a MultiSurface in
    urn:ogc:def:crs:EPSG::4326 (latitude first) whose ring reaches latitude 90.0001."""
    p = dataset_pipeline(db_conn, "world", slug="world", source_type="wfs",
                         source=f"{recorded.base}/wfs/arcgis", layer="esri:World")
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    assert recorded.wfs_start_indexes == [0]  # one feature, fewer than a page: the last
    (row,) = _rows(db_conn, sql.SQL(
        "SELECT objectid, wrld30_id, shape_area, GeometryType(geom), ST_XMin(geom), "
        "ST_XMax(geom), round(ST_YMin(geom)::numeric, 4)::float8, ST_YMax(geom) "
        "FROM datasets.world"))
    # the Arctic cell from 180°W to 150°W, above 60°N: longitudes are x; the ring's
    # 90.0001220703125 (float rounding past the pole) is put on the pole
    assert row == (1, 1, 900, "MULTIPOLYGON", -180, -150, 60.0001, 90)


def test_a_wfs_that_ignores_start_index_is_refused(settings_env, db_conn, recorded):
    """Asked one feature a page, the ArcGIS recording is the answer to every page: the run
    stops at the second page instead of publishing the same feature thousands of times."""
    p = dataset_pipeline(db_conn, "world", slug="world", source_type="wfs",
                         source=f"{recorded.base}/wfs/arcgis", layer="esri:World",
                         page_size=1)
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "page 2 begins with the same feature as page 1" in run["message"]
    assert "ignores startIndex" in run["message"]
    assert recorded.wfs_start_indexes == [0, 1]
    assert _published(db_conn, "world") == 0


@pytest.mark.parametrize("package", ["62513382-3b26-4bc8-9096-40b6ce8383c0",
                                     "100-validated-species-of-plants"])
def test_a_recorded_ckan_package_leads_to_its_resource(settings_env, db_conn, recorded,
                                                       package):
    """demo.ckan.org's package_show, asked by id or by name: the resource it names is
    downloaded from where the package says. That resource was not recorded (and is gone
    from demo.ckan.org), so the download fails, by name, and nothing is published."""
    recording = CKAN_PACKAGES[package].read_text()
    resource_path = ("/dataset/62513382-3b26-4bc8-9096-40b6ce8383c0/resource/"
                     "bf4d5116-634e-43f2-a41c-9ae22d362083/download/validated_100_species.csv")
    assert CKAN_DEMO + resource_path in recording  # where the package says it is
    p = dataset_pipeline(db_conn, "ckan", slug="species", source_type="ckan",
                         source=f"{recorded.base}/ckan", package=package)
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert recorded.requests[-1] == resource_path
    assert "HTTP 404" in run["message"] and "validated_100_species.csv" in run["message"]
    assert _published(db_conn, "species") == 0


def test_a_ckan_package_without_a_readable_resource_is_refused(settings_env, db_conn,
                                                               recorded):
    p = dataset_pipeline(db_conn, "ckan", slug="regulation", source_type="ckan",
                         source=f"{recorded.base}/ckan",
                         package="1617in10-regulation-of-sale-of-overseas-properties-20170426-c")
    run = run_dataset(settings_env, p)
    assert run["status"] == "failed"
    assert "no resource in a format GDAL reads" in run["message"]
    assert len(recorded.requests) == 1  # the PDF was not downloaded


def test_overpass_xml_json_and_a_runtime_error(settings_env, db_conn, recorded):
    """overpass-api.de's answers to the same nodes as OSM XML and as JSON, and its answer
    when a query timed out (HTTP 200, a <remark> and no data)."""
    query = "node(50.745,7.17,50.75,7.18);out;"
    p = dataset_pipeline(db_conn, "overpass", slug="bonn_nodes", source_type="overpass",
                         query=query)
    run = run_dataset(settings_env, p, overpass_url=recorded.overpass_url)
    assert run["status"] == "succeeded", run["message"]
    # GDAL's points layer keeps the nodes with tags: one of the three, a turning circle
    (row,) = _rows(db_conn, sql.SQL("SELECT osm_id, highway, ST_X(geom), ST_Y(geom) "
                                    "FROM datasets.bonn_nodes"))
    assert row == ("100793192", "turning_circle", 7.1709376, 50.7468472)
    before = fingerprint(db_conn, "bonn_nodes")

    recorded.overpass_answer = "timeout"
    run = run_dataset(settings_env, p, overpass_url=recorded.overpass_url)
    assert run["status"] == "failed"
    assert "runtime error" in run["message"] and "timed out" in run["message"]
    assert fingerprint(db_conn, "bonn_nodes") == before

    recorded.overpass_answer = "json"
    set_config(db_conn, p, slug="bonn_nodes", source_type="overpass",
               query="[out:json];" + query)
    run = run_dataset(settings_env, p, overpass_url=recorded.overpass_url)
    assert run["status"] == "failed"
    assert "[out:xml]" in run["message"]
    assert fingerprint(db_conn, "bonn_nodes") == before


def test_an_overpass_way_read_as_multipolygons(settings_env, db_conn, recorded):
    """overpass-api.de's answer of a closed building way and its six nodes, read from GDAL's
    multipolygons layer (the dataset's 'layer')."""
    recorded.overpass_answer = "way"
    p = dataset_pipeline(db_conn, "overpass", slug="bonn_building", source_type="overpass",
                         query="way(317146077);(._;>;);out;", layer="multipolygons")
    run = run_dataset(settings_env, p, overpass_url=recorded.overpass_url)
    assert run["status"] == "succeeded", run["message"]
    (row,) = _rows(db_conn, sql.SQL(
        "SELECT osm_way_id, building, GeometryType(geom), ST_NPoints(geom), ST_XMin(geom), "
        "ST_XMax(geom), ST_YMin(geom), ST_YMax(geom) FROM datasets.bonn_building"))
    # the way's seven node references (closed), spanning its nodes' recorded lon/lat
    assert row == ("317146077", "yes", "MULTIPOLYGON", 7,
                   7.1756064, 7.1758868, 50.7494187, 50.7495516)
