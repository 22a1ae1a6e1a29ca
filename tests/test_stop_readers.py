"""Registry readers: what they keep from real files (ATLAS, GTFS, NaPTAN, OSM), generic CSV and
GeoJSON with a column mapping, and the messages bad input gets (file, line, problem)."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest

from matching_and_import_db.errors import InputError
from matching_and_import_db.geodesy import great_circle_m
from matching_and_import_db.stops.readers import (
    read_atlas,
    read_gtfs_stops,
    read_mapped_csv,
    read_mapped_geojson,
    read_naptan,
    read_osm_stops,
)

FIXTURES = Path(__file__).parent / "fixtures"
STOPS = FIXTURES / "stops"
ATLAS_SAMPLE = STOPS / "atlas-sample.csv"
ATLAS_HEADER = ATLAS_SAMPLE.read_text(encoding="utf-8").splitlines()[0]


def atlas_file(tmp_path: Path, *rows: str, header: str = ATLAS_HEADER) -> str:
    path = tmp_path / "atlas.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def sample_row(index: int = 0) -> str:
    return ATLAS_SAMPLE.read_text(encoding="utf-8").splitlines()[1 + index]


def with_field(row: str, column: str, value: str) -> str:
    values = row.split(";")
    values[ATLAS_HEADER.split(";").index(column)] = value
    return ";".join(values)


# --- ATLAS -----------------------------------------------------------------------------

def test_atlas_export_keeps_ids_names_platform_operator_position_validity():
    read = read_atlas(str(ATLAS_SAMPLE))
    assert len(read.stops) == 40 and read.skipped == []
    vernayaz = read.stops[0]
    assert (vernayaz.source, vernayaz.stop_id, vernayaz.sloid) == (
        "atlas", "ch:1:sloid:1405:2:2", "ch:1:sloid:1405:2:2")
    assert (vernayaz.name, vernayaz.platform_code, vernayaz.operator) == ("Vernayaz", "2", "SBB")
    assert (vernayaz.uic_ref, vernayaz.didok) == ("8501405", "1405")
    assert (vernayaz.lon, vernayaz.lat) == (7.03852262003, 46.13858713762)
    assert (vernayaz.valid_from, vernayaz.valid_to) == (date(2024, 11, 21), date(9999, 12, 31))
    assert vernayaz.parent_id == "ch:1:sloid:1405"
    assert vernayaz.extra["operator_name"] == "Swiss Federal Railways SBB"
    assert vernayaz.extra["designation_operational"] == "137"
    # no designation: no platform code (designationOperational is an internal code)
    assert read.stops[2].platform_code is None
    assert read.stops[2].name == "Niederrohrdorf,Gemeindezentrum"


def test_atlas_minimal_golden_header_is_enough():
    read = read_atlas(str(STOPS / "swiss_example_stops_ATLAS.csv"))
    assert [s.stop_id for s in read.stops][:2] == ["ch:1:sloid:exact", "ch:1:sloid:name"]
    assert read.stops[0].uic_ref == "8500010" and read.stops[0].operator == "TEST"


def test_atlas_lv95_is_used_when_wgs84_is_empty(tmp_path):
    row = with_field(with_field(sample_row(1), "wgs84East", ""), "wgs84North", "")
    stop = read_atlas(atlas_file(tmp_path, row)).stops[0]
    # the sample row's own WGS84 position, from its LV95 by swisstopo's formulas
    assert great_circle_m(stop.lon, stop.lat, 8.35454, 47.35271) < 2.0


def test_atlas_row_without_any_position_is_skipped_and_listed(tmp_path):
    row = sample_row(1)
    for column in ("wgs84East", "wgs84North", "lv95East", "lv95North"):
        row = with_field(row, column, "")
    read = read_atlas(atlas_file(tmp_path, sample_row(0), row))
    assert [s.stop_id for s in read.stops] == ["ch:1:sloid:1405:2:2"]
    assert [(r.line, r.stop_id, r.reason) for r in read.skipped] == [
        (3, "ch:1:sloid:2274:0:203356", "no coordinates")]


def test_atlas_versions_newest_or_valid_on_a_day(tmp_path):
    old = with_field(with_field(sample_row(0), "validTo", "2024-11-20"), "validFrom",
                     "2020-01-01")
    old = with_field(old, "designationOfficial", "Vernayaz (old)")
    path = atlas_file(tmp_path, old, sample_row(0))
    assert [s.name for s in read_atlas(path).stops] == ["Vernayaz"]
    assert read_atlas(path).skipped[0].reason == "older version"
    assert [s.name for s in read_atlas(path, valid_on=date(2023, 5, 1)).stops] == [
        "Vernayaz (old)"]


def test_atlas_missing_columns_are_named(tmp_path):
    header = ATLAS_HEADER.replace("sloid;", "id;", 1)
    with pytest.raises(InputError,
                       match=r"atlas.csv line 1: missing column\(s\) sloid; the header has"):
        read_atlas(atlas_file(tmp_path, sample_row(0), header=header))
    header = ATLAS_HEADER.replace("wgs84North", "north").replace("lv95North", "n95")
    with pytest.raises(InputError, match="missing columns wgs84North, wgs84East"):
        read_atlas(atlas_file(tmp_path, sample_row(0), header=header))


@pytest.mark.parametrize(("column", "value", "message"), [
    ("wgs84North", "47,35x", r"line 3: wgs84North is not a number"),
    ("wgs84East", "187.3", r"line 3: wgs84East is outside ±180°"),
    ("validFrom", "next year", r"line 3: validFrom is not a date"),
    ("sloid", "", r"line 3: empty sloid"),
])
def test_atlas_bad_values_name_line_and_column(tmp_path, column, value, message):
    path = atlas_file(tmp_path, sample_row(0), with_field(sample_row(1), column, value))
    with pytest.raises(InputError, match=message):
        read_atlas(path)


def test_atlas_ragged_row_and_empty_file(tmp_path):
    with pytest.raises(InputError, match=r"line 2: 3 fields, the header has 34"):
        read_atlas(atlas_file(tmp_path, "a;b;c"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        read_atlas(str(empty))
    comma = tmp_path / "comma.csv"
    comma.write_text(ATLAS_HEADER.replace(";", ",") + "\n")
    with pytest.raises(InputError, match="missing column"):
        read_atlas(str(comma))


# --- GTFS ------------------------------------------------------------------------------

def test_gtfs_stops_from_the_vvs_zip():
    read = read_gtfs_stops(str(STOPS / "vvs-bus-751.gtfs.zip"))
    assert len(read.stops) == 47  # every row of stops.txt
    first = read.stops[0]
    assert (first.source, first.stop_id, first.name) == (
        "gtfs", "de:08115:2222:0:3", "Mercedes-Benz Hst. A")
    assert (first.lat, first.lon) == (48.699260, 8.992796)
    # VVS stop ids are DHIDs (IFOPT quay ids): kept for ref:IFOPT too
    assert first.ifopt == first.gtfs_stop_id == "de:08115:2222:0:3"
    assert first.operator == "VVS"  # the feed's only agency


def make_gtfs(tmp_path: Path, stops: str, **files: str) -> str:
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("stops.txt", stops)
        for name, text in files.items():
            z.writestr(name, text)
    return str(path)


def test_gtfs_platform_code_parent_validity_and_location_types(tmp_path):
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,platform_code\n"
             "S1,Central,47.0,8.0,1,,\n"
             "P1,Central,47.0001,8.0001,0,S1,3\n"
             "E1,Central entrance,47.0002,8.0,2,S1,\n")
    path = make_gtfs(tmp_path, stops, **{
        "feed_info.txt": "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,"
                         "feed_end_date\nX,http://x,de,20250101,20251231\n"})
    read = read_gtfs_stops(path)
    # the station is a stop place, its stop a platform of it; the entrance is no stop
    assert [(s.stop_id, s.level, s.platform_code, s.parent_id, s.ifopt)
            for s in read.stops] == [("S1", "place", None, None, None),
                                     ("P1", "platform", "3", "S1", None)]
    assert (read.stops[1].valid_from, read.stops[1].valid_to) == (
        date(2025, 1, 1), date(2025, 12, 31))
    assert [s.stop_id for s in read_gtfs_stops(path, location_types=("0",)).stops] == ["P1"]


def test_gtfs_stop_modes_come_from_the_routes_calling_there(tmp_path):
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
             "S1,Central,47.0,8.0,1,\nP1,Central,47.0001,8.0001,0,S1\n"
             "P2,Central,47.0002,8.0001,0,S1\nP3,Dorf,47.1,8.1,0,\n")
    path = make_gtfs(tmp_path, stops, **{
        "routes.txt": "route_id,route_type\nT4,0\nB1,3\nB2,700\n",
        "trips.txt": "route_id,service_id,trip_id\nT4,x,t1\nB1,x,b1\nB2,x,b2\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "t1,8:00:00,8:00:00,P1,1\nb1,8:00:00,8:00:00,P2,1\n"
                          "b2,8:10:00,8:10:00,P2,1\nb2,8:20:00,8:20:00,P3,2\n"})
    modes = {s.stop_id: (s.mode, s.extra.get("modes")) for s in read_gtfs_stops(path).stops}
    # the station serves both its platforms' modes: no single one
    assert modes == {"S1": (None, "bus|tram"), "P1": ("tram", "tram"), "P2": ("bus", "bus"),
                     "P3": ("bus", "bus")}
    assert {s.mode for s in read_gtfs_stops(str(STOPS / "vvs-bus-751.gtfs.zip")).stops} == {
        "bus"}


def test_gtfs_bad_input(tmp_path):
    not_zip = tmp_path / "feed.zip"
    not_zip.write_text("stop_id\n")
    with pytest.raises(InputError, match="feed.zip: not a readable GTFS zip"):
        read_gtfs_stops(str(not_zip))
    path = tmp_path / "nostops.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("agency.txt", "agency_name\nX\n")
    with pytest.raises(InputError, match="nostops.zip: no stops.txt in the zip"):
        read_gtfs_stops(str(path))
    path = make_gtfs(tmp_path, "stop_id,stop_name,stop_lat\nA,x,47\n")
    with pytest.raises(InputError,
                       match=r"feed.zip/stops.txt line 1: missing column\(s\) stop_lon"):
        read_gtfs_stops(path)
    path = make_gtfs(tmp_path, "stop_id,stop_name,stop_lat,stop_lon\nA,x,47,8\nB,y,north,8\n")
    with pytest.raises(InputError, match=r"stops.txt line 3: stop_lat is not a number"):
        read_gtfs_stops(path)


# --- NaPTAN ----------------------------------------------------------------------------

def test_naptan_sample():
    read = read_naptan(str(STOPS / "naptan-sample.csv"))
    # of the 15 rows one is inactive and one an airport entrance (no stop to match)
    assert len(read.stops) == 13
    assert [(r.stop_id, r.reason) for r in read.skipped] == [
        ("068000000115", "status inactive"), ("1100EXT10", "an entrance (StopType AIR)")]
    # on-street bus stops are platforms of the bus; a taxi rank says no mode
    assert {(s.extra["stop_type"], s.level, s.mode) for s in read.stops} == {
        ("BCT", "platform", "bus"), ("TXR", "platform", None)}
    first = read.stops[0]
    assert (first.source, first.stop_id, first.atco_code, first.name) == (
        "naptan", "068000000754", "068000000754", "Stockham Lane")
    assert (first.lon, first.lat) == (-2.68754, 53.33042)
    assert first.extra["naptan_code"] == "halagjdm"
    assert read.stops[-1].extra["indicator"] == "adj"
    assert len(read_naptan(str(STOPS / "naptan-sample.csv"), include_inactive=True).stops) == 14


def test_naptan_stop_letter_is_the_platform_code_and_station_areas_are_places(tmp_path):
    path = tmp_path / "Stops.csv"
    path.write_text("ATCOCode,CommonName,Indicator,Longitude,Latitude,StopType,Status\n"
                    "0100BRP90310,Temple Meads,Stop A,-2.58,51.45,BCT,active\n"
                    "0100BRP90311,Temple Meads,opp,-2.58,51.4501,BCT,active\n"
                    "9100BRSTLTM,Bristol Temple Meads Rail Station,,-2.5813,51.4491,RLY,active\n"
                    "9100BRSTLTM1,Bristol Temple Meads,Platform 3,-2.5811,51.4490,RPL,active\n")
    read = read_naptan(str(path))
    assert [(s.platform_code, s.level, s.mode) for s in read.stops] == [
        ("A", "platform", "bus"), (None, "platform", "bus"), (None, "place", "rail"),
        ("3", "platform", "rail")]


def test_naptan_stop_areas_are_places_reprojected_from_the_national_grid(tmp_path):
    # the sample's first row without its Longitude/Latitude: its Easting/Northing (British
    # National Grid, EPSG:27700) lead back to the position NaPTAN gives
    path = tmp_path / "StopAreas.csv"
    path.write_text("StopAreaCode,Name,StopAreaType,GridType,Easting,Northing,Status\n"
                    "069GHA001,Halton Village,GPBS,UKOS,354308,381721,active\n"
                    "910GBRSTLTM,Bristol Temple Meads,GRLS,UKOS,,,active\n")
    read = read_naptan(str(path))
    area = read.stops[0]
    assert (area.stop_id, area.name, area.level, area.mode) == (
        "069GHA001", "Halton Village", "place", "bus")
    assert great_circle_m(area.lon, area.lat, -2.68754, 53.33042) < 5
    assert [(r.stop_id, r.reason) for r in read.skipped] == [("910GBRSTLTM", "no coordinates")]
    path.write_text("StopAreaCode,Name,GridType,Easting,Northing\n940G,Y,I,1,2\n")
    with pytest.raises(InputError, match="GridType 'I' is not the British National Grid"):
        read_naptan(str(path))


# --- generic CSV and GeoJSON -----------------------------------------------------------

def test_mapped_csv_with_semicolons_and_decimal_commas(tmp_path):
    path = tmp_path / "haltestellen.csv"
    path.write_text("Nr;Bezeichnung;Steig;Breite;Länge;Betreiber;gültig ab\n"
                    "4711;Marktplatz;B;48,7;9,01;SSB;01.02.2025\n"
                    "4712;Markt Nord;;;;SSB;\n", encoding="utf-8")
    mapping = {"id": "Nr", "name": "Bezeichnung", "platform_code": "Steig", "lat": "Breite",
               "lon": "Länge", "operator": "Betreiber", "valid_from": "gültig ab"}
    read = read_mapped_csv(str(path), mapping, source="ssb")
    stop = read.stops[0]
    assert (stop.source, stop.stop_id, stop.name, stop.platform_code, stop.operator) == (
        "ssb", "4711", "Marktplatz", "B", "SSB")
    assert (stop.lat, stop.lon, stop.valid_from) == (48.7, 9.01, date(2025, 2, 1))
    assert [(r.line, r.stop_id) for r in read.skipped] == [(3, "4712")]


def test_mapped_csv_errors_name_the_mapping_and_columns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("code,lat,lon\nA,47,8\n")
    with pytest.raises(InputError, match=r"s.csv line 1: missing column\(s\) stop_code"):
        read_mapped_csv(str(path), {"id": "stop_code", "lat": "lat", "lon": "lon"})
    with pytest.raises(InputError, match="unknown field.*colour"):
        read_mapped_csv(str(path), {"id": "code", "lat": "lat", "lon": "lon", "colour": "c"})
    with pytest.raises(InputError, match="the column mapping lacks lon"):
        read_mapped_csv(str(path), {"id": "code", "lat": "lat"})


def test_mapped_geojson(tmp_path):
    path = tmp_path / "stops.geojson"
    features = [{"type": "Feature", "id": "f1", "geometry": {"type": "Point",
                                                             "coordinates": [8.5, 47.4]},
                 "properties": {"bezeichnung": "Bahnhof", "kante": "3"}}]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    stop = read_mapped_geojson(str(path), {"name": "bezeichnung",
                                           "platform_code": "kante"}).stops[0]
    assert (stop.stop_id, stop.name, stop.platform_code, stop.lon, stop.lat) == (
        "f1", "Bahnhof", "3", 8.5, 47.4)
    features[0]["geometry"] = {"type": "LineString", "coordinates": [[8, 47], [8.1, 47]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(InputError, match="feature 1: the geometry is not a Point"):
        read_mapped_geojson(str(path), {"name": "bezeichnung"})
    path.write_text('{"type": "FeatureCollection",\n "features": [,]}')
    with pytest.raises(InputError, match="stops.geojson line 2: not valid JSON"):
        read_mapped_geojson(str(path), {})


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_atlas(str(tmp_path / "nope.csv"))


# --- OSM -------------------------------------------------------------------------------

def test_osm_stops_from_the_osm_reader_keep_their_id_tags():
    stops = {s.key: s for s in read_osm_stops(str(FIXTURES / "osm" /
                                                  "herrenberg-minimal.osm.pbf"))}
    assert len(stops) == 64
    zob = stops["n952054379"]
    assert (zob.kind, zob.name, zob.ref_ifopt, zob.ref) == (
        "bus_stop", "Herrenberg ZOB", "de:08115:4512:5:C", "Bussteig C")
    station = stops["n28385961"]
    assert (station.kind, station.uic_ref, station.ref) == ("stop_position", "8002785", "3")
    # a platform way is placed at its centre
    way = stops["w27558650"]
    assert way.osm_type == "w" and way.ref_ifopt == "de:08115:4512:4:101;de:08115:4512:4:102"
    assert great_circle_m(way.lon, way.lat, 8.86128, 48.59328) < 5
