"""Registries in every shape, read from real files: stop places told from platforms (ATLAS
service points and traffic points, NeTEx StopPlaces and Quays), modes, parents, and
coordinates in national grids reprojected to within metres of where they belong."""

from __future__ import annotations

import gzip
import json
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from matching_and_import_db.errors import InputError
from matching_and_import_db.geodesy import great_circle_m
from matching_and_import_db.stops.netex import is_netex, read_netex
from matching_and_import_db.stops.pipeline import detect_format, validate_config
from matching_and_import_db.stops.readers import (
    MappedOptions,
    read_atlas,
    read_mapped_csv,
    read_mapped_geojson,
    read_osm_stops,
)
from matching_and_import_db.stops.registry_config import mapped_options
from tests.stops_helpers import SERVICE_POINT_HEADER, service_point

ROOT = Path(__file__).resolve().parents[1]
STOPS = ROOT / "tests" / "fixtures" / "stops"
BENCH = ROOT / "bench" / "data"
NORDIC = STOPS / "nordic-minimal-stops.xml"
NSR_RAIL = STOPS / "nsr-rail-stations-2019.zip"
HSL = BENCH / "hsl-stop-data-2020-07-22.csv"

# --- ATLAS: both exports -----------------------------------------------------------------

def test_atlas_service_points_are_stop_places_with_operator_mode_and_flags(tmp_path):
    path = tmp_path / "service_points.csv"
    path.write_text("\n".join([
        SERVICE_POINT_HEADER, service_point(),
        service_point(sloid="ch:1:sloid:7000", number="8507000", designationOfficial="Schaan,"
                      " Im Besch", meansOfTransport="BUS|TRAM", isoCountryCode="LI",
                      businessOrganisationAbbreviationDe="LIEmobil",
                      businessOrganisationAbbreviationEn=""),
        service_point(sloid="ch:1:sloid:9", designationOfficial="Betriebspunkt", stopPoint="false",
                      meansOfTransport="", wgs84East="", wgs84North="", lv95East="2600000",
                      lv95North="1200000")]) + "\n", encoding="utf-8")
    read = read_atlas(str(path))
    vernayaz, schaan, operating = read.stops
    assert (vernayaz.stop_id, vernayaz.level, vernayaz.mode, vernayaz.operator) == (
        "ch:1:sloid:1405", "place", "rail", "SBB")
    assert (vernayaz.uic_ref, vernayaz.didok, vernayaz.platform_code) == ("8501405", "1405", None)
    assert vernayaz.extra["operator_name"] == "Swiss Federal Railways SBB"
    assert (vernayaz.extra["country"], vernayaz.extra["stop_point"]) == ("CH", "true")
    # two means of transport: no single mode (compatible with both), both kept
    assert (schaan.mode, schaan.extra["modes"], schaan.operator) == (None, "bus|tram",
                                                                     "LIEmobil")
    assert schaan.extra["country"] == "LI"
    # an operating point that is no stop point, placed by its LV95 coordinates (Bern's origin)
    assert operating.extra["stop_point"] == "false"
    assert great_circle_m(operating.lon, operating.lat, 7.43863, 46.95108) < 2


def test_zipped_exports_are_read_from_inside(tmp_path):
    zipped = tmp_path / "actual-date-swiss-only-service_point.csv.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("actual_date-swiss-only-service_point-2025-01-01.csv",
                   "\n".join([SERVICE_POINT_HEADER, service_point()]) + "\n")
    assert detect_format(str(zipped)) == "atlas"
    assert [s.stop_id for s in read_atlas(str(zipped)).stops] == ["ch:1:sloid:1405"]
    with zipfile.ZipFile(tmp_path / "quays.zip", "w") as z:
        z.write(BENCH / "ruter2021_quays_nsr.csv", "ruter2021_quays_nsr.csv")
    read = read_mapped_csv(str(tmp_path / "quays.zip"), REGISTRY_CONFIGS["oslo_nsr"]["mapping"])
    assert len(read.stops) == 7317
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as z:
        z.writestr("a.csv", "x\n")
        z.writestr("b.csv", "x\n")
    with pytest.raises(InputError, match=r"two.zip: a zipped registry must hold one CSV file; "
                                         r"found 2 \(a.csv, b.csv\)"):
        detect_format(str(tmp_path / "two.zip"))


