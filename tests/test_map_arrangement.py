"""The map as admins arrange it (/admin/map): moving and restyling layers changes the style
document, the layer panel's catalog and /api/layers at once; every change is a version with
who and when, undo brings the one before back; YAML goes out and comes back the same, and a
bad file is refused naming its line and key, with nothing saved. Visitors' access is the
catalog's whatever the arrangement says."""

from __future__ import annotations

import html
import io
import json

import pytest

from app.extensions import db
from matching_and_import_db.arrangement.model import (
    Arrangement,
    LayerArrangement,
    LayerFacts,
    place,
)
from tests.conftest import csrf_token, login, make_app, wait_until
from tests.dataset_helpers import PARKING_GEOJSON, dataset_pipeline, run_dataset


@pytest.fixture
def admin(app, oidc_provider):
    client = app.test_client()
    login(client, oidc_provider, "ada", ["admin"])
    return client


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/map"),
                                   **(data or {})}, **kwargs)


def layers_by_id(client) -> dict[str, dict]:
    resp = client.get("/api/layers")
    assert resp.headers["Cache-Control"] == "no-cache"
    return {la["id"]: la for g in resp.get_json()["groups"] for la in g["layers"]}


def style_layer(client, layer_id: str) -> dict:
    resp = client.get("/styles/portal.json")
    assert resp.headers["Cache-Control"] == "no-cache"
    return next(la for la in resp.get_json()["layers"] if la["id"] == layer_id)


def history(client) -> str:
    page = client.get("/admin/map").data.decode()
    return page.split("<h2>History</h2>")[1]


def import_yaml(client, text: str):
    return post(client, "/admin/map/import", {"yaml": text})


MOVE_EVENTS = {"layer-events-group": "base-map", "layer-events-style": "colour",
               "layer-events-colour": "#ff00ff", "layer-events-order": "0",
               "layer-roads-order": "1"}


def test_moving_and_recolouring_a_layer_shows_in_the_style_and_the_catalog_at_once(
        admin, client):
    assert layers_by_id(client)["events"]["group"] == "Rides"
    done = post(admin, "/admin/map", MOVE_EVENTS)
    assert done.status_code == 303 and "done=saved" in done.headers["Location"]

    groups = client.get("/api/layers").get_json()["groups"]
    base = next(g for g in groups if g["id"] == "base-map")
    assert [la["id"] for la in base["layers"]] == ["events", "roads"]
    events = layers_by_id(client)["events"]
    assert events["group"] == "Base map"
    assert events["legend"] == [["#ff00ff", "Overtaking events"]]
    entry = style_layer(client, "events")
    assert entry["paint"]["circle-color"] == "#ff00ff"
    assert entry["metadata"]["portal:group"] == "Base map"
    # the tiles stay the catalog's: the same source, the same URL
    assert entry["source"] == "rides"
    assert "Rides" in client.get("/styles/portal.json").get_json()["metadata"]["portal:groups"]


def test_every_change_is_a_version_with_who_and_undo_brings_the_previous_back(admin, client):
    post(admin, "/admin/map", MOVE_EVENTS)
    post(admin, "/admin/map", {"group-rides-title": "Cycling", "layer-roads-title": "Roads",
                               "layer-roads-visible": "", "group-rides-collapsed": "1"})
    assert "Cycling" in {g["title"] for g in client.get("/api/layers").get_json()["groups"]}
    assert layers_by_id(client)["roads"]["visible"] is False
    assert style_layer(client, "roads")["layout"]["visibility"] == "none"
    rows = history(admin)
    assert rows.count("Ada") == 2
    assert "events: group, style" in rows and "group rides: title, collapsed" in rows

    done = post(admin, "/admin/map/undo")
    assert "done=undone" in done.headers["Location"]
    after = layers_by_id(client)
    assert after["roads"]["title"] == "Streets" and after["roads"]["visible"] is True
    assert after["events"]["group"] == "Base map"  # the first change stays
    assert "undone by Ada" in history(admin)

    post(admin, "/admin/map/undo")
    assert layers_by_id(client)["events"]["group"] == "Rides"
    assert style_layer(client, "events")["paint"]["circle-color"][0] == "case"
    nothing = post(admin, "/admin/map/undo")
    assert "done=nothing-to-undo" in nothing.headers["Location"]


def test_saving_the_same_arrangement_again_makes_no_version(admin):
    post(admin, "/admin/map", MOVE_EVENTS)
    again = post(admin, "/admin/map", MOVE_EVENTS)
    assert "done=unchanged" in again.headers["Location"]
    assert history(admin).count("Ada") == 1


