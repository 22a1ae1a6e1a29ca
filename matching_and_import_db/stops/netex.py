"""NeTEx stop registers: `StopPlace`s with their `Quay`s, as Norway's national stop register
(NSR) and the EU's national access points publish them, in .xml, .xml.gz or a zip of XML
files.

Each StopPlace becomes a `place` row (mode from TransportMode, else StopPlaceType), each of
its Quays a `platform` row whose parent_id is the StopPlace id and whose platform_code is
the quay's PublicCode. A multimodal parent stop place (NSR's IS_PARENT_STOP_PLACE; its
children point at it with ParentSiteRef) is a place too; its children without a name take
its name, and quays without one take their stop place's.

The file is read streaming (lxml iterparse): each StopPlace is read when it closes and then
dropped, so a national register does not have to fit in memory as a tree. Elements are
matched by local name, whatever namespace prefix (or none) the publisher used.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime

from lxml import etree

from matching_and_import_db.errors import InputError
from matching_and_import_db.stops.crs import pos_to_wgs84
from matching_and_import_db.stops.model import OfficialStop
from matching_and_import_db.stops.readers import ZIP_MEMBER_ERRORS, RegistryRead, SkippedRow
from matching_and_import_db.stops.registry_modes import mode_of

_NETEX_ROOT = "PublicationDelivery"


def is_netex(path: str) -> bool:
    """A NeTEx file (or a zip of them): its first XML element is a PublicationDelivery."""
    try:
        with _xml_streams(path) as streams:
            for _name, stream in streams:
                head = stream.read(4096)
                return _NETEX_ROOT.encode() in head
    except (*ZIP_MEMBER_ERRORS, InputError):  # unreadable: not NeTEx, whatever else it is
        return False
    return False


def read_netex(path: str) -> RegistryRead:
    """Every StopPlace and Quay of the file(s); of an object given in several versions, the
    highest (with the quays that version lists). Quays are read inside their StopPlace
    (NSR) or as objects of their own that the StopPlace lists by QuayRef (the frames of
    other access points)."""
    read = RegistryRead()
    places: dict[str, OfficialStop] = {}
    versions: dict[str, int] = {}
    quays_of: dict[str, list[OfficialStop]] = {}
    listed_by: dict[str, str] = {}  # quay id → the stop place whose QuayRefs name it
    standalone: dict[str, tuple[OfficialStop, int]] = {}
    with _xml_streams(path) as streams:
        for name, stream in streams:
            for found in _stop_places(stream, name, read.skipped):
                if isinstance(found, _Quay):
                    kept = standalone.get(found.stop.stop_id)
                    if kept is None or kept[1] < found.version:
                        standalone[found.stop.stop_id] = (found.stop, found.version)
                    continue
                place = found.place
                if place.stop_id in versions and versions[place.stop_id] >= found.version:
                    read.skipped.append(SkippedRow(0, place.stop_id, "older version"))
                    continue
                versions[place.stop_id] = found.version
                places[place.stop_id] = place
                quays_of[place.stop_id] = found.quays
                listed_by.update({ref: place.stop_id for ref in found.quay_refs})
    if not places and not read.skipped:
        raise InputError(f"{os.path.basename(path)}: no StopPlace in the file (is it a NeTEx "
                         "stop register? a timetable file holds ScheduledStopPoints only)")
    for quay, _ in standalone.values():
        parent = listed_by.get(quay.stop_id) or quay.parent_id
        if parent in places:
            quays_of[parent].append(replace(quay, parent_id=parent))
        else:
            read.skipped.append(SkippedRow(0, quay.stop_id, "a Quay of no StopPlace in the file"))
    places = _inherit_from_parents(places)
    read.stops = list(places.values())
    for place_id, place_quays in quays_of.items():
        place = places[place_id]
        read.stops += [replace(q, name=q.name or place.name, mode=place.mode,
                               valid_from=q.valid_from or place.valid_from,
                               valid_to=q.valid_to or place.valid_to)
                       for q in place_quays]
    return read


# --- one StopPlace ---------------------------------------------------------------------

def _local(element) -> str:
    return etree.QName(element).localname


def _child(element, name: str):
    for child in element:
        if isinstance(child.tag, str) and _local(child) == name:
            return child
    return None


def _child_text(element, name: str) -> str | None:
    child = _child(element, name)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _key_values(element) -> dict[str, str]:
    keys = _child(element, "keyList")
    found: dict[str, str] = {}
    for kv in keys if keys is not None else ():
        if isinstance(kv.tag, str) and _local(kv) == "KeyValue":
            key, value = _child_text(kv, "Key"), _child_text(kv, "Value")
            if key and value:
                found[key] = value
    return found


@dataclass(frozen=True)
class _Place:
    place: OfficialStop
    quays: list[OfficialStop]
    quay_refs: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class _Quay:
    stop: OfficialStop
    version: int


def _stop_places(stream, name: str, skipped: list[SkippedRow]) -> Iterator[_Place | _Quay]:
    default_crs: str | None = None
    try:
        for _event, element in etree.iterparse(
                stream, events=("end",),
                tag=("{*}StopPlace", "{*}Quay", "{*}DefaultLocationSystem"),
                resolve_entities=False, no_network=True, huge_tree=True):
            kind = _local(element)
            if kind == "DefaultLocationSystem":
                default_crs = (element.text or "").strip() or None
                continue
            parent = element.getparent()
            if kind == "Quay" and parent is not None and _local(parent) == "quays":
                continue  # read with its StopPlace, when that closes
            line = element.sourceline or 0
            try:
                if kind == "Quay":
                    yield _Quay(_quay(element, name, line, default_crs, None, None, None),
                                _version(element.get("version")))
                else:
                    yield _stop_place(element, name, line, default_crs, skipped)
            except _NoPosition:
                skipped.append(SkippedRow(line, element.get("id"), "no coordinates"))
            finally:
                # streaming: drop what was read, and the siblings before it
                element.clear(keep_tail=True)
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name} line {exc.lineno}: not well-formed XML ({exc.msg})") from None
    except ZIP_MEMBER_ERRORS as exc:  # a damaged gzip or zip member
        raise InputError(f"{name}: the compressed file is damaged ({type(exc).__name__})"
                         ) from None


class _NoPosition(Exception):
    pass


def _stop_place(element, name: str, line: int, default_crs: str | None,
                skipped: list[SkippedRow]) -> _Place:
    place_id = element.get("id")
    if not place_id:
        raise InputError(f"{name} line {line}: a StopPlace without an id")
    keys = _key_values(element)
    lon, lat = _position(element, name, line, default_crs)
    valid_from, valid_to = _validity(element, name, line)
    mode = (mode_of(_child_text(element, "TransportMode"))
            or mode_of(_child_text(element, "StopPlaceType")))
    parent = _child(element, "ParentSiteRef")
    extra = {k: v for k, v in {
        "stop_place_type": _child_text(element, "StopPlaceType"),
        "transport_mode": _child_text(element, "TransportMode"),
        "short_name": _child_text(element, "ShortName"),
        "multimodal": "true" if keys.get("IS_PARENT_STOP_PLACE") == "true" else None,
        "imported_id": keys.get("imported-id"),
    }.items() if v}
    place = OfficialStop(
        source="netex", stop_id=place_id, name=_child_text(element, "Name"), lon=lon, lat=lat,
        platform_code=_child_text(element, "PublicCode"), valid_from=valid_from,
        valid_to=valid_to, uic_ref=keys.get("uicCode"),
        parent_id=parent.get("ref") if parent is not None else None, level="place",
        mode=mode, extra=extra)
    quays, refs = [], []
    container = _child(element, "quays")
    for quay in container if container is not None else ():
        if not isinstance(quay.tag, str):
            continue
        if _local(quay) == "QuayRef" and quay.get("ref"):
            refs.append(quay.get("ref"))
        if _local(quay) != "Quay":
            continue
        quay_line = quay.sourceline or line
        try:
            quays.append(_quay(quay, name, quay_line, default_crs, place_id, valid_from,
                               valid_to))
        except _NoPosition:
            skipped.append(SkippedRow(quay_line, quay.get("id"), "no coordinates"))
    return _Place(place, quays, tuple(refs), _version(element.get("version")))


def _quay(quay, name: str, line: int, default_crs: str | None, place_id: str | None,
          valid_from: date | None, valid_to: date | None) -> OfficialStop:
    """One Quay: inside its StopPlace (place_id given) or standalone, naming its stop place
    by ParentZoneRef or SiteRef if at all."""
    quay_id = quay.get("id")
    if not quay_id:
        raise InputError(f"{name} line {line}: a Quay without an id")
    lon, lat = _position(quay, name, line, default_crs)
    if place_id is None:
        ref = _child(quay, "ParentZoneRef")
        ref = ref if ref is not None else _child(quay, "SiteRef")
        place_id = ref.get("ref") if ref is not None else None
        valid_from, valid_to = _validity(quay, name, line)
    keys = _key_values(quay)
    return OfficialStop(
        source="netex", stop_id=quay_id, name=_child_text(quay, "Name"), lon=lon, lat=lat,
        platform_code=_child_text(quay, "PublicCode"), valid_from=valid_from,
        valid_to=valid_to, uic_ref=keys.get("uicCode"), parent_id=place_id, level="platform",
        extra={k: v for k, v in {
            "description": _child_text(quay, "Description"),
            "private_code": _child_text(quay, "PrivateCode"),
            "compass_bearing": _child_text(quay, "CompassBearing"),
            "imported_id": keys.get("imported-id")}.items() if v})


def _position(element, name: str, line: int, default_crs: str | None) -> tuple[float, float]:
    """Centroid/Location: Longitude and Latitude (WGS84), or a gml:pos in the srsName given
    on it, on the Location, or as the frame's DefaultLocationSystem."""
    centroid = _child(element, "Centroid")
    location = _child(centroid, "Location") if centroid is not None else None
    if location is None:
        raise _NoPosition
    lon_text, lat_text = _child_text(location, "Longitude"), _child_text(location, "Latitude")
    try:
        if lon_text and lat_text:
            lon, lat = float(lon_text), float(lat_text)
            if abs(lon) > 180 or abs(lat) > 90:
                raise ValueError(f"({lon_text}, {lat_text}) is not a longitude, latitude")
            return lon, lat
        pos = _child(location, "pos")
        if pos is None or not (pos.text or "").strip():
            raise _NoPosition
        numbers = [float(v) for v in pos.text.split()]
        if len(numbers) < 2:
            raise ValueError(f"gml:pos {pos.text.strip()!r} needs two numbers")
        crs = pos.get("srsName") or location.get("srsName") or default_crs
        return pos_to_wgs84(crs, numbers[0], numbers[1])
    except ValueError as exc:
        raise InputError(f"{name} line {line}: {element.get('id')}: {exc}") from None


