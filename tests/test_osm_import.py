"""The OSM import: what it loads, that re-importing changes nothing, and that broken input
fails the run with a message naming the problem while the published data stays as it was."""

import gzip
import json
import shutil

import pytest

from tests.conftest import FIXTURES, OSLO_PBF
from tests.http_helpers import serve_directory
from tests.osm_helpers import gen_pipeline, published_fingerprint, run_inline
from tests.stop_matching_helpers import STOP_AREA_OSM

BOEBLINGEN = FIXTURES / "osm" / "boeblingen-minimal.osm.pbf"
MONACO_XML_GZ = FIXTURES / "osm" / "monaco-2012.osm.gz"


def test_oslo_extract_loads_roads_and_stops_with_their_tags(settings_env, db_conn):
    pipeline = gen_pipeline(db_conn, "oslo", str(OSLO_PBF))
    run = run_inline(settings_env, pipeline)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["roads_inserted"] == 14233
    assert run["counts"]["stops_inserted"] == 939
    with db_conn.cursor() as cur:
        cur.execute("SELECT kind, count(*) FROM osm_stops GROUP BY kind")
        kinds = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM osm_roads WHERE maxspeed IS NOT NULL")
        with_maxspeed = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM osm_roads WHERE cycleway <> '{}'::jsonb")
        with_cycleway = cur.fetchone()[0]
        # who may ride where; a plain pyosmium scan of the file counts 1,564 sidewalk ways,
        # 22 bus-only ones and 76 with a sidewalk tag, a few of them areas or cut at the border
        cur.execute("SELECT count(*) FILTER (WHERE access->>'footway' = 'sidewalk'), "
                    "count(*) FILTER (WHERE access->>'psv' = 'yes' AND "
                    "(access->>'vehicle' = 'no' OR access->>'motor_vehicle' = 'no')), "
                    "count(*) FILTER (WHERE access ? 'sidewalk'), "
                    "count(*) FILTER (WHERE access->>'bicycle' IS NOT NULL) FROM osm_roads")
        sidewalks, bus_only, sidewalk_tagged, bicycle_tagged = cur.fetchone()
        cur.execute("SELECT ST_SRID(geom), ST_SRID(geom_3857), "
                    "ST_Within(geom, ST_MakeEnvelope(10.5, 59.8, 11.1, 60.0, 4326)) "
                    "FROM osm_roads LIMIT 1")
        srid, srid_3857, in_oslo = cur.fetchone()
    # 415 stop positions, counted independently with a plain pyosmium scan of the file
    assert kinds["stop_position"] == 415 and kinds["platform"] >= 500
    assert with_maxspeed > 1000 and with_cycleway > 50
    assert 1550 <= sidewalks <= 1564 and 20 <= bus_only <= 22 and 70 <= sidewalk_tagged <= 76
    assert bicycle_tagged > 500
    assert (srid, srid_3857, in_oslo) == (4326, 3857, True)


def test_osm_xml_gz_is_read_too(settings_env, db_conn):
    run = run_inline(settings_env, gen_pipeline(db_conn, "monaco", str(MONACO_XML_GZ)))
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["roads_inserted"] > 800


def test_importing_the_same_file_again_changes_nothing(settings_env, db_conn):
    pipeline = gen_pipeline(db_conn, "oslo", str(OSLO_PBF))
    assert run_inline(settings_env, pipeline)["status"] == "succeeded"
    with db_conn.cursor() as cur:
        cur.execute("SELECT sum(xmin::text::bigint) FROM osm_roads")
        versions_before = cur.fetchone()[0]
    before = published_fingerprint(db_conn)
    again = run_inline(settings_env, pipeline)
    assert again["status"] == "succeeded"
    changes = {k: v for k, v in again["counts"].items() if k.endswith(("inserted", "updated",
                                                                       "deleted"))}
    assert set(changes.values()) == {0}
    assert published_fingerprint(db_conn) == before
    with db_conn.cursor() as cur:
        cur.execute("SELECT sum(xmin::text::bigint) FROM osm_roads")
        assert cur.fetchone()[0] == versions_before  # not one row was rewritten


def test_a_newer_extract_updates_adds_and_removes_rows(settings_env, db_conn):
    pipeline = gen_pipeline(db_conn, "area", str(BOEBLINGEN))
    first = run_inline(settings_env, pipeline)
    with db_conn.cursor() as cur:
        cur.execute("UPDATE pipelines SET config = %s WHERE id = %s",
                    (json.dumps({"source": str(MONACO_XML_GZ)}), pipeline))
    db_conn.commit()
    second = run_inline(settings_env, pipeline)
    assert second["counts"]["roads_deleted"] == first["counts"]["roads_inserted"]
    assert second["counts"]["roads_inserted"] == second["counts"]["roads_read"]