STYLED = """\
groups:
  - {id: rides, title: Cycling safety}
  - {id: base-map, title: Streets and paths, collapsed: true}
  - {id: transit, title: Transit}
layers:
  - id: road_stats
    style:
      property: below_share
      graduated: [[0, "#00ff00"], [0.5, "#ff0000"]]
      below: "#cccccc"
    legend: Share of passes closer than the legal minimum
    popup: [name, passes, below_share]
    minzoom: 11
  - id: stops
    group: transit
    style:
      property: kind
      categories: {platform: "#0000ff", stop_position: "#00ffff"}
      other: "#777777"
  - id: roads
    title: Roads
"""


def test_yaml_export_imports_back_the_same_arrangement(admin, client):
    done = import_yaml(admin, STYLED)
    assert done.status_code == 303 and "done=imported" in done.headers["Location"], done.data
    groups = client.get("/api/layers").get_json()["groups"]
    assert [g["title"] for g in groups][:3] == ["Cycling safety", "Streets and paths",
                                                "Transit"]
    assert groups[1]["collapsed"] is True
    stats = layers_by_id(client)["road_stats"]
    assert stats["legend"][0] == ["#cccccc", "below 0"]
    assert stats["legend_text"].startswith("Share of passes")
    assert stats["popup_fields"] == ["name", "passes", "below_share"]
    paint = style_layer(client, "road_stats")
    assert paint["minzoom"] == 11
    assert paint["paint"]["line-color"][-4:] == [0, "#00ff00", 0.5, "#ff0000"]
    stops = style_layer(client, "stops")["paint"]["circle-color"]
    assert stops[:2] == ["match", ["to-string", ["get", "kind"]]] and stops[-1] == "#777777"

    exported = admin.get("/admin/map/arrangement.yaml")
    assert exported.mimetype == "application/yaml"
    text = exported.data.decode()
    assert "graduated:" in text and "Cycling safety" in text
    assert "id: official_stops" in text  # the whole map, arranged or not
    post(admin, "/admin/map/undo")
    assert layers_by_id(client)["roads"]["title"] == "Streets"
    import_yaml(admin, text)
    assert admin.get("/admin/map/arrangement.yaml").data.decode() == text
    assert layers_by_id(client)["roads"]["title"] == "Roads"


@pytest.mark.parametrize("text, message", [
    ("groups: [\n  {id: rides\n", "line 3"),  # the flow mapping never closes
    ("groups:\n  - id: rides\n    colour: red\n", "line 3: unknown key 'colour' in groups.0"),
    ("layers:\n  - id: roads\n  - id: nope\n", "line 3: layers.1.id: there is no layer 'nope'"),
    ("layers:\n  - id: roads\n    style: {colour: reddish}\n",
     "line 3: layers.0 (roads).style.colour must be a colour"),
    ("layers:\n  - id: events\n    style:\n      property: colourz\n"
     "      categories: {a: '#fff'}\n",
     "line 4: layers.0 (events).style.property: layer 'events' has no property 'colourz'"),
    ("layers:\n  - id: stops\n    style:\n      property: name\n"
     "      graduated: [[0, '#fff']]\n", "'name' is not a number"),
    ("layers:\n  - id: roads\n    group: nowhere\n",
     "line 3: layers.0 (roads).group: there is no group"),
    ("layers:\n  - id: roads\n    popup: [name, secret]\n", "line 3: layers.0 (roads).popup.1"),
    ("layers:\n  - id: roads\n    minzoom: 30\n", "line 3: layers.0 (roads).minzoom must be"),
    ("basemap: satellite\n", "line 1: basemap: 'satellite' is not a configured basemap"),
    ("- just a list\n", "the document must be a mapping"),
])
def test_a_bad_yaml_file_is_refused_naming_its_line_and_nothing_changes(admin, client, text,
                                                                         message):
    before = client.get("/styles/portal.json").get_json()
    resp = import_yaml(admin, text)
    assert resp.status_code == 400
    assert message in html.unescape(resp.data.decode())
    assert client.get("/styles/portal.json").get_json() == before
    assert "No changes yet" in history(admin)


def test_an_uploaded_file_imports_too(admin, client):
    resp = post(admin, "/admin/map/import",
                {"file": (io.BytesIO(b"layers:\n  - {id: stops, title: Halts}\n"), "a.yaml")},
                content_type="multipart/form-data")
    assert resp.status_code == 303
    assert layers_by_id(client)["stops"]["title"] == "Halts"