def _validity(element, name: str, line: int) -> tuple[date | None, date | None]:
    between = _child(element, "ValidBetween")
    if between is None:
        return None, None
    return (_netex_date(_child_text(between, "FromDate"), name, line),
            _netex_date(_child_text(between, "ToDate"), name, line))


def _netex_date(text: str | None, name: str, line: int) -> date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text[:10]).date()
    except ValueError:
        raise InputError(f"{name} line {line}: {text!r} is not a date") from None


def _version(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0  # "any": a file with one version of each object


def _inherit_from_parents(places: dict[str, OfficialStop]) -> dict[str, OfficialStop]:
    """Children of a multimodal stop place take its name when they have none; the parent
    takes the one mode its children share."""
    children_modes: dict[str, set] = {}
    for place in places.values():
        if place.parent_id:
            children_modes.setdefault(place.parent_id, set()).add(place.mode)
    out = {}
    for place_id, place in places.items():
        parent = places.get(place.parent_id) if place.parent_id else None
        if parent is not None and not place.name:
            place = replace(place, name=parent.name)
        modes = children_modes.get(place_id, set())
        if place.mode is None and len(modes) == 1:
            place = replace(place, mode=next(iter(modes)))
        out[place_id] = place
    return out


# --- files -----------------------------------------------------------------------------

@contextmanager
def _xml_streams(path: str):
    """(name, binary stream) of each XML document: the file itself, its gunzipped content,
    or every .xml member of a zip."""
    if not os.path.exists(path):
        raise InputError(f"file not found: {path}")
    name = os.path.basename(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = sorted(m for m in archive.namelist() if m.lower().endswith(".xml"))
            if not members:
                raise InputError(f"{name}: no .xml file in the zip")

            def each():
                for member in members:
                    with archive.open(member) as stream:
                        yield f"{name}/{member}", stream
            yield each()
        return
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as stream:
        yield iter([(name, stream)])
