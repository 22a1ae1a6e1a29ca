"""Stop names and platform codes brought to one form, so that registry and OSM spellings
compare: case, accents, abbreviations (Str. / Strasse), punctuation, platform suffixes
("Steig 1", "laituri 29") and station words ("Bahnhof", "station").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

# letters that Unicode decomposition leaves alone
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d",
                       "ð": "d", "þ": "th", "ı": "i"})

# one token (after lower-casing, accents and dots removed) -> its long form
ABBREVIATIONS = {
    "str": "strasse", "hbf": "hauptbahnhof", "hb": "hauptbahnhof", "bhf": "bahnhof",
    "bf": "bahnhof", "hst": "haltestelle", "sankt": "st", "saint": "st", "pl": "platz",
    "rd": "road", "ave": "avenue", "av": "avenue", "stn": "station", "ctr": "centre",
    "center": "centre", "sq": "square", "abzw": "abzweigung", "abzweig": "abzweigung",
}
# words that say "this is a station" and nothing about which one: compared without them too
STATION_WORDS = frozenset({"bahnhof", "station", "stasjon", "gare", "stazione", "asema",
                           "haltestelle", "stop", "halt"})
# German street words written apart or together ("Bahnhof Strasse", "Bahnhofstrasse")
_JOINED_SUFFIXES = ("strasse", "gasse", "platz")

# a trailing platform designation inside a name: "ZOB Steig 1", "Elielinaukio, laituri 29",
# "Mercedes-Benz Hst. A", "HIGH STREET- STAND C"
_PLATFORM_WORDS = (r"bussteig|steig|bstg|gleis|gl|platform|plattform|quai|voie|binario|"
                   r"laituri|kante|stand|bay|hst|haltestelle")
_PLATFORM_SUFFIX = re.compile(rf"[\s,\-]+(?:{_PLATFORM_WORDS})\.?\s*([a-z]?\d{{1,3}}[a-z]?|[a-z])$"
                              # or in brackets, as Oslo's mappers write it: "Nationaltheatret (A)"
                              r"|\s*\(([a-z]?\d{1,3}[a-z]?|[a-z])\)$")
# a bracketed word that says the mode, not the stop: "Schaanwald, Zuschg (BUS)"
_MODE_NOTE = re.compile(r"\s*\((?:bus|tram|train|bahn|metro|t|m|ferry|schiff)\)\s*$")
# the registry's convention "Locality, Stop name" (ATLAS: "Schaan, Im Besch")
_LOCALITY = re.compile(r"^([^,]{2,40}),\s*(\S.*)$")
_PLATFORM_ONLY = re.compile(rf"^(?:(?:{_PLATFORM_WORDS})\.?\s*)?([a-z]?\d{{1,3}}[a-z]?|[a-z])$")
_NOT_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Lower case without accents: "Zürich Straße" -> "zurich strasse"."""
    text = text.casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_platform(name: str) -> tuple[str, str | None]:
    """The name without a trailing platform designation, and that designation (folded)."""
    folded = _MODE_NOTE.sub("", fold(name).strip())
    found = _PLATFORM_SUFFIX.search(folded)
    if not found or found.start() == 0:
        return folded, None
    return folded[:found.start()], normalize_platform(found.group(1) or found.group(2))


def normalize_platform(code: str | None) -> str | None:
    """A platform code compared as such: "Steig 01" -> "1", "Bussteig C" -> "c"; else None."""
    if not code:
        return None
    folded = fold(code).strip()
    found = _PLATFORM_ONLY.match(folded)
    value = found.group(1) if found else folded
    if value.isdigit():
        value = value.lstrip("0") or "0"  # "01" and "1" are the same platform
    return value or None


def _tokens(text: str) -> list[str]:
    tokens = []
    for token in _NOT_WORD.split(text):
        if not token:
            continue
        token = ABBREVIATIONS.get(token, token)
        if token.endswith("str") and len(token) > 4:  # "Hauptstr." -> hauptstrasse
            token += "asse"
        if token in _JOINED_SUFFIXES and tokens:
            tokens[-1] += token
            continue
        tokens.append(token)
    return tokens


@lru_cache(maxsize=100_000)
def normalize_name(name: str | None) -> str:
    """The canonical form of a stop name, without its platform designation ("" if none)."""
    if not name:
        return ""
    base, _ = split_platform(name)
    return " ".join(_tokens(base))


