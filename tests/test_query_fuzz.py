"""10,000 fuzzed query strings over every GET route of the URL map give no 5xx (issue 10,
"a standing security suite"): anonymous, as a rider and as an admin, with NUL bytes, huge
numbers, dates at the ends of the calendar, unicode, repeated keys and url_for's own
argument names. Hypothesis draws the requests (derandomized, so a run is repeatable); the
Flask test client sends them, so the whole run takes seconds per thousand.

Without the input layer (app/params.py) this finds 34 server errors among the anonymous
requests alone: dates that overflow the week rounding, NUL bytes reaching psycopg2."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict

from tests.conftest import make_app
from tests.ride_helpers import make_rider

# the requests of the three runs below add up to the 10,000 the issue asks for
REQUESTS = {"anonymous": 4000, "rider": 3000, "admin": 3000}
# sample values for the path's placeholders, by name (a route with another name fails)
PATH_VALUES = {"spec": ["roads", "rides", "events,road_stats", "stops"],
               "layer_id": ["roads", "events", "road_stats", "stops", "official_stops",
                            "stop_matches", "stop_problems", "my_rides"],
               "feature_id": ["1", "ch:1:sloid:exact", "n1"], "fmt": ["csv", "geojson", "gpx"],
               "filename": ["js/map.js"], "z": [14], "x": [8680], "y": [4766],
               "ride_id": [1], "way_id": [1], "pipeline_id": [1],
               # workspaces, their datasets and maps; GBFS feeds; sensors
               "slug": ["alpha", "demo"], "dataset": ["wells", "bicycle_parking"],
               "map_slug": ["stop-survey"], "identifier": ["p1"],
               "feed": ["oslobysykkel"], "station_id": ["1"], "version": ["2.3", "3.0"],
               "name": ["gbfs", "station_status"], "device": ["dev-1"]}
PLACEHOLDER = r"<(?:[a-z]+:)?([a-z_]+)>"
# every parameter name some view reads, and those url_for would take for its own
KNOWN_NAMES = ["bbox", "limit", "offset", "from", "to", "datetime", "mine", "f", "bbox-crs",
               "q", "type", "status", "priority", "area", "sort", "order", "visibility",
               "filename", "public", "title", "next", "error", "error_description", "code",
               "state", "name", "highway", "ref", "endpoint", "_method", "_external",
               "_scheme", "_anchor"]


def get_routes(app) -> list[str]:
    """Every GET route's rule, placeholders left in (`<int:ride_id>`)."""
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods]
    assert len(rules) > 30
    missing = {a for r in rules for a in r.arguments} - set(PATH_VALUES)
    assert not missing, f"add sample values for the new path placeholders {missing}"
    return sorted(r.rule for r in rules)


def paths(rule: str) -> st.SearchStrategy[str]:
    names = re.findall(PLACEHOLDER, rule)
    return st.fixed_dictionaries({n: st.sampled_from(PATH_VALUES[n]) for n in names}).map(
        lambda vals: re.sub(PLACEHOLDER, lambda m: str(vals[m.group(1)]), rule))


NUMBERS = st.one_of(st.integers(), st.integers(min_value=10**18, max_value=10**40),
                    st.floats(allow_nan=True, allow_infinity=True))
DATES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "1900-01-01", "2199-12-31T23:59:59+23:59",
                     "0001-01-01T00:00:00-23:59", "2024-05-08T17:00:00Z", "../..",
                     "2024-01-01/2023-01-01", "2024-05-08T17:00:00Z/..", "2024-13-45",
                     "24:00", "Z", "--", "1e309"]))
# the values that broke views before (issue 10, finding 9), drawn often
NASTY_VALUES = ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59-23:59", "\x00", "a\x00b",
                "9" * 40, "nan", "x" * 2500, "1,2,3", "../9999-12-31", "\u202e", "-1"]
NASTY = st.sampled_from(NASTY_VALUES)
VALUES = st.one_of(
    NASTY, NASTY, NASTY, NASTY, DATES,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.text(alphabet="\x00\r\n\t%'\"\\,;=./-_", max_size=12),
    NUMBERS.map(str), DATES,
    st.lists(NUMBERS.map(str), min_size=1, max_size=7).map(",".join),  # bbox-like
    st.sampled_from(["", "1", "0", "true", "html", "json", "csv", "all", "open", "asc",
                     "x" * 2500, "\x00", "http://evil.example/", "//evil.example", "-1"]))