def test_a_bad_form_value_is_refused_and_nothing_is_saved(admin):
    resp = post(admin, "/admin/map", {"layer-events-style": "colour",
                                      "layer-events-colour": "pink"})
    assert resp.status_code == 400
    assert "(events).style.colour must be a colour" in html.unescape(resp.data.decode())
    assert "No changes yet" in history(admin)


def test_a_layer_a_visitor_may_not_see_stays_invisible_whatever_the_arrangement(
        admin, client):
    import_yaml(admin, "layers:\n  - {id: my_rides, group: base-map, visible: true}\n")
    assert "my_rides" not in layers_by_id(client)
    style = client.get("/styles/portal.json").get_json()
    assert "my_rides" not in {la["id"] for la in style["layers"]}
    assert not any("my_rides" in s["url"] for s in style["sources"].values())
    assert "my_rides" in layers_by_id(admin)  # a logged-in user sees their own, as before


@pytest.mark.parametrize("role, status", [("user", 404), ("operator", 404)])
def test_only_admins_arrange_the_map(app, oidc_provider, client, role, status):
    other = app.test_client()
    login(other, oidc_provider, f"not-{role}", [role])
    assert other.get("/admin/map").status_code == status
    assert post(other, "/admin/map", MOVE_EVENTS).status_code == status
    assert other.post("/admin/map/import", data={"yaml": "layers: []"}).status_code \
        in (400, 404)  # without its CSRF token it is refused before anything
    assert other.get("/admin/map/arrangement.yaml").status_code == status
    assert client.get("/admin/map").status_code == 302  # anonymous: log in first
    assert layers_by_id(client)["events"]["group"] == "Rides"


def test_the_arrangement_chooses_among_configured_basemaps(settings_env, oidc_provider):
    app = make_app(settings_env, basemap_style_url="https://tiles.example.org/style.json",
                   basemap_styles="topo=https://topo.example.net/style.json")
    try:
        admin = app.test_client()
        login(admin, oidc_provider, "ada", ["admin"])
        page = admin.get("/")
        assert 'data-basemap="https://tiles.example.org/style.json"' in page.data.decode()
        assert "https://topo.example.net" in page.headers["Content-Security-Policy"]
        import_yaml(admin, "basemap: topo\n")
        assert 'data-basemap="https://topo.example.net/style.json"' in \
            app.test_client().get("/").data.decode()
        import_yaml(admin, "basemap: none\n")
        assert 'data-basemap=""' in app.test_client().get("/").data.decode()
        assert app.test_client().get("/styles/portal.json").get_json()["metadata"][
            "portal:basemap"] is None
    finally:
        with app.app_context():
            db.engine.dispose()


FACTS = [LayerFacts("roads", "Streets", "Base map", "LineString", {"name": "string"}),
         LayerFacts("events", "Events", "Rides", "Point", {"speed": "number"}),
         LayerFacts("bike_counts", "Bike counters", "Open data", "Point", {"n": "integer"})]


def test_layers_registered_later_appear_in_their_declared_group_after_the_arranged():
    arrangement = Arrangement(layers=(LayerArrangement("events", group="base-map"),))
    placed = place(arrangement, FACTS)
    assert [(g.id, [la.id for la in g.layers]) for g in placed] == [
        ("base-map", ["events", "roads"]), ("open-data", ["bike_counts"])]
    later = place(Arrangement(layers=(LayerArrangement("bike_counts", group="base-map"),)),
                  FACTS)
    assert [la.id for la in later[0].layers] == ["bike_counts", "roads"]


def test_a_stored_arrangement_that_no_longer_fits_the_catalog_keeps_the_rest(
        admin, client, db_conn):
    """A layer removed from the catalog, or a declared group gone, since the version was
    saved: those entries are left out, the map still opens with everything else."""
    document = {"groups": [{"id": "rides", "title": "Cycling", "collapsed": False}],
                "layers": [{"id": "gone_layer", "title": "Gone"},
                           {"id": "roads", "group": "a-group-no-longer-declared"},
                           {"id": "stops", "title": "Halts"}],
                "basemap": "no-longer-configured"}
    with db_conn.cursor() as cur:
        cur.execute("INSERT INTO map_arrangement_versions (document, summary)"
                    " VALUES (%s, 'by hand')", (json.dumps(document),))
    db_conn.commit()
    layers = layers_by_id(client)
    assert layers["stops"]["title"] == "Halts"
    assert layers["roads"]["group"] == "Base map"
    assert "Cycling" in {g["title"] for g in client.get("/api/layers").get_json()["groups"]}
    assert client.get("/styles/portal.json").status_code == 200
    assert admin.get("/admin/map").status_code == 200