@lru_cache(maxsize=100_000)
def name_core(normalized: str) -> str:
    """A normalised name without station words ("bern bahnhof" -> "bern"), if any remain."""
    kept = [t for t in normalized.split() if t not in STATION_WORDS]
    return " ".join(kept) if kept else normalized


@lru_cache(maxsize=100_000)
def registry_name(name: str | None) -> tuple[str, str]:
    """A registry name as (locality, stop name), both normalised: "Schaan, Im Besch" ->
    ("schaan", "im besch"). Without a locality prefix, or when what follows it only says
    "station" ("Schaan, Bahnhof"), the locality is "" and the stop name is the whole name."""
    if not name:
        return "", ""
    base, _ = split_platform(name)
    found = _LOCALITY.match(base)
    whole = " ".join(_tokens(base))
    if not found:
        return "", whole
    rest = " ".join(_tokens(found.group(2)))
    if not rest or name_core(rest) == rest and rest.split()[0] in STATION_WORDS:
        return "", whole
    return " ".join(_tokens(found.group(1))), rest


def platform_hint(name: str | None) -> str | None:
    """The platform designation written into a name, if any."""
    return split_platform(name)[1] if name else None


def name_similarity(a: str, b: str) -> float:
    """0..100 for two normalised names; a name contained in the other scores high (OSM
    often prefixes the town: "Böblingen Elbenplatz" vs "Elbenplatz"), exact scores 100."""
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    score = _blend(a, b)
    core_a, core_b = name_core(a), name_core(b)
    if core_a != a or core_b != b:
        score = max(score, _blend(core_a, core_b))
    return score


def _blend(a: str, b: str) -> float:
    # token_set_ratio forgives extra words; ratio keeps "Rathaus" closer to "Rathaus" than
    # to "Altes Rathaus", so that the nearer name wins between two candidates
    return 0.7 * fuzz.token_set_ratio(a, b) + 0.3 * fuzz.ratio(a, b)


def pair_similarities(a: list[str], b: list[str]) -> np.ndarray:
    """name_similarity for many pairs at once (a[i] with b[i]), in rapidfuzz's C++ loop."""
    if not a:
        return np.zeros(0)
    left, right = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    scores = _blend_many(left, right)
    cores_a = np.asarray([name_core(x) for x in left], dtype=object)
    cores_b = np.asarray([name_core(x) for x in right], dtype=object)
    differ = (cores_a != left) | (cores_b != right)
    if differ.any():
        scores[differ] = np.maximum(scores[differ], _blend_many(cores_a[differ], cores_b[differ]))
    scores[left == right] = 100.0
    scores[(left == "") | (right == "")] = 0.0
    return scores


# a name that is only a locality against a longer name scores at most this: the town
# alone says nothing about which of its stops is meant
LONE_LOCALITY_CAP = 40.0


def registry_pair_similarities(official: list[str], localities: list[str], osm: list[str],
                               known_localities: frozenset[str] = frozenset()) -> np.ndarray:
    """name_similarity of registry stop names (without their locality, see registry_name)
    with OSM names, where OSM may write the locality in front ("Schaan Im Besch") or not
    ("Im Besch"). A side that is a bare locality of the registry ("Schaan") against a
    longer name gets at most LONE_LOCALITY_CAP."""
    scores = pair_similarities(official, osm)
    if not len(scores):
        return scores
    left = np.asarray(official, dtype=object)
    right = np.asarray(osm, dtype=object)
    local = np.asarray(localities, dtype=object)
    prefixed = np.array([bool(loc) and b.startswith(loc + " ") for loc, b in
                         zip(localities, osm, strict=True)], bool)
    if prefixed.any():
        stripped = [b[len(loc) + 1:] for loc, b in
                    zip(local[prefixed], right[prefixed], strict=True)]
        scores[prefixed] = np.maximum(scores[prefixed],
                                      pair_similarities(list(left[prefixed]), stripped))
    lone = np.array([(b != a and (b == loc or b in known_localities)
                      and name_core(b) != name_core(a))
                     or (a != b and a in known_localities and name_core(a) != name_core(b))
                     for a, loc, b in zip(official, localities, osm, strict=True)], bool)
    scores[lone] = np.minimum(scores[lone], LONE_LOCALITY_CAP)
    return scores


def _blend_many(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    token_set = process.cpdist(list(a), list(b), scorer=fuzz.token_set_ratio)
    plain = process.cpdist(list(a), list(b), scorer=fuzz.ratio)
    return 0.7 * token_set.astype(float) + 0.3 * plain.astype(float)
