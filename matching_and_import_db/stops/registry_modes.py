"""Registries' words for modes of transport and for what a row stands for, translated into
the vocabulary of stops.modes (MODES) and the two levels of OfficialStop.

Each registry has its own: ATLAS `meansOfTransport` (TRAIN, BUS, TRAM, BOAT, CABLE_CAR, ...),
NeTEx `TransportMode` and `StopPlaceType`, NaPTAN `StopType` and `StopAreaType`. A generic
CSV may use any of them or plain words ("bus", "Tram"). None means the registry does not
say (or names a mode outside MODES, such as air): such a stop is compatible with every mode.
"""

from __future__ import annotations

from matching_and_import_db.stops.modes import MODES

LEVELS = ("place", "platform")

_WORDS = {
    # plain words and GTFS-like names
    **{mode: mode for mode in MODES},
    "train": "rail", "railway": "rail", "coach": "bus", "trolleybus": "bus", "ship": "ferry",
    "boat": "ferry", "water": "ferry", "subway": "metro", "underground": "metro",
    "light_rail": "tram", "gondola": "cableway", "cable_car": "cableway",
    # ATLAS meansOfTransport (ch.sbb.atlas MeanOfTransport)
    "chairlift": "cableway", "cable_railway": "funicular", "rack_railway": "rail",
    "elevator": None, "unknown": None,
    # NeTEx TransportMode
    "intercityrail": "rail", "urbanrail": "rail", "telecabin": "cableway", "lift": "cableway",
    "air": None, "taxi": None, "selfdrive": None, "snowandice": None,
    # NeTEx StopPlaceType
    "onstreetbus": "bus", "busstation": "bus", "coachstation": "bus", "onstreettram": "tram",
    "tramstation": "tram", "railstation": "rail", "metrostation": "metro",
    "ferryport": "ferry", "ferrystop": "ferry", "harbourport": "ferry", "liftstation": "cableway",
    "airport": None, "other": None, "vehiclerailinterchange": "rail",
}
_LEVEL_WORDS = {"place": "place", "platform": "platform", "station": "place",
                "stop_place": "place", "stopplace": "place", "stop_area": "place",
                "area": "place", "quay": "platform", "stop": "platform", "pole": "platform",
                "stop_point": "platform", "1": "place", "0": "platform"}


def mode_of(value: str | None) -> str | None:
    """One registry word for a mode (any case, '-' or ' ' for '_') in MODES, or None."""
    if not value:
        return None
    return _WORDS.get(value.strip().lower().replace("-", "_").replace(" ", "_"))


def modes_of(values: str | None) -> list[str]:
    """Every mode of a list such as ATLAS's "TRAIN|BUS" ('|' or ',' between), in order."""
    found: list[str] = []
    for word in (values or "").replace(",", "|").split("|"):
        mode = mode_of(word)
        if mode and mode not in found:
            found.append(mode)
    return found


def level_of(value: str | None) -> str | None:
    """"place" or "platform" from a word such as station, quay, stop_area; None if unknown."""
    if not value:
        return None
    return _LEVEL_WORDS.get(value.strip().lower().replace("-", "_").replace(" ", "_"))