def test_the_command_line_seeds_the_map_from_yaml_and_refuses_a_bad_file(app, client,
                                                                          tmp_path):
    seed = tmp_path / "map.yaml"
    seed.write_text("layers:\n  - {id: events, title: Close passes, visible: false}\n")
    cli = app.test_cli_runner()
    done = cli.invoke(args=["map", "import", str(seed)])
    assert done.exit_code == 0 and "version 1: events: title, visible" in done.output
    assert layers_by_id(client)["events"]["title"] == "Close passes"
    exported = cli.invoke(args=["map", "export"])
    assert "title: Close passes" in exported.output
    seed.write_text("layers:\n  - {id: events, titel: Close passes}\n")
    bad = cli.invoke(args=["map", "import", str(seed)])
    assert bad.exit_code != 0 and "line 2: unknown key 'titel' in layers.0" in bad.output
    assert layers_by_id(client)["events"]["title"] == "Close passes"


def test_a_new_group_waits_on_the_admin_page_until_layers_move_into_it(admin, client):
    post(admin, "/admin/map", {"new_group": "Cycling network"})
    page = admin.get("/admin/map").data.decode()
    assert 'name="group-cycling-network-title" value="Cycling network"' in page
    assert "Cycling network" not in {g["title"] for g in
                                     client.get("/api/layers").get_json()["groups"]}
    post(admin, "/admin/map", {"layer-roads-group": "cycling-network"})
    groups = client.get("/api/layers").get_json()["groups"]
    assert [la["id"] for g in groups if g["title"] == "Cycling network"
            for la in g["layers"]] == ["roads"]


def test_a_colour_goes_on_the_topmost_style_layer_and_on_a_hollow_circles_stroke(
        admin, client):
    import_yaml(admin, "layers:\n  - {id: roads, style: {colour: '#123456'}}\n"
                       "  - {id: stop_problems, style: {colour: '#654321'}}\n")
    style = {la["id"]: la for la in client.get("/styles/portal.json").get_json()["layers"]}
    assert style["roads-2"]["paint"]["line-color"] == "#123456"
    assert style["roads-1"]["paint"]["line-color"] == "#a8a195"  # the casing keeps its own
    problems = style["stop_problems"]["paint"]
    assert problems["circle-stroke-color"] == "#654321"
    assert problems["circle-color"] == "rgba(0,0,0,0)"


def test_a_dataset_published_later_joins_its_group_and_is_arranged_like_the_others(
        admin, client, settings_env, db_conn):
    pipeline = dataset_pipeline(db_conn, "parking", slug="bicycle_parking",
                                source=str(PARKING_GEOJSON), title="Bicycle parking",
                                group="Open data", colour="#1f78b4")
    assert run_dataset(settings_env, pipeline)["status"] == "succeeded"
    wait_until(lambda: "bicycle_parking" in layers_by_id(client), 10,
               message="the dataset in /api/layers")
    assert layers_by_id(client)["bicycle_parking"]["group"] == "Open data"
    assert 'name="layer-bicycle_parking-title"' in admin.get("/admin/map").data.decode()

    post(admin, "/admin/map", {"layer-bicycle_parking-group": "public-transport",
                               "layer-bicycle_parking-style": "colour",
                               "layer-bicycle_parking-colour": "#00aa00"})
    parking = layers_by_id(client)["bicycle_parking"]
    assert parking["group"] == "Public transport"
    assert style_layer(client, "bicycle_parking")["paint"]["circle-color"] == "#00aa00"
    assert "Open data" not in {g["title"] for g in client.get("/api/layers").get_json()["groups"]}


def test_the_admin_arranges_a_dataset_the_moment_it_is_published(admin, settings_env,
                                                                   db_conn):
    # the page was just read, so this process's catalog has just checked the database:
    # the admin's edit must still see the dataset published after that look
    assert "bicycle_parking" not in admin.get("/admin/map").data.decode()
    pipeline = dataset_pipeline(db_conn, "parking", slug="bicycle_parking",
                                source=str(PARKING_GEOJSON), title="Bicycle parking",
                                group="Open data", colour="#1f78b4")
    assert run_dataset(settings_env, pipeline)["status"] == "succeeded"
    saved = import_yaml(admin, "layers:\n  - {id: bicycle_parking, popup: [capacity]}\n")
    assert saved.status_code == 303, saved.data.decode()[-400:]
    assert 'name="layer-bicycle_parking-title"' in admin.get("/admin/map").data.decode()