def test_atlas_traffic_points_are_platforms_of_their_service_point():
    read = read_atlas(str(STOPS / "atlas-sample.csv"))
    assert {s.level for s in read.stops} == {"platform"}
    assert read.stops[0].parent_id == "ch:1:sloid:1405"


# --- NeTEx -------------------------------------------------------------------------------

def test_netex_nordic_stop_places_and_quays():
    read = read_netex(str(NORDIC))
    assert read.skipped == []
    levels = Counter(s.level for s in read.stops)
    assert levels == {"place": 8, "platform": 16}
    by_id = {s.stop_id: s for s in read.stops}
    quay = by_id["NSR:Quay:7184"]
    assert (quay.level, quay.parent_id, quay.platform_code, quay.mode) == (
        "platform", "NSR:StopPlace:3990", "2", "metro")
    assert (quay.lon, quay.lat) == (10.751326, 59.912268)
    assert quay.extra["description"] == "Retning vest"
    # the metro stop place has no name of its own: it takes its multimodal parent's, and so
    # do its quays
    metro = by_id["NSR:StopPlace:3990"]
    assert (metro.name, metro.parent_id, metro.mode) == (
        "Jernbanetorget", "NSR:StopPlace:58366", "metro")
    assert quay.name == "Jernbanetorget"
    parent = by_id["NSR:StopPlace:58366"]
    # metro and bus below it: no single mode
    assert (parent.level, parent.mode, parent.extra["multimodal"]) == ("place", None, "true")
    assert {s.mode for s in read.stops if s.extra.get("stop_place_type") == "onstreetBus"} == {
        "bus"}
    # every platform points at a stop place of the file
    places = {s.stop_id for s in read.stops if s.level == "place"}
    assert all(s.parent_id in places for s in read.stops if s.level == "platform")


def test_netex_national_rail_export_from_a_zip():
    read = read_netex(str(NSR_RAIL))
    assert Counter(s.level for s in read.stops) == {"place": 659, "platform": 886}
    assert {s.mode for s in read.stops} == {"rail"}  # parents take their children's one mode
    eikenes = next(s for s in read.stops if s.stop_id == "NSR:StopPlace:92")
    assert (eikenes.name, eikenes.uic_ref) == ("Eikenes stasjon", "7601521")
    quays = [s for s in read.stops if s.parent_id == "NSR:StopPlace:92"]
    assert [(q.stop_id, q.platform_code, q.name) for q in quays] == [
        ("NSR:Quay:151", "1", "Eikenes stasjon")]
    assert is_netex(str(NSR_RAIL)) and not is_netex(str(STOPS / "vvs-bus-751.gtfs.zip"))


NETEX_GML = """<?xml version="1.0" encoding="UTF-8"?>
<n:PublicationDelivery xmlns:n="http://www.netex.org.uk/netex"
    xmlns:gml="http://www.opengis.net/gml/3.2" version="1.1">
  <n:dataObjects><n:SiteFrame id="F" version="1">
    <n:FrameDefaults><n:DefaultLocationSystem>EPSG:25833</n:DefaultLocationSystem></n:FrameDefaults>
    <n:stopPlaces>
      <n:StopPlace id="X:StopPlace:1" version="1">
        <n:Name>Jernbanetorget</n:Name>
        <n:Centroid><n:Location><gml:pos>262463.8 6649248.8</gml:pos></n:Location></n:Centroid>
        <n:StopPlaceType>onstreetTram</n:StopPlaceType>
        <n:quays><n:Quay id="X:Quay:1" version="1">
          <n:Centroid><n:Location>
            <gml:pos srsName="EPSG:4326">59.912268 10.751326</gml:pos>
          </n:Location></n:Centroid>
          <n:PublicCode>A</n:PublicCode>
        </n:Quay></n:quays>
      </n:StopPlace>
      <n:StopPlace id="X:StopPlace:1" version="2">
        <n:Name>Jernbanetorget (new)</n:Name>
        <n:Centroid><n:Location><n:Longitude>10.7507</n:Longitude>
          <n:Latitude>59.9121</n:Latitude></n:Location></n:Centroid>
      </n:StopPlace>
    </n:stopPlaces>
  </n:SiteFrame></n:dataObjects>
</n:PublicationDelivery>
"""


