"""Rides for tests: OpenBikeSensor files written on the fly, synthetic rides along real
Oslo streets, and the road network loaded into osm_roads without a whole import."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import shapely
from psycopg2.extras import Json, execute_values

from matching_and_import_db.osm.reader import Road, read_osm
from tests.conftest import FIXTURES, OSLO_PBF, csrf_token, login

V2_COLUMNS = ("Date;Time;Millis;Comment;Latitude;Longitude;Altitude;Course;Speed;HDOP;"
              "Satellites;BatteryLevel;Left;Right;Confirmed;Marked;Invalid;InsidePrivacyArea;"
              "Factor;Measurements").split(";")
V2_METADATA = ("OBSDataFormat=2&OBSFirmwareVersion=v0.18.1&DeviceId=abcd&DataPerMeasurement=3&"
               "MaximumMeasurementsPerLine={n}&OffsetLeft=30&OffsetRight=30&TimeZone=GPS")


def obs_row(**values: str) -> dict[str, str]:
    """A format 2 row as the firmware writes it; GPS time 12:00:18 is 12:00:00 UTC."""
    row = {"Date": "01.06.2023", "Time": "12:00:18", "Millis": "5000", "Comment": "",
           "Latitude": "52.5200000", "Longitude": "13.4050000", "Altitude": "34.0",
           "Course": "90.0", "Speed": "18.0", "HDOP": "0.9", "Satellites": "9",
           "BatteryLevel": "3.9", "Left": "", "Right": "", "Confirmed": "0", "Marked": "",
           "Invalid": "0", "InsidePrivacyArea": "0", "Factor": "58", "Measurements": "2",
           "Tms1": "10", "Lus1": "8700", "Rus1": "", "Tms2": "70", "Lus2": "9860", "Rus2": ""}
    row.update(values)
    return row


def obs_file(rows: list[dict[str, str]], *, triplets: int = 30, columns: list[str] | None = None,
             metadata: str | None = None) -> bytes:
    """Metadata line, header and rows; cells are placed by the header's column names."""
    if columns is None:
        columns = V2_COLUMNS + [f"{kind}{i}" for i in range(1, triplets + 1)
                                for kind in ("Tms", "Lus", "Rus")]
    lines = [V2_METADATA.format(n=triplets) if metadata is None else metadata, ";".join(columns)]
    lines += [";".join(row.get(name, "") for name in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode()



GPS_LEAP_SECONDS = 18  # GPS time runs ahead of UTC by this since 2017


def gps_time(moment: datetime) -> tuple[str, str]:
    gps = moment + timedelta(seconds=GPS_LEAP_SECONDS)
    return gps.strftime("%d.%m.%Y"), gps.strftime("%H:%M:%S")


def ride_csv(points: list[tuple[datetime, float, float]], events: dict[int, int] | None = None,
             speed_kmh: float = 18.0) -> bytes:
    """An OpenBikeSensor format 2 file of these (UTC time, lon, lat) fixes; events maps a
    point's index to the confirmed left distance in cm at that point."""
    events = events or {}
    rows = []
    for i, (moment, lon, lat) in enumerate(points):
        date, time = gps_time(moment)
        left = events.get(i)
        # the receiver's course: the bearing towards the next fix (the last keeps the one before)
        j = min(i, len(points) - 2)
        course = _bearing(points[j][1:], points[j + 1][1:]) if len(points) > 1 else 0.0
        rows.append(obs_row(Date=date, Time=time, Latitude=f"{lat:.7f}", Longitude=f"{lon:.7f}",
                            Speed=f"{speed_kmh:.1f}", Course=f"{course:.1f}",
                            Left="" if left is None else str(left),
                            Confirmed="1" if left is not None else "0"))
    return obs_file(rows)


# --- rides along real streets ----------------------------------------------------------------

OSLO_CENTRE_BBOX = (10.70, 59.900, 10.80, 59.935)
STREET = "Jacob Aalls gate"  # an Oslo street in the demo extract, long enough to ride along
# a real OpenBikeSensor ride in Berlin (source, licence: tests/fixtures/rides/ATTRIBUTION.md)
BERLIN_RIDE = FIXTURES / "rides" / "obs" / "2022-02-19T12.58.59-b8cf.obsdata.csv"


@cache
def oslo_roads() -> tuple[Road, ...]:
    """The Oslo extract's roads in the centre, read once per test session."""
    x0, y0, x1, y1 = OSLO_CENTRE_BBOX
    roads = []
    for obj in read_osm(str(OSLO_PBF)):
        if isinstance(obj, Road):
            bx0, by0, bx1, by1 = shapely.bounds(shapely.from_wkb(bytes.fromhex(obj.wkb)))
            if bx0 >= x0 and bx1 <= x1 and by0 >= y0 and by1 <= y1:
                roads.append(obj)
    return tuple(roads)


def load_oslo_roads(conn) -> None:
    with conn.cursor() as cur:
        execute_values(cur, "INSERT INTO osm_roads (osm_id, highway, name, oneway, maxspeed, "
                       "surface, zone_traffic, cycleway, access, geom) VALUES %s",
                       [(r.osm_id, r.highway, r.name, r.oneway, r.maxspeed, r.surface,
                         r.zone_traffic, "{}", Json(r.access), r.wkb) for r in oslo_roads()],
                       template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                                "ST_GeomFromWKB(decode(%s, 'hex'), 4326))")
    conn.commit()


def road_by_name(name: str, min_length_m: float = 300) -> tuple[Road, list[tuple[float, float]]]:
    """The longest way of that name (a long stretch keeps the test ride on it)."""
    best, best_len = None, 0.0
    for road in oslo_roads():
        if road.name != name:
            continue
        coords = shapely.get_coordinates(shapely.from_wkb(bytes.fromhex(road.wkb))).tolist()
        length = sum(_metres(a, b) for a, b in zip(coords, coords[1:], strict=False))
        if length > best_len:
            best, best_len = (road, coords), length
    assert best and best_len >= min_length_m, f"no way named {name} of {min_length_m} m"
    return best


def _bearing(a, b) -> float:
    kx = math.cos(math.radians((a[1] + b[1]) / 2))
    return math.degrees(math.atan2((b[0] - a[0]) * kx, b[1] - a[1])) % 360


def _metres(a, b) -> float:
    kx = 111_320 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((b[0] - a[0]) * kx, (b[1] - a[1]) * 110_574)


def ride_along(coords: list[tuple[float, float]], start: datetime, speed_ms: float = 5.0,
               noise_m: float = 3.0, seed: int = 1, trim_m: float = 20.0
               ) -> list[tuple[datetime, float, float]]:
    """Fixes one second apart along the line, with GPS noise; trim_m keeps off the ends,
    where a ride could as well be on the next way."""
    cum = [0.0]
    for a, b in zip(coords, coords[1:], strict=False):
        cum.append(cum[-1] + _metres(a, b))
    rng = np.random.default_rng(seed)
    points, s, k = [], trim_m, 0
    while s <= cum[-1] - trim_m:
        while cum[k + 1] < s:
            k += 1
        f = (s - cum[k]) / max(cum[k + 1] - cum[k], 1e-9)
        lon = coords[k][0] + f * (coords[k + 1][0] - coords[k][0])
        lat = coords[k][1] + f * (coords[k + 1][1] - coords[k][1])
        dx, dy = rng.normal(0, noise_m, 2)
        lon += dx / (111_320 * math.cos(math.radians(lat)))
        lat += dy / 110_574
        points.append((start + timedelta(seconds=len(points)), lon, lat))
        s += speed_ms
    return points


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def street_ride(street: str, events: dict[int, int] | None = None, seed: int = 3,
                start: datetime | None = None):
    """A ride along one Oslo street: its road, the points and the OpenBikeSensor CSV (two
    overtaking events by default)."""
    road, coords = road_by_name(street)
    points = ride_along(coords, start or utc(2024, 5, 8, 17, 0, 0), seed=seed)
    return road, points, ride_csv(points, events or {20: 100, 70: 140})


def ride_page_paths(ride_id: int) -> tuple[str, ...]:
    """Every page, API and export that shows one ride (what a private ride hides)."""
    return (f"/rides/{ride_id}", f"/api/rides/{ride_id}", f"/api/rides/{ride_id}/data",
            f"/rides/{ride_id}/export.gpx", f"/rides/{ride_id}/export.geojson",
            f"/rides/{ride_id}/raw")


# --- riders with API keys, and their rides read back -----------------------------------

@dataclass
class Rider:
    client: object
    key: str
    sub: str

    def upload(self, data: bytes, filename: str = "ride.csv", public: bool | None = None):
        form = {"body": (io.BytesIO(data), filename)}
        if public is not None:
            form["public"] = "1" if public else "0"
        return self.client.post("/api/rides", data=form,
                                headers={"Authorization": f"OBSUserId {self.key}"},
                                content_type="multipart/form-data")

    def upload_id(self, data: bytes, filename: str = "ride.csv", public: bool | None = None
                  ) -> int:
        resp = self.upload(data, filename, public)
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()["ride"]["id"]

    def post_form(self, path: str, data: dict | None = None, page: str = "/"):
        return self.client.post(path, data={"csrf_token": csrf_token(self.client, page),
                                            **(data or {})})


def make_rider(app, oidc_provider, sub: str, roles=None) -> Rider:
    client = app.test_client()
    login(client, oidc_provider, sub, roles)
    page = client.post("/settings/api-key", data={"csrf_token": csrf_token(client)})
    assert page.status_code == 200
    key = page.data.decode().split('<pre id="api-key" class="key">')[1].split("<")[0]
    return Rider(client, key, sub)


def ride_row(conn, ride_id: int) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT status, status_message, events_count, points_matched, public, "
                    "recorded_at, length_m FROM rides WHERE id = %s", (ride_id,))
        row = cur.fetchone()
    conn.commit()
    keys = ("status", "status_message", "events_count", "points_matched", "public",
            "recorded_at", "length_m")
    return dict(zip(keys, row, strict=True)) if row else None


def events_of(conn, ride_id: int) -> list[dict]:
    """A ride's events in time order: time, way_id, direction, distance_left/right."""
    with conn.cursor() as cur:
        cur.execute("SELECT time, way_id, direction, distance_left, distance_right "
                    "FROM ride_events WHERE ride_id = %s ORDER BY time", (ride_id,))
        keys = [d[0] for d in cur.description]
        rows = [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
    conn.commit()
    return rows
