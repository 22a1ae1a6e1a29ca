"""The authorization matrix: every route of the URL map, every method, requested by an
anonymous visitor, the owner, another user, an operator and an admin (each logged in
through the real OIDC provider), against real objects: the owner's private and public
rides, their privacy zone, a published stops import with its pipeline, a decision.

Each view declares who may use it and what the others get (app/auth/access.py); this test
holds every answer to the declaration. A route without a declaration fails it. A refused
request changes nothing, and no answer to anyone but the owner carries the private ride."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest

from app.auth.access import ANONYMOUS, LOGIN, OWNER, VISITORS, rule_of
from app.extensions import db
from tests.conftest import csrf_token, make_app
from tests.dataset_helpers import PARKING_GEOJSON
from tests.osm_helpers import tile_of
from tests.ride_helpers import ride_along, ride_csv, road_by_name, utc
from tests.security_helpers import CANARIES, NOTE_PAIR, STREET, World, post
from tests.stops_helpers import GOLDEN_ATLAS

UNUSED_METHOD = "PROPFIND"  # no route of ours serves it (PATCH: OGC API Features Part 4)
WORKSPACE_VALUES = {"slug": "nowhere", "dataset": "none", "map_slug": "none",
                    "identifier": "none", "client_id": "none"}


@dataclass(frozen=True)
class Req:
    """How to make a request of one route that its allowed visitors succeed with."""
    params: dict = field(default_factory=dict)  # path values beyond the world's defaults
    public: dict = field(default_factory=dict)  # … for the request on a public object
    form: dict | None = None
    files: bool = False  # the form carries a ride file
    ok: tuple[int, ...] = ()  # what an allowed visitor gets; default: any 2xx or 3xx


def a_ride_file(seed: int) -> bytes:
    _, coords = road_by_name(STREET)
    return ride_csv(ride_along(coords, utc(2024, 6, 3, 9, 0, 0), seed=seed)[:40])


REQUESTS: dict[str, Req] = {
    "auth.callback": Req(ok=(400,)),  # no authorization code: the login failed, says so
    "health.readyz": Req(ok=(200, 503)),  # no scheduler runs beside this test
    "rides.export": Req({"fmt": "gpx"}),
    "rides_api.export_events": Req({"fmt": "geojson"}),
    "rides_api.export_roads": Req({"fmt": "csv"}),
    "stops_api.export_matches": Req({"fmt": "csv"}),
    "stops_api.export_problems": Req({"fmt": "geojson"}),
    "datasets.export": Req({"fmt": "csv"}),
    "ogc.item": Req(public={"layer_id": "events", "feature_id": "public_event"}),
    "static": Req({"filename": "js/banner.js"}),
    # the world has no sensors: everyone alike is told there is none
    "live.sensor_history": Req({"device": "matrix-sensor"}, ok=(404,)),
    "rides.upload_form": Req(form={"files": "ride"}, files=True),
    "rides_api.upload": Req(form={"body": "ride"}, files=True, ok=(201,)),
    "rides.set_visibility": Req(form={"public": "1"}),
    "rides.set_title": Req(form={"title": "renamed"}),
    "rides.delete_all": Req(form={"confirm": "delete"}),
    "account.add_zone": Req(form={"lon": "1.5", "lat": "1.5", "radius_m": "200"}),
    "account.default_visibility": Req(form={"public": "1"}),
    "pipelines.create": Req(form={"name": "matrix", "kind": "stops_import",
                                  "source": str(GOLDEN_ATLAS), "config": '{"format": "atlas"}'}),
    "pipelines.api_run_now": Req(ok=(202,)),
    "pipelines.api_preview": Req(form={"kind": "dataset", "source": str(PARKING_GEOJSON),
                                       "config": '{"slug": "matrix"}'}),
    "stops.decide": Req(form={"action": "note", "note": "matrix", **NOTE_PAIR}),
    "map_admin.save_form": Req(form={"layer-events-title": "Matrix events"}),
    "map_admin.import_yaml": Req(form={"yaml": "layers: [{id: roads, title: Matrix}]\n"}),
    # workspaces: this world has none, so their routes answer as to outsiders (404, 401 to
    # the anonymous); tests/test_workspace_matrix.py holds them to their workspace roles
    **{endpoint: Req(WORKSPACE_VALUES, ok=(404,)) for endpoint in (
        "workspace_maps.tile", "workspace_maps.tilejson", "workspace_maps.style",
        "workspace_maps.page")},
    "workspaces_admin.create": Req(form={"slug": "matrix", "name": "Matrix"}, ok=(201,)),
    "workspaces_admin_pages.create_form": Req(form={"slug": "matrix-page", "name": "M"}),
    "workspaces_admin.set_member": Req(WORKSPACE_VALUES, ok=(404,)),
    "workspaces_admin.register_client": Req(WORKSPACE_VALUES, ok=(404,)),
    "workspaces_admin.remove_member": Req(WORKSPACE_VALUES, ok=(404,)),
    "workspaces_admin.remove_client": Req(WORKSPACE_VALUES, ok=(404,)),
    # a workspace's page and its owners' forms: an admin may use them on any workspace,
    # but there is none here (tests/test_workspace_matrix.py holds the workspace roles)
    **{endpoint: Req(WORKSPACE_VALUES, ok=(404,)) for endpoint in (
        "workspace_pages.page", "workspace_pages.set_role", "workspace_pages.remove_member",
        "workspace_pages.remove_client")},
    "workspace_pages.add_member": Req(WORKSPACE_VALUES, form={"user": "x", "role": "viewer"},
                                     ok=(404,)),
    "workspace_pages.register_client": Req(WORKSPACE_VALUES, form={"client_id": "m"},
                                           ok=(404,)),
    # the first allowed visitor adds the feed, the next one is told it exists
    "live.api_create_feed": Req(form={"slug": "matrix", "url": "http://127.0.0.1:9/gbfs.json"},
                                ok=(201, 409)),
    "live.create_feed_page": Req(form={"slug": "matrix-page",
                                       "url": "http://127.0.0.1:9/gbfs.json"}, ok=(302, 409)),
    # no feed in this world: every visitor the route allows is told there is none
    "live.station_history": Req({"feed": "none", "station_id": "1"}, ok=(404,)),
    "live.republished": Req({"feed": "none", "version": "2.3", "name": "gbfs"}, ok=(404,)),
    "live.republished_root": Req({"feed": "none"}, ok=(404,)),
}


def tile_at(lon: float, lat: float, z: int) -> dict:
    return dict(zip(("z", "x", "y"), tile_of(lon, lat, z), strict=True))


def path_values(world: World, public: bool) -> dict:
    """The world's objects by the names routes give their path parts."""
    _, coords = road_by_name(STREET)
    ride = world.ids["public_ride" if public else "private_ride"]
    return {"ride_id": ride, "zone_id": world.ids["zone"],
            "pipeline_id": world.ids["pipeline"], "decision_id": world.ids["decision"],
            "way_id": world.ids["way"], "user_id": world.ids[f"{OWNER} id"],
            "layer_id": "roads" if public else "my_rides",
            "spec": "roads" if public else "my_rides", "feature_id": ride,
            **tile_at(*coords[len(coords) // 2], 14)}


def build_path(world: World, rule, public: bool) -> str:
    req = REQUESTS.get(rule.endpoint, Req())
    values = {**path_values(world, public), **WORKSPACE_VALUES, **req.params,
              **(req.public if public else {})}
    values = {k: world.ids.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: add the path values {missing} to REQUESTS"
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def send(client, method: str, path: str, req: Req, seed: int, csrf: bool = True):
    # buffered: a streamed answer (a download) is read whole within its request, as a WSGI
    # server reads it; one left unread would be closed whenever it is collected, popping
    # its request context in the middle of a later request's
    if method == "GET":
        return client.get(path, buffered=True)
    form = dict(req.form or {})
    if req.files:
        form = {k: (io.BytesIO(a_ride_file(seed)), "ride.csv") if v == "ride" else v
                for k, v in form.items()}
    kwargs = {"content_type": "multipart/form-data"} if req.files else {}
    kwargs["buffered"] = True
    if method != "POST":  # PUT, DELETE: the same form, with the token when it is sent
        headers = {"X-CSRFToken": csrf_token(client)} if csrf else {}
        return client.open(path, method=method, data=form, headers=headers, **kwargs)
    if csrf:
        return post(client, path, form, **kwargs)
    return client.post(path, data=form, **kwargs)


def judge(resp, expected, req: Req) -> str | None:
    """None when the answer is the declared one; else what is wrong."""
    location = resp.headers.get("Location", "")
    if expected is None:
        good = resp.status_code in req.ok if req.ok else (
            200 <= resp.status_code < 400 and "/login" not in location)
        return None if good else f"allowed, got {resp.status_code} {location}"
    if expected == LOGIN:
        good = resp.status_code == 302 and location.startswith("/login")
        return None if good else f"expected a redirect to log in, got {resp.status_code}"
    return None if resp.status_code == expected else \
        f"expected {expected}, got {resp.status_code}"


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods))):
        if rule.redirect_to is not None:  # an old URL: 308 for everyone,
            continue  # the new one answers as declared (test_legacy_urls)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def app(settings_env):
    """The app, with room for the matrix's logins (each visitor logs in again after a
    request of theirs ended their session: logout, an admin ending sessions)."""
    # (and for its requests: a minute's worth passes the default limit of one address)
    app = make_app(settings_env, ratelimit_login="1000 per minute",
                   ratelimit_default="100000 per minute")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def world(app, oidc_provider, settings_env, db_conn, process, tmp_path) -> World:
    return World(app, oidc_provider, settings_env, db_conn, process).build(tmp_path)


def test_every_route_declares_who_may_use_it(app):
    undeclared = [f"{method} {rule.rule} ({rule.endpoint})" for rule, method in routes(app)
                  if rule_of(app, rule.endpoint) is None]
    assert not undeclared, ("declare who may use these with @access (app/auth/access.py): "
                            + ", ".join(undeclared))


def test_every_route_answers_every_visitor_as_declared(app, world):
    wrong: list[str] = []
    seed = 100
    for rule, method in routes(app):
        declared = rule_of(app, rule.endpoint)
        req = REQUESTS.get(rule.endpoint, Req())
        for public in (False, True) if declared.public is not None else (False,):
            path = build_path(world, rule, public)
            # the refused first: they must change nothing the allowed ones then change
            order = sorted(VISITORS, key=lambda v: declared.answer(v, public) is None)
            baseline = world.fingerprint()
            for visitor in order:
                seed += 1
                expected = declared.answer(visitor, public)
                resp = send(world.clients[visitor], method, path, req, seed)
                problem = judge(resp, expected, req)
                if problem:
                    wrong.append(f"{method} {path} as {visitor}: {problem}")
                if visitor != OWNER and any(c in resp.data for c in CANARIES):
                    wrong.append(f"{method} {path} as {visitor}: shows the private ride")
                if expected is not None and world.fingerprint() != baseline:
                    wrong.append(f"{method} {path} as {visitor}: refused, but changed data")
                if method != "GET" or world.fingerprint() != baseline:
                    world.restore(baseline)
                    baseline = world.fingerprint()
                    path = build_path(world, rule, public)
    assert not wrong, "\n".join(wrong)


def test_methods_a_route_does_not_serve_get_405_naming_those_it_does(app, world):
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        served.setdefault(rule.rule, set()).update(rule.methods)
    wrong = []
    for rule in {r.rule: r for r in app.url_map.iter_rules()}.values():
        path = build_path(world, rule, public=False)
        resp = world.clients[ANONYMOUS].open(path, method=UNUSED_METHOD)
        allow = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
        if resp.status_code != 405 or allow != served[rule.rule]:
            wrong.append(f"{UNUSED_METHOD} {path}: {resp.status_code}, Allow {sorted(allow)}")
    assert not wrong, "\n".join(wrong)


def test_every_state_changing_route_refuses_a_request_without_its_csrf_token(app, world):
    wrong = []
    baseline = world.fingerprint()
    for rule, method in routes(app):
        if method == "GET":
            continue
        declared = rule_of(app, rule.endpoint)
        allowed = next((v for v in VISITORS if declared.answer(v) is None), None)
        if allowed is None:  # a workspace's route: tests/test_workspace_matrix.py
            continue
        path = build_path(world, rule, public=False)
        resp = send(world.clients[allowed], method, path, REQUESTS.get(rule.endpoint, Req()),
                    seed=7, csrf=False)
        if resp.status_code != 400 or b"security token" not in resp.data:
            wrong.append(f"{method} {path} as {allowed} without a token: {resp.status_code}")
        if world.fingerprint() != baseline:
            wrong.append(f"{method} {path} as {allowed} without a token: changed data")
            world.restore(baseline)
            baseline = world.fingerprint()
    assert not wrong, "\n".join(wrong)