NAMES = st.one_of(st.sampled_from(KNOWN_NAMES), st.sampled_from(KNOWN_NAMES),
                  st.text(max_size=12))
QUERIES = st.lists(st.tuples(NAMES, VALUES), max_size=6)  # repeated keys come up too


class RecordingArgs(ImmutableMultiDict):
    """request.args that notes the names a view asks for, so the fuzzing sends each route
    mostly the parameters it reads (a NUL in q means nothing to /livez)."""
    asked: set[str] = set()

    def get(self, key, default=None, type=None):  # noqa: A002  (MultiDict's own name)
        RecordingArgs.asked.add(key)
        return super().get(key, default, type)

    def __getitem__(self, key):
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingArgs.asked.add(key)
        return super().__contains__(key)


def names_read(app, client, routes: list[str]) -> dict[str, list[str]]:
    """Each route's query parameter names, as its view reads them for this client."""
    app.request_class = type("RecordingRequest", (app.request_class,),
                             {"parameter_storage_class": RecordingArgs})
    read = {}
    for rule in routes:
        RecordingArgs.asked = set()
        client.get(re.sub(PLACEHOLDER, lambda m: str(PATH_VALUES[m.group(1)][0]), rule))
        read[rule] = sorted(RecordingArgs.asked)
    return read


def queries_for(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    own = [st.sampled_from(names)] * 6 if names else []
    return st.lists(st.tuples(st.one_of(*own, NAMES), VALUES), max_size=6)


def fuzz(app, client, routes: list[str], count: int) -> Counter:
    """First a sweep: every route, every parameter its view reads, each nasty value alone
    (one bad parameter can hide another); then hypothesis for the rest of count."""
    statuses: Counter = Counter()
    failures: list[str] = []
    read = names_read(app, client, routes)
    assert {"from", "to"} <= set(read["/api/statistics"]), read["/api/statistics"]

    def send(path: str, query: list[tuple[str, str]]) -> None:
        url = f"{path}?{urlencode(query)}" if query else path
        resp = client.get(url)
        statuses[resp.status_code] += 1
        # /readyz answers 503 by design while no scheduler heartbeat is seen
        if resp.status_code >= 500 and not (path == "/readyz" and resp.status_code == 503):
            failures.append(f"{resp.status_code} {url[:300]}")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # an exception is a 500 to count, not a stop
    for rule in routes:
        path = re.sub(PLACEHOLDER, lambda m: str(PATH_VALUES[m.group(1)][0]), rule)
        for name in read[rule]:
            for value in NASTY_VALUES:
                send(path, [(name, value)])
    swept = sum(statuses.values())
    assert swept < count // 2, f"the sweep alone sends {swept} requests"

    @settings(max_examples=count - swept, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(routes).flatmap(
        lambda rule: st.tuples(paths(rule), queries_for(read[rule]))))
    def one_request(request: tuple[str, list[tuple[str, str]]]):
        send(*request)

    one_request()
    assert not failures, f"{len(failures)} responses were 5xx, e.g. {failures[:15]}"
    return statuses


@pytest.fixture
def fuzz_app(settings_env, golden):
    """Limits high enough that thousands of requests from one address are all answered."""
    app = make_app(settings_env, ratelimit_default="1000000 per minute",
                   ratelimit_tiles="1000000 per minute", ratelimit_login="1000000 per minute")
    yield app
    from app.extensions import db
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("who", list(REQUESTS))
def test_fuzzed_query_parameters_give_no_server_error(fuzz_app, oidc_provider, who):
    if who == "anonymous":
        client = fuzz_app.test_client()
    else:
        client = make_rider(fuzz_app, oidc_provider, who,
                            roles=["admin"] if who == "admin" else None).client
    statuses = fuzz(fuzz_app, client, get_routes(fuzz_app), REQUESTS[who])
    assert sum(statuses.values()) == REQUESTS[who]
    assert statuses[200] > REQUESTS[who] // 10  # not all refused: the fuzz reaches the views
    assert statuses[400] > REQUESTS[who] // 10  # and not all accepted: bad input is seen
