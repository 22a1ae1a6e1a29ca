"""Reading ride files: OpenBikeSensor CSV (format 1 and 2, plain or gzip) and GPX.

Real files from tests/fixtures/rides (see its ATTRIBUTION.md) and small files written here.
Pure functions: no app, no database.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from matching_and_import_db.errors import InputError
from matching_and_import_db.rides.model import RideFormatError
from matching_and_import_db.rides.parse import parse_ride_file
from tests.conftest import FIXTURES
from tests.ride_helpers import V2_COLUMNS, obs_file, obs_row

RIDES = FIXTURES / "rides"
BERLIN_RIDE = RIDES / "obs" / "2022-02-19T12.58.59-b8cf.obsdata.csv"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse_fixture(relative_path: str):
    path = RIDES / relative_path
    return parse_ride_file(path.read_bytes(), path.name)


# --- the real Berlin ride -----------------------------------------------------------------

def test_berlin_ride_has_four_confirmed_overtakes_with_offset_already_applied_by_the_sensor():
    ride = parse_ride_file(BERLIN_RIDE.read_bytes(), BERLIN_RIDE.name)

    # Derived by reading the file: `awk -F';' 'NR>2 && $15 != "0"'` prints the four rows whose
    # Confirmed column is not 0 (values 7, 7, 11, 8). Their Date/Time are GPS time
    # (TimeZone=GPS), 18 leap seconds ahead of UTC in 2022:
    #   19.02.2022 13:03:18  Left 94  Right 162  Speed 13.3 km/h  52.4815957, 13.4308366
    #   19.02.2022 13:08:34  Left 111 Right 90   Speed 17.2
    #   19.02.2022 13:10:15  Left 83  Right ""   Speed 16.9
    #   19.02.2022 13:23:23  Left 77  Right 77   Speed 18.5
    # Left/Right are cm from the handlebar end: the firmware subtracts OffsetLeft=35 before
    # writing them (sensor.cpp correctSensorOffset). Proof in the first row: its confirmed
    # raw echo Lus7 = 7510 us / 58 = 129 cm from the sensor, and 129 - 35 = 94 = Left.
    # Subtracting the offset again would report 0.59 m for a 0.94 m pass.
    assert [(e.time, e.distance_left, e.distance_right) for e in ride.events] == [
        (utc(2022, 2, 19, 13, 3, 0), 0.94, 1.62),
        (utc(2022, 2, 19, 13, 8, 16), 1.11, 0.90),
        (utc(2022, 2, 19, 13, 9, 57), 0.83, None),
        (utc(2022, 2, 19, 13, 23, 5), 0.77, 0.77),
    ]
    first = ride.events[0]
    assert (first.lat, first.lon) == (52.4815957, 13.4308366)
    assert first.speed == pytest.approx(13.3 / 3.6)  # km/h in the file, m/s here


def test_berlin_ride_keeps_every_row_with_device_firmware_and_metadata():
    ride = parse_ride_file(BERLIN_RIDE.read_bytes())

    assert (ride.format, ride.device_id, ride.firmware) == ("obs-2", "b8cf", "v0.11.706")
    assert ride.metadata["OffsetLeft"] == "35"
    assert ride.metadata["TimeZone"] == "GPS"
    assert len(ride.points) == 1745  # 1747 lines minus metadata and header
    # first row: 19.02.2022 12:59:34 GPS, Speed 0.7 km/h, HDOP 1.93, 5 satellites, Left 80
    first = ride.points[0]
    assert first.time == utc(2022, 2, 19, 12, 59, 16)
    assert (first.lat, first.lon) == (52.4802006, 13.4213272)
    assert first.speed == pytest.approx(0.7 / 3.6)
    assert (first.course, first.hdop, first.satellites) == (None, 1.93, 5)
    assert (first.distance_left, first.distance_right, first.confirmed) == (0.80, None, False)
    assert ride.points[-1].time == utc(2022, 2, 19, 13, 28, 20)  # 13:28:38 GPS
    assert sum(p.confirmed for p in ride.points) == 4
    assert all(p.time.tzinfo is UTC for p in ride.points)


# --- the OpenBikeSensor portal's own edge-case files and the GPX fixtures -----------------

@pytest.mark.parametrize(
    ("fixture", "points", "with_fix", "first_time", "events"),
    [
        # only "OBSDataFormat=2" in the metadata: no TimeZone, so the time is taken as UTC
        ("obs/empty-metadata.csv", 1, 1, utc(2021, 6, 26, 14, 39, 39), 0),
        # TimeZone=GPS: 14:39:39 GPS is 14:39:21 UTC, as the portal's test_gps_time expects
        ("obs/gps-time.csv", 1, 1, utc(2021, 6, 26, 14, 39, 21), 0),
        ("obs/gzipped.csv.gz", 1, 1, utc(2021, 6, 26, 14, 39, 21), 0),
        # 35 measurements per line; the last two rows have no GPS fix and are kept without
        # a position; the first row is confirmed with Left 10 cm
        ("obs/zero-zero-bug.csv", 6, 4, utc(2021, 9, 1, 17, 22, 53), 1),
        # the untimed saved copy of the ride (358 points) is skipped, the timed log is read
        ("gpx/gpxpy_korita-zbevnica.gpx", 513, 513, utc(2010, 10, 3, 9, 36, 30), 0),
        ("gpx/graphhopper_tour-with-loop.gpx", 11, 11, utc(2015, 2, 3, 17, 34, 5), 0),
    ],
)
def test_fixture_is_read(fixture, points, with_fix, first_time, events):
    ride = parse_fixture(fixture)
    assert len(ride.points) == points
    assert sum(p.lat is not None and p.lon is not None for p in ride.points) == with_fix
    assert ride.points[0].time == first_time
    assert len(ride.events) == events


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("gpx/coursepointer_cptr003.gpx", "the GPX file has no timestamps; a ride needs them"),
        ("gpx/graphhopper_andorra_for_map_matching.gpx",
         "the GPX file has no timestamps; a ride needs them"),
    ],
)
def test_fixture_is_refused_with_a_clear_message(fixture, message):
    with pytest.raises(InputError, match=f"(?i){message}"):
        parse_fixture(fixture)


def test_zero_zero_bug_rows_without_fix_keep_their_time_and_distance():
    ride = parse_fixture("obs/zero-zero-bug.csv")
    no_fix = [p for p in ride.points if p.lat is None]
    assert [p.time for p in no_fix] == [utc(2021, 9, 1, 17, 23, 57), utc(2021, 9, 1, 17, 23, 58)]
    assert all(p.lon is None and p.distance_right == 1.10 for p in no_fix)
    assert ride.events[0].distance_left == 0.10


def test_gzip_and_plain_file_give_the_same_ride():
    plain = parse_fixture("obs/gps-time.csv")
    packed = parse_fixture("obs/gzipped.csv.gz")
    assert packed == plain


# --- OpenBikeSensor CSV: format variants -------------------------------------------------

def test_format_1_file_without_metadata_line_is_read_with_utc_times():
    text = ("Date;Time;Latitude;Longitude;Course;Speed;Right;Left;Confirmed;insidePrivacyArea\n"
            "12.05.2020;08:15:00;48.7758;9.1829;180.5;21.6;255;120;0;0\n"
            "12.05.2020;08:15:01;48.7759;9.1830;181.0;21.6;140;85;1;0\n")
    ride = parse_ride_file(text.encode(), "sensorData12.csv")

    assert (ride.format, ride.metadata, ride.device_id, ride.firmware) == (
        "obs-1", {}, None, None)
    assert [p.time for p in ride.points] == [utc(2020, 5, 12, 8, 15, 0),
                                              utc(2020, 5, 12, 8, 15, 1)]
    assert ride.points[0].distance_right is None  # 255 was "no reading" in format 1
    assert ride.points[0].speed == pytest.approx(6.0)  # 21.6 km/h
    assert ride.points[0].course == 180.5
    assert [(e.time, e.distance_left, e.distance_right) for e in ride.events] == [
        (utc(2020, 5, 12, 8, 15, 1), 0.85, 1.40)]


def test_oldest_format_1_names_the_distances_case_and_lid():
    # format 1.0: the case side faces the overtaking traffic (left, in right-hand traffic)
    text = ("Date;Time;Latitude;Longitude;Lid;Case;Confirmed\n"
            "03.04.2019;17:00:00;50.1;8.6;200;95;1\n")
    ride = parse_ride_file(text.encode())
    assert (ride.events[0].distance_left, ride.events[0].distance_right) == (0.95, 2.00)
    assert ride.points[0].speed is None


@pytest.mark.parametrize("triplets", [30, 35, 60])
def test_any_number_of_measurement_triplets_per_row_is_read(triplets):
    rows = [obs_row(Left="150", Measurements=str(triplets),
                    **{f"Lus{i}": "9000" for i in range(1, triplets + 1)})]
    ride = parse_ride_file(obs_file(rows, triplets=triplets))
    assert ride.metadata["MaximumMeasurementsPerLine"] == str(triplets)
    assert ride.points[0].distance_left == 1.50
    assert ride.points[0].time == utc(2023, 6, 1, 12, 0, 0)


def test_missing_distance_readings_become_none():
    rows = [obs_row(Time="12:00:18", Left="999", Right=""),
            obs_row(Time="12:00:19", Left="", Right="999"),
            obs_row(Time="12:00:20", Left="0", Right="255")]
    points = parse_ride_file(obs_file(rows)).points
    assert [(p.distance_left, p.distance_right) for p in points] == [
        (None, None), (None, None),
        # 0: the car was level with the handlebar end; 255 is the first firmware's
        # "nothing measured", treated so in every format, as the portal does
        (0.0, None)]


def test_two_confirmations_in_the_same_second_become_one_overtake():
    # the firmware repeats the row once per confirmed distance; like the portal we keep one
    # event per second, the values of the last row
    rows = [obs_row(Time="12:00:17"),
            obs_row(Time="12:00:18", Left="140", Confirmed="3"),
            obs_row(Time="12:00:18", Left="95", Confirmed="9"),
            obs_row(Time="12:00:19")]
    ride = parse_ride_file(obs_file(rows))
    assert len(ride.points) == 4
    assert [(e.time, e.distance_left) for e in ride.events] == [(utc(2023, 6, 1, 12, 0, 0), 0.95)]


def test_confirmed_row_without_a_left_distance_is_not_an_overtake():
    rows = [obs_row(Left="", Confirmed="2")]
    ride = parse_ride_file(obs_file(rows))
    assert ride.points[0].confirmed is True
    assert ride.events == []


def test_columns_are_found_by_name_not_by_position():
    rows = [obs_row(Left="87", Right="210", Confirmed="1", Speed="36.0")]
    shuffled = list(reversed(V2_COLUMNS)) + ["Tms1", "Lus1", "Rus1"]
    assert parse_ride_file(obs_file(rows, columns=shuffled)) == parse_ride_file(obs_file(rows))
    event = parse_ride_file(obs_file(rows, columns=shuffled)).events[0]
    assert (event.distance_left, event.distance_right, event.speed) == (0.87, 2.10, 10.0)


def test_rows_without_gps_fix_are_kept_without_a_position():
    rows = [obs_row(Time="12:00:18"),
            obs_row(Time="12:00:19", Latitude="0", Longitude="0"),
            obs_row(Time="12:00:20", Latitude="", Longitude="", Speed="", Course="")]
    points = parse_ride_file(obs_file(rows)).points
    assert [(p.lat, p.lon) for p in points] == [(52.52, 13.405), (None, None), (None, None)]


def test_rows_inside_a_privacy_zone_are_dropped():
    rows = [obs_row(Time="12:00:18"),
            obs_row(Time="12:00:19", InsidePrivacyArea="1", Left="80", Confirmed="1")]
    ride = parse_ride_file(obs_file(rows))
    assert [p.time for p in ride.points] == [utc(2023, 6, 1, 12, 0, 0)]
    assert ride.events == []


def test_rows_before_the_clock_was_set_are_dropped():
    # before its first GPS fix the firmware counts from 1970
    rows = [obs_row(Date="01.01.1970", Time="00:00:05"), obs_row(Time="12:00:18")]
    assert [p.time for p in parse_ride_file(obs_file(rows)).points] == [
        utc(2023, 6, 1, 12, 0, 0)]


def test_file_content_decides_not_the_file_name():
    gpx = (RIDES / "gpx" / "graphhopper_tour-with-loop.gpx").read_bytes()
    assert parse_ride_file(gpx, "ride.csv").format == "gpx"
    assert parse_ride_file(obs_file([obs_row()]), "ride.gpx").format == "obs-2"


# --- OpenBikeSensor CSV: refused with a message naming the problem ------------------------

@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"  \n\n", "The file is empty"),
        (gzip.compress(b""), "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not readable text"),
        (gzip.compress(obs_file([obs_row()]))[:-12], "gzip-compressed but damaged"),
        (b"Dear diary,\ntoday I rode to work.\n", "not an OpenBikeSensor CSV file"),
        (b"Date,Time,Latitude,Longitude\n01.06.2023,12:00:00,52.5,13.4\n",
         "semicolon-separated"),
        (b"Date;Time;Latitude;Longitude;Speed\n01.06.2023;12:00:00;52.5;13.4;20\n",
         "lacks Confirmed, Left, Right"),
        (obs_file([obs_row()], metadata="OBSDataFormat=3&DeviceId=abcd"),
         'data format version "3"'),
        (obs_file([obs_row()], metadata="OBSFirmwareVersion=v1&OBSDataFormatX=&&=="),
         "metadata but cannot be decoded"),
        (obs_file([]), "no measurements"),
        (obs_file([obs_row(Latitude="", Longitude=""), obs_row(Latitude="0", Longitude="0")]),
         "None of the 2 rows has a GPS position"),
        (obs_file([obs_row(Date="01.01.1970")]), "None of the 1 rows has a valid date"),
        (obs_file([obs_row(InsidePrivacyArea="1")]), "inside one of your privacy zones"),
        (b'{"type": "FeatureCollection", "features": []}', "JSON"),
        (b"<html><body>Login</body></html>", "XML or HTML but not GPX"),
    ],
)
def test_bad_file_is_refused_with_a_message_naming_the_problem(data, message):
    with pytest.raises(RideFormatError, match=message) as refused:
        parse_ride_file(data, "upload")
    assert isinstance(refused.value, InputError)  # the app shows InputError messages to users


def test_binary_openbikesensor_recording_is_refused_naming_the_format():
    with pytest.raises(RideFormatError, match="binary recording"):
        parse_ride_file(b"\x00\x91\xfe\x02" * 50, "2023-06-01T12.00.00-abcd.obsr")


# --- GPX ---------------------------------------------------------------------------------

def test_timed_gpx_gives_utc_points_with_speed_from_neighbours():
    ride = parse_fixture("gpx/graphhopper_tour-with-loop.gpx")
    assert (ride.format, ride.metadata, ride.events) == ("gpx", {}, [])
    assert ride.points[0].time == utc(2015, 2, 3, 17, 34, 5)
    assert ride.points[-1].time == utc(2015, 2, 3, 17, 35, 22)
    # first two points: 51.342375,12.361369 -> 51.342607,12.362373, 6 s apart; about 74 m
    # (0.001004 deg of longitude * 111.32 km * cos 51.34 deg = 69.8 m east, 25.8 m north)
    assert ride.points[1].speed == pytest.approx(74.4 / 6, rel=0.01)
    assert ride.points[1].course == pytest.approx(70, abs=1)  # east-north-east
    assert all(p.distance_left is None and not p.confirmed for p in ride.points)


def test_gpx_times_with_an_offset_are_converted_to_utc():
    gpx = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="52.5" lon="13.4"><time>2023-06-01T14:00:00+02:00</time></trkpt>
<trkpt lat="52.5009" lon="13.4"><time>2023-06-01T14:00:10+02:00</time></trkpt>
</trkseg></trk></gpx>"""
    points = parse_ride_file(gpx).points
    assert [p.time.isoformat() for p in points] == ["2023-06-01T12:00:00+00:00",
                                                    "2023-06-01T12:00:10+00:00"]
    assert points[0].speed == pytest.approx(10.0, rel=0.01)  # 0.0009 deg north = 100 m
    assert points[0].course == pytest.approx(0.0, abs=0.1)


