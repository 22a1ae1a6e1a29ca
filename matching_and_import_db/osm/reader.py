"""Read roads, public transport stops and stop_area relations from an OSM file (.osm.pbf,
.osm, .osm.gz/.bz2).

pyosmium does the parsing, the node-location cache and the tag pre-filtering in C++;
Python only sees the objects we keep, and geometries come out as hex WKB ready for COPY.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import osmium
import osmium.filter
import osmium.geom
import osmium.osm

from matching_and_import_db.errors import InputError

# highway values that are not a way one travels along
NOT_A_ROAD = frozenset({"platform", "bus_stop", "elevator", "services", "rest_area",
                        "proposed", "construction", "abandoned", "razed", "emergency_bay"})

# tags that say who may ride or drive on a road (the matcher and the road statistics read
# them): looked up one by one, which is cheaper than iterating every tag of every way
ACCESS_KEYS = ("footway", "access", "vehicle", "motor_vehicle", "bicycle", "foot", "psv",
               "bus", "service", "segregated", "motorroad", "oneway:bicycle")
# sidewalk, sidewalk:both/left/right and their sub-keys (sidewalk:left:bicycle, ...): only
# collected from ways that carry one of these
SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")

STOP_TAGS = (
    ("highway", "bus_stop"),
    ("public_transport", "platform"),
    ("public_transport", "stop_position"),
    ("public_transport", "station"),
    ("railway", "tram_stop"),
    ("railway", "halt"),
    ("railway", "station"),
)
# extra tags kept with a stop for matching and review: the tags its modes are read from
# (stops.modes), other names, and identifiers registries use
STOP_EXTRA_KEYS = ("public_transport", "highway", "railway", "bus", "tram", "train",
                   "trolleybus", "share_taxi", "light_rail", "subway", "ferry", "aerialway",
                   "funicular", "station", "amenity",
                   "network", "official_name", "short_name", "alt_name", "gtfs:stop_id",
                   "ref_name", "platform_ref", "ref:nsrq", "naptan:AtcoCode")
# the relation that groups the platforms, stop positions and station of one stop
STOP_AREA = ("public_transport", "stop_area")

# osmium's words for common breakage, and what they mean to the person who gave the file
_HINTS = (
    ("unexpected EOF", " (the file ends too early: truncated or an interrupted download)"),
    ("BlobHeader", " (this is not an OSM PBF file)"),
    ("Unknown top-level element", " (this is XML, but not OSM XML)"),
    ("gzip error", " (the gzip stream is damaged)"),
    ("bzip2 error", " (the bzip2 stream is damaged)"),
    ("XML parsing error", " (this is not well-formed XML)"),
)

_PLACE = re.compile(r"line (?P<line>\d+),? column (?P<column>\d+)")

_FORMATS = {".pbf": "pbf", ".osm": "osm", ".gz": "osm.gz", ".bz2": "osm.bz2"}


@dataclass(slots=True)
class Road:
    osm_id: int
    highway: str
    name: str | None
    oneway: str | None
    maxspeed: str | None
    surface: str | None
    zone_traffic: str | None
    cycleway: dict[str, str]  # every cycleway* tag, when the way has cycleway tagging
    wkb: str
    access: dict[str, str] = field(default_factory=dict)  # ACCESS_KEYS and sidewalk* tags


@dataclass
class Stop:
    osm_type: str
    osm_id: int
    kind: str
    tags: dict[str, str]  # all tags of the node or way
    wkb: str

    @property
    def extra(self) -> dict[str, str]:
        """Tags kept with the stop beyond its own columns, for matching and review: its
        names in other languages (name:*) too."""
        kept = {k: self.tags[k] for k in STOP_EXTRA_KEYS if k in self.tags}
        kept.update((k, v) for k, v in self.tags.items() if k.startswith("name:"))
        return kept


@dataclass
class StopArea:
    """A public_transport=stop_area relation: the node and way members of one stop."""
    osm_id: int
    name: str | None
    members: list[tuple[str, int]]  # ("n" | "w", id); relation members are left out


@dataclass
class Skipped:
    """A way whose geometry could not be built (nodes missing from the extract)."""
    osm_id: int


def detect_format(path: str) -> str:
    """The osmium format name, from the extension or, failing that, the first bytes."""
    lower = path.lower()
    for suffix in (".osm.pbf", ".osm.gz", ".osm.bz2", ".osm"):
        if lower.endswith(suffix):
            return _FORMATS["." + suffix.rsplit(".", 1)[1]]
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"\x1f\x8b"):
        return "osm.gz"
    if head.startswith(b"BZh"):
        return "osm.bz2"
    if head.lstrip().startswith(b"<"):
        return "osm"
    return "pbf"


def check_readable(path: str) -> int:
    """Fail early, with a message a person understands, on files that cannot be OSM."""
    if not os.path.exists(path):
        raise InputError(f"OSM file not found: {path}")
    size = os.path.getsize(path)
    if size == 0:
        raise InputError(f"OSM file {os.path.basename(path)} is empty (0 bytes)")
    return size


def stop_kind(tags) -> str | None:
    """The kind of stop the tags (a dict or osmium's TagList) describe, or None."""
    for key, value in STOP_TAGS:
        if tags.get(key) == value:
            return value
    return None


_PT_KINDS = frozenset({"platform", "stop_position", "station"})
_RAIL_KINDS = frozenset({"tram_stop", "halt", "station"})


def _way_stop_kind(highway: str | None, public_transport: str | None,
                   railway: str | None) -> str | None:
    """stop_kind() for a way, from the three tags the C++ filter let through (same order)."""
    if highway == "bus_stop":
        return highway
    if public_transport in _PT_KINDS:
        return public_transport
    if railway in _RAIL_KINDS:
        return railway
    return None


def read_osm(path: str, on_progress: Callable[[int], None] | None = None,
             ) -> Iterator[Road | Stop | StopArea | Skipped]:
    """Yield roads, stops and stop areas from the file; raise InputError when it is not
    readable OSM. Stop areas come last (relations follow nodes and ways in OSM files).

    Tags are looked up by key (one call into C++ each) rather than iterated: iterating
    builds a Python object per tag, which is most of the cost of reading a file. So a
    way's tags are only all read when it is a stop, or when it carries cycleway tagging
    (cycleway, cycleway:both/left/right) or sidewalk tagging, to collect every cycleway:*
    and sidewalk:* detail.
    """
    check_readable(path)
    fmt = detect_format(path)
    wkb = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(osmium.io.File(path, fmt),
                             osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION)
        .with_locations()
        .with_filter(osmium.filter.TagFilter(*STOP_TAGS).enable_for(osmium.osm.NODE))
        .with_filter(osmium.filter.KeyFilter("highway", "public_transport", "railway")
                     .enable_for(osmium.osm.WAY))
        .with_filter(osmium.filter.TagFilter(STOP_AREA).enable_for(osmium.osm.RELATION))
    )
    seen = 0
    try:
        for obj in processor:
            seen += 1
            if on_progress and seen % 5000 == 0:
                on_progress(seen)
            tags = obj.tags
            if obj.is_relation():
                members = [(m.type, m.ref) for m in obj.members if m.type in ("n", "w")]
                yield StopArea(obj.id, tags.get("name"), members)
                continue
            if obj.is_node():
                kind = stop_kind(tags)
                yield Stop("n", obj.id, kind, {t.k: t.v for t in tags}, wkb.create_point(obj))
                continue
            highway = tags.get("highway")
            kind = _way_stop_kind(highway, tags.get("public_transport"), tags.get("railway"))
            if highway is None and kind is None:
                continue
            try:
                line = wkb.create_linestring(obj)
            except (osmium.InvalidLocationError, RuntimeError):
                # ways cut at the extract's border lose nodes; fewer than 2 left is no line
                yield Skipped(obj.id)
                continue
            if kind is not None:
                yield Stop("w", obj.id, kind, {t.k: t.v for t in tags}, line)
            if highway is not None and highway not in NOT_A_ROAD and tags.get("area") != "yes":
                has_cycleway = ("cycleway" in tags or "cycleway:both" in tags
                                or "cycleway:left" in tags or "cycleway:right" in tags)
                cycleway = ({t.k: t.v for t in tags if t.k.startswith("cycleway")}
                            if has_cycleway else {})
                access = {k: v for k in ACCESS_KEYS if (v := tags.get(k)) is not None}
                if any(k in tags for k in SIDEWALK_KEYS):
                    access.update((t.k, t.v) for t in tags if t.k.startswith("sidewalk"))
                yield Road(obj.id, highway, tags.get("name"), tags.get("oneway"),
                           tags.get("maxspeed"), tags.get("surface"), tags.get("zone:traffic"),
                           cycleway, line, access)
    except RuntimeError as exc:  # osmium reports broken input as RuntimeError
        # osmium's own text may quote the input (an element's name): only our words, and
        # where it happened, go into the message
        text = str(exc)
        hint = next((h.strip(" ()") for needle, h in _HINTS if needle in text),
                    "osmium refused it")
        place = _PLACE.search(text)
        raise InputError(
            f"could not read {os.path.basename(path)} as OSM ({fmt})"
            + (f" at line {place['line']}, column {place['column']}" if place else "")
            + f": {hint}") from None
