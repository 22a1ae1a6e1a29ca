"""Helpers shared by the stops tests: the golden case of stop_sync_osm_atlas published by
real pipeline runs, stops pipelines and users made in the database, decisions recorded
through the review service, the published data read back, and ATLAS service-point rows."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES
from tests.osm_helpers import gen_pipeline, run_inline

STOPS = FIXTURES / "stops"
GOLDEN_ATLAS = STOPS / "swiss_example_stops_ATLAS.csv"
EXPECTED = json.loads((STOPS / "swiss_example_expected.json").read_text())
GOLDEN_PAIRS = {(a, f"n{b}") for a, b, _method, _d in EXPECTED["pairs"]}


def gen_stops_pipeline(conn, name: str, source, **config) -> int:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO pipelines (name, kind, config, enabled) "
                    "VALUES (%s, 'stops_import', %s, true) RETURNING id",
                    (name, json.dumps({"source": str(source), **config})))
        pipeline_id = cur.fetchone()[0]
    conn.commit()
    return pipeline_id


def gen_user(conn, sub: str = "rita", role: str = "operator") -> int:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO users (issuer, subject, email, display_name, role) "
                    "VALUES ('tests', %s, %s, %s, %s) RETURNING id",
                    (sub, f"{sub}@example.org", sub.title(), role))
        user_id = cur.fetchone()[0]
    conn.commit()
    return user_id


def golden_osm_file(tmp_path):
    """The golden OSM XML with the version attribute osmium requires (see the fixture's
    ATTRIBUTION.md); the fixture itself stays as published."""
    xml = (STOPS / "swiss_example_osm.xml").read_text(encoding="utf-8")
    path = tmp_path / "swiss_example.osm"
    path.write_text(xml.replace("<osm>", '<osm version="0.6">', 1), encoding="utf-8")
    return path


def atlas_file(tmp_path, name: str = "atlas.csv", rename: dict | None = None,
               drop: tuple[str, ...] = ()):
    """The golden ATLAS registry, with official names changed and rows left out."""
    lines = GOLDEN_ATLAS.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(";")
        if fields[0] in drop:
            continue
        fields[3] = (rename or {}).get(fields[0], fields[3])
        out.append(";".join(fields))
    path = tmp_path / name
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def load_golden_osm(env, conn, tmp_path) -> None:
    run = run_inline(env, gen_pipeline(conn, "golden-osm", str(golden_osm_file(tmp_path))))
    assert run["status"] == "succeeded", run["message"]


def publish_golden(env, conn, tmp_path) -> int:
    """OSM stops and the registry of the golden case, published by real pipeline runs;
    returns the stops pipeline's id."""
    load_golden_osm(env, conn, tmp_path)
    pipeline = gen_stops_pipeline(conn, "atlas", GOLDEN_ATLAS, format="atlas")
    run = run_inline(env, pipeline)
    assert run["status"] == "succeeded", run["message"]
    return pipeline


def publish_golden_with_a_renamed_stop(env, conn, tmp_path) -> None:
    """The golden case plus a registry stop "Bahnhofstrasse" 3.3 m from the OSM platform
    "Unmatched OSM" (node 9): no OSM stop near it has its name, nor any registry stop near
    node 9 that one, so its problem offers node 9 as renamed."""
    load_golden_osm(env, conn, tmp_path)
    registry = tmp_path / "atlas.csv"
    registry.write_text(GOLDEN_ATLAS.read_text(encoding="utf-8")
                        + "ch:1:sloid:renamed;8500016;;Bahnhofstrasse;47.19997;8.0;TEST\n",
                        encoding="utf-8")
    run = run_inline(env, gen_stops_pipeline(conn, "atlas", registry, format="atlas"))
    assert run["status"] == "succeeded", run["message"]


