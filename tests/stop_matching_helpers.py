"""Helpers shared by the stop matching tests: official and OSM stops made in place, offsets
in metres, and a small OSM file with a stop_area relation."""

from __future__ import annotations

import math

from matching_and_import_db.stops.model import OfficialStop, OsmStopRef

M_PER_DEG = 111_195.0


def official(stop_id: str, name: str | None, lon: float = 8.0, lat: float = 47.0,
             **fields) -> OfficialStop:
    return OfficialStop("test", stop_id, name, lon, lat, **fields)


def osm(osm_id: int, name: str | None, lon: float = 8.0, lat: float = 47.0,
        kind: str = "platform", **fields) -> OsmStopRef:
    values = dict(ref=None, uic_ref=None, ref_ifopt=None, ref_sloid=None, local_ref=None,
                  operator=None, tags={})
    values.update(fields)
    return OsmStopRef("n", osm_id, kind, name, lon=lon, lat=lat, **values)


def north(metres: float, lat: float = 47.0) -> float:
    return lat + metres / M_PER_DEG


def east(metres: float, lon: float = 8.0, lat: float = 47.0) -> float:
    return lon + metres / (M_PER_DEG * math.cos(math.radians(lat)))


# one stop_area relation (a platform and a stop position) and a stop outside it
STOP_AREA_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="47.00004" lon="8.0"><tag k="public_transport" v="platform"/>
    <tag k="name" v="Dorfplatz"/><tag k="bus" v="yes"/></node>
  <node id="2" lat="46.99996" lon="8.0"><tag k="public_transport" v="stop_position"/>
    <tag k="bus" v="yes"/></node>
  <node id="3" lat="47.001" lon="8.0"><tag k="highway" v="bus_stop"/>
    <tag k="name" v="Schule"/></node>
  <relation id="77"><member type="node" ref="1" role="platform"/>
    <member type="node" ref="2" role="stop"/>
    <tag k="type" v="public_transport"/><tag k="public_transport" v="stop_area"/>
    <tag k="name" v="Dorfplatz"/></relation>
</osm>
"""
