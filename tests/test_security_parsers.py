"""Property-based fuzzing of every parser of outside input: the ride readers
(OpenBikeSensor CSV, GPX, gzip, as an upload reaches them) and the stop registry readers
(ATLAS, GTFS, NaPTAN, mapped CSV and GeoJSON, format detection). Mutated real files go in;
only the documented InputError (and its kinds) may come out, never another exception.

Bounded: a fixed number of examples each, small enough for CI's two cores."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from matching_and_import_db.errors import InputError
from matching_and_import_db.rides.parse import parse_ride_file
from matching_and_import_db.rides.rawstore import decompress_upload
from matching_and_import_db.stops.pipeline import detect_format
from matching_and_import_db.stops.readers import (
    read_atlas,
    read_gtfs_stops,
    read_mapped_csv,
    read_mapped_geojson,
    read_naptan,
)
from tests.conftest import FIXTURES
from tests.fuzz_helpers import apply, mutation_lists
from tests.ride_helpers import obs_file, obs_row

RIDES = FIXTURES / "rides"
STOPS = FIXTURES / "stops"
RIDE_FILES = [p.read_bytes() for p in sorted((RIDES / "obs").glob("*.csv*"))
              if p.stat().st_size < 100_000] + [
    (RIDES / "gpx" / "graphhopper_tour-with-loop.gpx").read_bytes(),
    (RIDES / "gpx" / "graphhopper_andorra_for_map_matching.gpx").read_bytes()]
UPLOAD_LIMIT = 2_000_000
GEOJSON = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": f"f{i}", "geometry": {"type": "Point",
                                                    "coordinates": [8.5 + i / 100, 47.4]},
     "properties": {"name": f"Halt {i}", "kante": str(i)}} for i in range(5)]}).encode()
MAPPED_CSV = b"Nr;Bezeichnung;Breite;L\xc3\xa4nge\n4711;Marktplatz;48,7;9,01\n4712;Nord;;\n"

# examples per test: 150 in CI; PORTAL_TEST_FUZZ_EXAMPLES=5000 for a deeper search
EXAMPLES = int(os.environ.get("PORTAL_TEST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def only_input_errors(call, *args):
    """Run the parser; an InputError is its documented refusal, anything else fails."""
    try:
        call(*args)
    except InputError as exc:
        assert str(exc), "an InputError must say what is wrong"


def on_disk(data: bytes, suffix: str, call, *args):
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        only_input_errors(call, path, *args)
    finally:
        os.unlink(path)


def upload(data: bytes) -> None:
    """What the upload does before it stores anything: unpack (bounded), then read."""
    parse_ride_file(decompress_upload(data, UPLOAD_LIMIT), "ride.csv")


@FUZZ
@given(base=st.sampled_from(RIDE_FILES), ops=mutation_lists())
@example(base=RIDE_FILES[-1], ops=[("nul", 0.1, b"")])  # a NUL inside a GPX element (lxml)
def test_mutated_ride_files_give_an_input_error_or_a_ride(base, ops):
    only_input_errors(upload, apply(base, ops))


@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_as_a_ride_give_an_input_error_or_a_ride(data):
    only_input_errors(upload, data)
    only_input_errors(upload, b"<gpx>" + data)


@FUZZ
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_arbitrary_text_after_an_obs_header_gives_an_input_error_or_a_ride(text):
    head = RIDE_FILES[0].split(b"\n", 2)
    only_input_errors(upload, b"\n".join(head[:2]) + b"\n" + text.encode())


# values a field may hold: any number as text, the special ones, and anything at all
NUMBERS = st.one_of(st.floats().map(repr), st.integers().map(str),
                    st.sampled_from(["inf", "-inf", "nan", "1e400", "-0", "", " 1", "1,5"]),
                    st.text(max_size=12))
TIMES = st.one_of(st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.isoformat() + "Z"),
                  st.text(max_size=30))
CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters=";\n\r"),
               max_size=12)


@FUZZ
@given(points=st.lists(st.tuples(NUMBERS, NUMBERS, TIMES), min_size=1, max_size=20))
@example(points=[("51.3", "inf", "2015-02-03T17:34:05Z"), ("51.3", "12.3", "0001-01-01T00:00:00Z")])
def test_gpx_with_any_coordinates_and_times_gives_an_input_error_or_a_ride(points):
    trkpts = "".join(f"<trkpt lat={quoteattr(lat)} lon={quoteattr(lon)}>"
                     f"<time>{escape(when)}</time></trkpt>" for lat, lon, when in points)
    gpx = ('<?xml version="1.0"?><gpx version="1.1" creator="fuzz" '
           'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
           f"{trkpts}</trkseg></trk></gpx>")
    only_input_errors(upload, gpx.encode())


FIELDS = ("Date", "Time", "Millis", "Latitude", "Longitude", "Course", "Speed", "HDOP",
          "Left", "Right", "Confirmed", "Invalid", "InsidePrivacyArea", "Measurements",
          "Tms1", "Lus1", "Rus1")


@FUZZ
@given(rows=st.lists(st.dictionaries(st.sampled_from(FIELDS), st.one_of(NUMBERS, CELL)),
                     min_size=1, max_size=10),
       metadata=st.one_of(st.none(), CELL, st.dictionaries(CELL, CELL, max_size=4).map(
           lambda d: "&".join(f"{k}={v}" for k, v in d.items()))))
def test_obs_csv_with_any_field_values_gives_an_input_error_or_a_ride(rows, metadata):
    only_input_errors(upload, obs_file([obs_row(**r) for r in rows], triplets=1,
                                       metadata=metadata))


@FUZZ
@given(ops=mutation_lists())
def test_mutated_atlas_registries_give_an_input_error(ops):
    data = apply((STOPS / "swiss_example_stops_ATLAS.csv").read_bytes(), ops)
    on_disk(data, ".csv", read_atlas)
    on_disk(data, ".csv", detect_format)


@FUZZ
@given(ops=mutation_lists())
def test_mutated_naptan_registries_give_an_input_error(ops):
    data = apply((STOPS / "naptan-sample.csv").read_bytes(), ops)
    on_disk(data, ".csv", read_naptan)
    on_disk(data, ".csv", detect_format)


@FUZZ
@given(ops=mutation_lists(), base=st.sampled_from(["vvs-bus-764.gtfs.zip",
                                                    "vvs-bus-751.gtfs.zip"]))
def test_mutated_gtfs_feeds_give_an_input_error(ops, base):
    on_disk(apply((STOPS / base).read_bytes(), ops), ".zip", read_gtfs_stops)


@FUZZ
@given(ops=mutation_lists())
def test_mutated_mapped_csv_and_geojson_give_an_input_error(ops):
    mapping = {"id": "Nr", "name": "Bezeichnung", "lat": "Breite", "lon": "Länge"}
    on_disk(apply(MAPPED_CSV, ops), ".csv", read_mapped_csv, mapping)
    on_disk(apply(GEOJSON, ops), ".geojson", read_mapped_geojson,
            {"name": "name", "platform_code": "kante"})