def test_netex_positions_in_their_crs_any_prefix_gzipped_and_newest_version(tmp_path):
    path = tmp_path / "stops.xml.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(NETEX_GML.replace('version="2"', 'version="0"'))
    read = read_netex(str(path))
    place, quay = read.stops
    # UTM 33 (the frame's default) and a latitude-first EPSG:4326 pos, both to lon/lat
    assert (place.name, place.mode, place.level) == ("Jernbanetorget", "tram", "place")
    assert great_circle_m(place.lon, place.lat, 10.7507, 59.9121) < 1
    assert (quay.platform_code, quay.parent_id, quay.mode) == ("A", "X:StopPlace:1", "tram")
    assert great_circle_m(quay.lon, quay.lat, 10.751326, 59.912268) < 0.01
    assert [(r.stop_id, r.reason) for r in read.skipped] == [("X:StopPlace:1", "older version")]
    # version 2 replaces version 1, and its quay list (none)
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("stops/_stops.xml", NETEX_GML)
    assert [(s.stop_id, s.name) for s in read_netex(str(zipped)).stops] == [
        ("X:StopPlace:1", "Jernbanetorget (new)")]


NETEX_MEMBERS = """<PublicationDelivery xmlns="http://www.netex.org.uk/netex"
    xmlns:gml="http://www.opengis.net/gml/3.2"><dataObjects>
  <GeneralFrame id="FR:GeneralFrame:1" version="any"><members>
    <Quay id="FR:Quay:11" version="any">
      <Name>Chatelet quai 1</Name>
      <Centroid><Location>
        <gml:pos srsName="EPSG:2154">651975 6862188</gml:pos></Location></Centroid>
    </Quay>
    <Quay id="FR:Quay:12" version="any">
      <Centroid><Location>
        <gml:pos srsName="EPSG:2154">651985 6862190</gml:pos></Location></Centroid>
      <ParentZoneRef ref="FR:StopPlace:1"/>
    </Quay>
    <Quay id="FR:Quay:99" version="any">
      <Centroid><Location><Longitude>2.3</Longitude><Latitude>48.8</Latitude></Location></Centroid>
    </Quay>
    <StopPlace id="FR:StopPlace:1" version="any">
      <Name>Chatelet</Name>
      <Centroid><Location>
        <gml:pos srsName="EPSG:2154">651980 6862190</gml:pos></Location></Centroid>
      <TransportMode>metro</TransportMode>
      <quays><QuayRef ref="FR:Quay:11"/></quays>
    </StopPlace>
  </members></GeneralFrame>
</dataObjects></PublicationDelivery>
"""


def test_netex_quays_listed_by_reference_as_access_points_publish_them(tmp_path):
    path = tmp_path / "arrets.xml"
    path.write_text(NETEX_MEMBERS)
    read = read_netex(str(path))
    by_id = {s.stop_id: s for s in read.stops}
    assert set(by_id) == {"FR:StopPlace:1", "FR:Quay:11", "FR:Quay:12"}
    assert [(by_id[q].parent_id, by_id[q].name, by_id[q].mode) for q in (
        "FR:Quay:11", "FR:Quay:12")] == [("FR:StopPlace:1", "Chatelet quai 1", "metro"),
                                         ("FR:StopPlace:1", "Chatelet", "metro")]
    # Lambert 93 (EPSG:2154): central Paris
    place = by_id["FR:StopPlace:1"]
    assert 2.34 < place.lon < 2.35 and 48.85 < place.lat < 48.87
    assert [(r.stop_id, r.reason) for r in read.skipped] == [
        ("FR:Quay:99", "a Quay of no StopPlace in the file")]


@pytest.mark.parametrize(("text", "message"), [
    ("<PublicationDelivery xmlns='http://www.netex.org.uk/netex'><dataObjects>",
     r"line 1: not well-formed XML"),
    ("<PublicationDelivery xmlns='http://www.netex.org.uk/netex'/>", "no StopPlace in the file"),
    ("<PublicationDelivery><StopPlace id='a'><Centroid><Location><Longitude>300</Longitude>"
     "<Latitude>1</Latitude></Location></Centroid></StopPlace></PublicationDelivery>",
     r"line 1: a: \(300, 1\) is not a longitude, latitude"),
])
def test_netex_bad_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_netex(str(path))


# --- generic CSV with a CRS: Helsinki's register ------------------------------------------

# HSL's register read by the generic reader, as bench/data/registry_configs.json configures
# a stops import of it: its columns, its grid (KKJ zone 2), its network codes (VERKKO) as
# modes, and only the rows in service (REI_VOIM=1)
REGISTRY_CONFIGS = json.loads((BENCH / "registry_configs.json").read_text())
HSL_CONFIG = validate_config(REGISTRY_CONFIGS["hsl"])
HSL_MAPPING = HSL_CONFIG["mapping"]
HSL_OPTIONS = mapped_options(HSL_CONFIG)