def _truncated(tmp_path):
    data = BOEBLINGEN.read_bytes()
    path = tmp_path / "truncated.osm.pbf"
    path.write_bytes(data[: len(data) // 2])
    return path


def _not_osm(tmp_path):
    path = tmp_path / "stops.osm.pbf"
    path.write_text("sloid;designation;lat;lon\nch:1:sloid:7000;A;46.9;7.4\n")
    return path


def _empty(tmp_path):
    path = tmp_path / "empty.osm.pbf"
    path.write_bytes(b"")
    return path


def _html(tmp_path):
    path = tmp_path / "download.osm"
    path.write_text("<html><body>502 Bad Gateway</body></html>")
    return path


def _broken_gzip(tmp_path):
    path = tmp_path / "broken.osm.gz"
    good = gzip.compress(b"<osm version='0.6'>" + b"<node id='1' lat='1' lon='1'/>" * 1000)
    path.write_bytes(good[: len(good) // 2])
    return path


def _nothing_useful(tmp_path):
    path = tmp_path / "benches.osm"
    path.write_text("<?xml version='1.0'?><osm version='0.6'><node id='1' lat='1' lon='1' "
                    "version='1'><tag k='amenity' v='bench'/></node></osm>")
    return path


def _missing(tmp_path):
    return tmp_path / "no-such-file.osm.pbf"


@pytest.mark.parametrize(
    ("make_input", "expected_message"),
    [
        (_truncated, "ends too early"),
        (_not_osm, "not an OSM PBF file"),
        (_empty, "is empty (0 bytes)"),
        (_html, "not OSM XML"),
        (_broken_gzip, "could not read broken.osm.gz"),
        (_nothing_useful, "holds no roads and no stops"),
        (_missing, "OSM file not found"),
    ],
    ids=["truncated-pbf", "csv-named-pbf", "empty", "html-named-osm", "broken-gzip",
         "no-roads-or-stops", "missing-file"],
)
def test_broken_input_fails_the_run_and_keeps_the_published_data(
        settings_env, db_conn, tmp_path, make_input, expected_message):
    good = gen_pipeline(db_conn, "good", str(BOEBLINGEN))
    assert run_inline(settings_env, good)["status"] == "succeeded"
    before = published_fingerprint(db_conn)
    assert before[0] > 0

    source = make_input(tmp_path)
    run = run_inline(settings_env, gen_pipeline(db_conn, "broken", str(source)))

    assert run["status"] == "failed"
    assert expected_message in run["message"]
    assert published_fingerprint(db_conn) == before
    with db_conn.cursor() as cur:  # no staging tables left behind
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'")
        assert cur.fetchone()[0] == 0


def test_osm_file_served_over_http_is_downloaded_and_imported(settings_env, db_conn,
                                                              tmp_path):
    shutil.copy(BOEBLINGEN, tmp_path / "extract.osm.pbf")
    server, base = serve_directory(tmp_path)
    try:
        url = f"{base}/extract.osm.pbf"
        run = run_inline(settings_env, gen_pipeline(db_conn, "remote", url))
        missing = run_inline(settings_env, gen_pipeline(db_conn, "gone", url + ".old"))
    finally:
        server.shutdown()
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["roads_inserted"] > 400
    assert missing["status"] == "failed"
    assert "404" in missing["message"]


def test_a_failed_first_import_publishes_nothing(settings_env, db_conn, tmp_path):
    # nothing is published yet, so roads are copied straight into osm_roads: the failure
    # half-way through the file must still leave the table empty
    run = run_inline(settings_env, gen_pipeline(db_conn, "first", str(_truncated(tmp_path))))
    assert run["status"] == "failed"
    assert published_fingerprint(db_conn)[:2] == (0, 0)


def test_two_osm_pipelines_share_one_lock_because_they_share_the_tables():
    from matching_and_import_db.pipelines.kinds import get_kind
    kind = get_kind("osm_import")
    assert kind.lock_name("oslo") == kind.lock_name("berlin")


@pytest.mark.parametrize(
    "name", ["Karl Johans gate", "tab\there", "new\nline", "back\\slash", "ÆØÅ æøå", None])
def test_road_lines_encode_like_the_generic_copy_encoder(name):
    from matching_and_import_db.copy import encode_value
    from matching_and_import_db.osm.pipeline import _road_line
    from matching_and_import_db.osm.reader import Road

    road = Road(7, "residential", name, None, "30", None, "DE:urban",
                {"cycleway:left": "lane"}, "0102", {"sidewalk": "separate"})
    generic = "\t".join(map(encode_value, (7, "residential", name, None, "30", None,
                                           "DE:urban", {"cycleway:left": "lane"},
                                           {"sidewalk": "separate"}, "0102")))
    assert _road_line(road, "0102") == generic


def test_stop_area_relations_are_kept_with_their_member_stops(settings_env, db_conn,
                                                              tmp_path):
    path = tmp_path / "area.osm"
    path.write_text(STOP_AREA_OSM, encoding="utf-8")
    pipeline = gen_pipeline(db_conn, "area", str(path))
    run = run_inline(settings_env, pipeline)
    assert run["status"] == "succeeded", run["message"]
    with db_conn.cursor() as cur:
        cur.execute("SELECT osm_type || osm_id, stop_areas, tags ->> 'bus' FROM osm_stops "
                    "ORDER BY osm_id")
        assert cur.fetchall() == [("n1", [77], "yes"), ("n2", [77], "yes"), ("n3", [], None)]
    # the relation leaving the file empties the list on the next import
    path.write_text(STOP_AREA_OSM.split("  <relation")[0] + "</osm>\n", encoding="utf-8")
    again = run_inline(settings_env, pipeline)
    assert again["counts"]["stops_updated"] == 2
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM osm_stops WHERE stop_areas <> '{}'")
        assert cur.fetchone()[0] == 0
