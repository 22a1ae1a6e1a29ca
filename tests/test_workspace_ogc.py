"""OGC API Features Part 4 over a workspace's dataset: create, read, replace, update and
delete one feature, with the batch API's rules (a newer modification time wins) and its
tile invalidation."""

from __future__ import annotations

from tests.workspace_helpers import bearer

ITEMS = "/api/workspaces/alpha/collections/wells/items"


def feature(identifier=None, status="working", modified="2026-11-30T10:00:00Z",
            coords=(10.7732, 59.9149)):
    out = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(coords)},
           "properties": {"name": "Well", "lastUpdateDateTime": modified,
                          "answers": {"status": status}}}
    if identifier:
        out["id"] = identifier
    return out


def test_create_read_replace_update_and_delete_a_feature(ws_world):
    client = ws_world.app.test_client()
    auth = bearer(ws_world.tokens["alpha-sync"])
    created = client.post(ITEMS, json=feature("w1"), headers=auth)
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.endswith("/items/w1")
    got = client.get(location, headers=auth)
    assert got.status_code == 200 and got.mimetype == "application/geo+json"
    assert got.json["id"] == "w1" and got.json["properties"]["answers"] == {"status": "working"}

    assert client.post(ITEMS, json=feature("w1"), headers=auth).status_code == 409
    replaced = client.put(location, json=feature(status="dry",
                                                 modified="2026-11-30T11:00:00Z"),
                          headers=auth)
    assert replaced.status_code == 204
    assert client.get(location, headers=auth).json["properties"]["answers"] == {"status": "dry"}
    older = client.put(location, json=feature(modified="2026-11-01T00:00:00Z"), headers=auth)
    assert older.status_code == 409

    patched = client.patch(location, json={"properties": {"depth_m": 12}}, headers=auth)
    assert patched.status_code == 204
    props = client.get(location, headers=auth).json["properties"]
    assert props["answers"] == {"status": "dry", "depth_m": 12} and props["name"] == "Well"

    listed = client.get(ITEMS + "?limit=5", headers=auth).json
    assert [f["id"] for f in listed["features"]] == ["w1"]
    assert client.delete(location, headers=auth).status_code == 204
    assert client.get(location, headers=auth).status_code == 404
    assert client.delete(location, headers=auth).status_code == 404


def test_a_feature_that_is_not_one_is_refused_naming_the_problem(ws_world):
    client = ws_world.app.test_client()
    auth = bearer(ws_world.tokens["alpha-sync"])
    resp = client.post(ITEMS, json={"type": "Feature", "id": "x", "geometry": {
        "type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, headers=auth)
    assert resp.status_code == 400 and "Point" in resp.json["error"]["message"]
    assert client.get(ITEMS, headers=auth).status_code == 404  # nothing made, not even it