def test_gpx_in_latin1_with_gzip_is_read():
    gpx = """<?xml version="1.0" encoding="ISO-8859-1"?>
<gpx version="1.1" creator="test"><trk><name>Fahrt über die Brücke</name><trkseg>
<trkpt lat="52.5" lon="13.4"><time>2023-06-01T12:00:00Z</time></trkpt>
</trkseg></trk></gpx>""".encode("latin-1")
    assert len(parse_ride_file(gzip.compress(gpx), "fahrt.gpx.gz").points) == 1


@pytest.mark.parametrize(
    ("gpx", "message"),
    [
        (b'<gpx version="1.1"><trk><trkseg><trkpt lat="52.5" lon="13.4"/>'
         b'<trkpt lat="52.6" lon="13.4"/></trkseg></trk></gpx>',
         "the GPX file has no timestamps; a ride needs them"),
        (b'<gpx version="1.1"><rte><rtept lat="52.5" lon="13.4"/></rte></gpx>',
         "planned route, not a recorded ride"),
        (b'<gpx version="1.1"><trk><trkseg><trkpt lat="52.5" lon="13.4">', "not valid XML"),
        (b'<?xml version="1.0"?>\n<gpx version="1.1"><trk></gpx>', "not valid XML"),
    ],
)
def test_bad_gpx_is_refused_with_a_clear_message(gpx, message):
    with pytest.raises(InputError, match=f"(?i){message}"):
        parse_ride_file(gpx, "ride.gpx")
