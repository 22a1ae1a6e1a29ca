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
_PLATFORM_SUFFIX = re.compile(rf"[\s,\-]+(?:{_PLATFORM_WORDS})\.?\s*([a-z]?\d{{1,3}}[a-z]?|[a-z])$")
_PLATFORM_ONLY = re.compile(rf"^(?:(?:{_PLATFORM_WORDS})\.?\s*)?([a-z]?\d{{1,3}}[a-z]?|[a-z])$")
_NOT_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Lower case without accents: "Zürich Straße" -> "zurich strasse"."""
    text = text.casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_platform(name: str) -> tuple[str, str | None]:
    """The name without a trailing platform designation, and that designation (folded)."""
    folded = fold(name).strip()
    found = _PLATFORM_SUFFIX.search(folded)
    if not found or found.start() == 0:
        return folded, None
    return folded[:found.start()], normalize_platform(found.group(1))


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


def _blend_many(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    token_set = process.cpdist(list(a), list(b), scorer=fuzz.token_set_ratio)
    plain = process.cpdist(list(a), list(b), scorer=fuzz.ratio)
    return 0.7 * token_set.astype(float) + 0.3 * plain.astype(float)