def test_hsl_register_is_read_by_the_generic_csv_reader_in_its_own_grid():
    read = read_mapped_csv(str(HSL), HSL_MAPPING, source="hsl", options=HSL_OPTIONS)
    assert len(read.stops) == 8596 and len(read.skipped) == 4027  # REI_VOIM=0 rows
    assert read.skipped[0].reason == "REI_VOIM='0', not one of 1"
    ritarihuone = read.stops[0]
    assert (ritarihuone.stop_id, ritarihuone.name, ritarihuone.level, ritarihuone.mode) == (
        "1010102", "Ritarihuone", "platform", "bus")
    assert ritarihuone.extra == {"stop_code": "H2007", "name_sv": "Riddarhuset"}
    assert Counter(s.mode for s in read.stops) == {"bus": 8135, "tram": 270, "rail": 137,
                                                   "metro": 50, "ferry": 4}
    # where mappers copied a stop's code into OSM (ref + "H" = LYHYTTUNNU), the OSM stop lies
    # a few metres from the reprojected register position: reprojection is right to metres
    osm = {}
    for stop in read_osm_stops(str(BENCH / "stops-2019-01-21.osm")):
        if stop.ref and stop.tags.get("railway") != "station":
            osm.setdefault("H" + stop.ref, []).append(stop)
    gaps = np.array([float(great_circle_m(s.lon, s.lat, o.lon, o.lat)) for s in read.stops
                     for o in osm.get(s.extra.get("stop_code"), [])])
    assert len(gaps) > 2400
    assert np.median(gaps) < 10 and np.percentile(gaps, 90) < 30


def test_ruter_quays_by_mapping_and_geojson_with_its_crs_member(tmp_path):
    oslo = validate_config(REGISTRY_CONFIGS["oslo_nsr"])
    read = read_mapped_csv(str(ROOT / oslo["source"]), oslo["mapping"], source="ruter",
                           options=mapped_options(oslo))
    assert len(read.stops) == 7317 and read.stops[0].stop_id == "NSR:Quay:104502"
    # GeoJSON 2008 with a crs member: the points are reprojected from it
    features = [{"type": "Feature", "id": "1010102",
                 "geometry": {"type": "Point", "coordinates": [2553276, 6673478]},
                 "properties": {"name": "Ritarihuone", "kind": "station", "net": "3"}}]
    path = tmp_path / "hsl.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                "crs": {"type": "name", "properties": {"name": "EPSG:2392"}}}))
    stop = read_mapped_geojson(str(path), {"name": "name", "level": "kind", "mode": "net"},
                               options=MappedOptions(mode_values={"3": "tram"})).stops[0]
    assert (stop.level, stop.mode) == ("place", "tram")
    assert great_circle_m(stop.lon, stop.lat, 24.95648630, 60.16946492) < 1


@pytest.mark.parametrize(("options", "message"), [
    (MappedOptions(crs="EPSG:999999"), "unknown coordinate reference system 'EPSG:999999'"),
    (MappedOptions(crs="EPSG:2392"),
     r"s.csv line 2: \(1000000000000.0, 1000000000000.0\) is outside the area of EPSG:2392"),
])
def test_mapped_csv_crs_errors(tmp_path, options, message):
    path = tmp_path / "s.csv"
    path.write_text("code,y,x\nA,1e12,1e12\n")
    with pytest.raises(InputError, match=message):
        read_mapped_csv(str(path), {"id": "code", "lat": "y", "lon": "x"}, options=options)


def test_osm_stops_keep_the_nsr_quay_ids_mappers_copied():
    stops = read_osm_stops(str(BENCH / "oslo-center-2025.osm.pbf"))
    with_quay = [s for s in stops if "ref:nsrq" in s.tags]
    assert len(with_quay) == 269
    # 212 of them name a quay of Ruter's register (the Oslo evaluation case's truth)
    ruter = read_mapped_csv(str(BENCH / "ruter2021_quays_nsr.csv"),
                            {"id": "quay_id", "lat": "lat", "lon": "lon"}).stops
    quay_ids = {s.stop_id for s in ruter}
    assert sum(f"NSR:Quay:{s.tags['ref:nsrq']}" in quay_ids for s in with_quay) == 212