def published_pairs(conn) -> set[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT official_id, osm_key FROM stop_matches")
        rows = set(cur.fetchall())
    conn.commit()
    return rows


def published_problems(conn) -> set[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT official_id, osm_key, type, priority, decision_id IS NOT NULL "
                    "FROM stop_problems")
        rows = set(cur.fetchall())
    conn.commit()
    return rows


def decision_status(conn, decision_id: int) -> tuple[str, str | None]:
    with conn.cursor() as cur:
        cur.execute("SELECT status, review_reason FROM stop_decisions WHERE id = %s",
                    (decision_id,))
        row = cur.fetchone()
    conn.commit()
    return row


def stops_fingerprint(conn) -> tuple:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT md5(string_agg(stop_id || coalesce(name, '') || ST_AsText(geom), ','"
            "         ORDER BY stop_id)) FROM official_stops), "
            "(SELECT md5(string_agg(official_id || osm_key || method, ',' ORDER BY "
            "         official_id, osm_key)) FROM stop_matches), "
            "(SELECT md5(string_agg(type || coalesce(official_id, '') || coalesce(osm_key, ''),"
            "         ',' ORDER BY id)) FROM stop_problems), "
            "(SELECT count(*) FROM stop_publications)")
        row = cur.fetchone()
    conn.commit()
    return row


def record(app, user_id: int, action: str, official_id=None, osm_key=None, **kwargs) -> int:
    """A decision through the review service, as the review page records it."""
    from app.stops import service
    with app.app_context():
        return service.record_decision(user_id, action, official_id, osm_key, **kwargs).id


# The header of ATLAS's service-point export, one row per stop place: the column order of
# ATLAS's own CSV model (ch.sbb.importservice ... ServicePointUpdateCsvModel in the ATLAS
# source, github.com/iuccio/atlas); service_point() writes rows for the tests
SERVICE_POINT_HEADER = (
    "numberShort;uicCountryCode;sloid;number;checkDigit;validFrom;validTo;designationOfficial;"
    "designationLong;abbreviation;operatingPoint;operatingPointWithTimetable;stopPoint;"
    "stopPointType;freightServicePoint;trafficPoint;borderPoint;hasGeolocation;isoCountryCode;"
    "cantonName;cantonFsoNumber;cantonAbbreviation;districtName;districtFsoNumber;"
    "municipalityName;fsoNumber;localityName;operatingPointType;"
    "operatingPointTechnicalTimetableType;meansOfTransport;categories;"
    "operatingPointTrafficPointType;operatingPointRouteNetwork;operatingPointKilometer;"
    "operatingPointKilometerMasterNumber;sortCodeOfDestinationStation;businessOrganisation;"
    "businessOrganisationNumber;businessOrganisationAbbreviationDe;"
    "businessOrganisationAbbreviationFr;businessOrganisationAbbreviationIt;"
    "businessOrganisationAbbreviationEn;businessOrganisationDescriptionDe;"
    "businessOrganisationDescriptionFr;businessOrganisationDescriptionIt;"
    "businessOrganisationDescriptionEn;fotComment;lv95East;lv95North;wgs84East;wgs84North;"
    "height;creationDate;editionDate;status")


def service_point(**values: str) -> str:
    """One service-point row: Vernayaz, as the traffic-point sample places its station."""
    row = {c: "" for c in SERVICE_POINT_HEADER.split(";")}
    row.update(numberShort="1405", uicCountryCode="85", sloid="ch:1:sloid:1405",
               number="8501405", checkDigit="0", validFrom="2024-11-21", validTo="9999-12-31",
               designationOfficial="Vernayaz", stopPoint="true", stopPointType="ORDERLY",
               isoCountryCode="CH", localityName="Vernayaz", meansOfTransport="TRAIN",
               businessOrganisation="ch:1:sboid:100001",
               businessOrganisationAbbreviationDe="SBB",
               businessOrganisationAbbreviationEn="SBB",
               businessOrganisationDescriptionEn="Swiss Federal Railways SBB",
               wgs84East="7.0385", wgs84North="46.1386", status="VALIDATED")
    row.update(values)
    return ";".join(row.values())
