"""A catalog layer's SQL fragments are taken as written: a layer added at run time whose
fragments hold a `%` (a LIKE pattern), braces (a JSON literal, a label) and a value marker
beside them serves its tiles and its OGC items like any built-in layer; property names that
are not identifiers are refused when the layer is registered."""

from __future__ import annotations

from urllib.parse import quote

import mapbox_vector_tile
import pytest

from matching_and_import_db.layers.catalog import Catalog, Layer, Property, catalog
from tests.osm_helpers import tile_of
from tests.ride_helpers import load_oslo_roads, road_by_name

STREET = "Jacob Aalls gate"
NOTE = '50% {of the braces} and }{'
ODD_ROADS = Layer(
    id="odd_roads", title="Roads named like Aalls", group="Test", geometry_type="LineString",
    properties=(Property("name", "r.name"),
                Property("label", "'{' || r.highway || '}'"),
                Property("share", "'100%'"),
                Property("note", "'{\"note\": \"" + NOTE + "\"}'::jsonb ->> 'note'")),
    from_sql="osm_roads r", id_sql="r.osm_id", geom_sql="r.geom",
    geom_3857_sql="r.geom_3857",
    where_sql="r.name LIKE '%Aalls%' AND '{\"k\": \"}\"}'::jsonb ? 'k'",
    zoom_sql="%(z)s >= 12 AND '%(z)s' <> ''", cache=False)


@pytest.fixture
def odd_layer(db_conn):
    load_oslo_roads(db_conn)
    layers = catalog().layers
    catalog().register(ODD_ROADS)
    yield ODD_ROADS
    layers.pop(ODD_ROADS.id)


def test_a_layer_with_percent_and_braces_in_its_sql_serves_tiles(client, odd_layer):
    _, coords = road_by_name(STREET)
    lon, lat = coords[len(coords) // 2]
    resp = client.get("/tiles/odd_roads/{}/{}/{}.mvt".format(*tile_of(lon, lat, 15)))
    assert resp.status_code == 200, resp.data[:300]
    features = mapbox_vector_tile.decode(resp.data)["odd_roads"]["features"]
    names = {f["properties"]["name"] for f in features}
    assert STREET in names and all("Aalls" in n for n in names)
    one = next(f for f in features if f["properties"]["name"] == STREET)
    assert one["properties"]["share"] == "100%"
    assert one["properties"]["note"] == NOTE
    assert one["properties"]["label"].startswith("{") and one["properties"]["label"].endswith("}")


def test_a_layer_with_percent_and_braces_in_its_sql_serves_ogc_items(client, odd_layer):
    body = client.get("/ogc/collections/odd_roads/items?limit=1000").get_json()
    names = {f["properties"]["name"] for f in body["features"]}
    assert STREET in names and all("Aalls" in n for n in names)
    assert {f["properties"]["share"] for f in body["features"]} == {"100%"}
    assert {f["properties"]["note"] for f in body["features"]} == {NOTE}
    # a property filter whose value holds % and braces is bound, not spliced
    same = client.get(f"/ogc/collections/odd_roads/items?limit=1000&note={quote(NOTE)}")
    assert len(same.get_json()["features"]) == len(body["features"])
    none = client.get("/ogc/collections/odd_roads/items?share=" + quote("100%%"))
    assert none.get_json()["features"] == []
    feature_id = body["features"][0]["id"]
    item = client.get(f"/ogc/collections/odd_roads/items/{feature_id}")
    assert item.status_code == 200
    assert item.get_json()["properties"]["note"] == NOTE


@pytest.mark.parametrize("name", ['name" FROM osm_roads --', "Name", "1st", "a b", "", "é"])
def test_property_names_that_are_not_identifiers_are_refused(name):
    layer = Layer(id="bad_names", title="t", group="g", geometry_type="Point",
                  properties=(Property(name, "1"),), from_sql="osm_stops s",
                  geom_sql="s.geom", geom_3857_sql="s.geom_3857")
    with pytest.raises(ValueError, match="property name"):
        Catalog().register(layer)
