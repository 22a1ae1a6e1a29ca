"""The configuration of a dataset pipeline, checked once when the pipeline is saved.

A dataset pipeline brings one open dataset into its own table, `datasets.<slug>`, which
the portal then serves as a catalog layer. The slug names the table, the layer and the
`/api/geo/<slug>` URL, so it is held to a strict pattern before it is ever composed into
SQL (always as a psycopg2.sql.Identifier).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from matching_and_import_db.errors import InputError

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# where the features come from; "file" is a path in the import directory or an http(s) URL
SOURCE_TYPES = ("file", "wfs", "ogcapi", "ckan", "overpass")
MODES = ("replace", "upsert")
ON_DRIFT = ("adapt", "fail")
CRS = re.compile(r"^EPSG:(\d{4,6})$", re.IGNORECASE)
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_GROUP = "Open data"
DEFAULT_PAGE_SIZE = 1000
MAX_PAGES = 10_000  # a paging loop that never ends is a broken server: stop and say so


@dataclass(frozen=True)
class DatasetConfig:
    slug: str
    source: str  # a path or URL; for wfs/ogcapi/ckan the service's base URL
    source_type: str = "file"
    title: str = ""
    group: str = DEFAULT_GROUP
    layer: str | None = None  # a layer of a multi-layer file, the WFS typeName, the OGC collection
    crs: str | None = None  # "EPSG:25833": the source's CRS when the file does not say it
    mode: str = "replace"
    key: str | None = None  # the key column for mode=upsert
    on_drift: str = "adapt"
    page_size: int = DEFAULT_PAGE_SIZE  # WFS count, OGC API limit
    package: str | None = None  # the CKAN package id
    resource: str | None = None  # which CKAN resource (name, id or format); else the first readable
    query: str | None = None  # the Overpass QL query
    lon: str | None = None  # CSV columns when their names are not the usual ones
    lat: str | None = None
    wkt: str | None = None
    colour: str = "#8e44ad"
    description: str = ""

    @property
    def srid(self) -> int | None:
        return int(CRS.match(self.crs).group(1)) if self.crs else None

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def _text(config: dict, name: str, default: str | None = None) -> str | None:
    value = config.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"dataset setting {name!r} must be text")
    return value.strip() or default


def _choice(config: dict, name: str, choices: tuple[str, ...]) -> str:
    value = _text(config, name, choices[0])
    if value not in choices:
        raise InputError(f"dataset setting {name!r} must be one of {', '.join(choices)}; "
                         f"got {value!r}")
    return value


def validate_config(config: dict) -> dict:
    """The stored configuration (plain JSON) or InputError naming the setting."""
    known = set(DatasetConfig.__dataclass_fields__)
    unknown = sorted(set(config) - known)
    if unknown:
        raise InputError(f"unknown dataset setting(s): {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(known))}")
    slug = _text(config, "slug")
    if not slug or not SLUG.match(slug):
        raise InputError("a dataset needs a 'slug': 1-40 lower-case letters, digits and _, "
                         "starting with a letter (it names the table, the layer and "
                         "/api/geo/<slug>)")
    source_type = _choice(config, "source_type", SOURCE_TYPES)
    source = _text(config, "source")
    if source_type == "overpass":
        source = source or "overpass"  # the endpoint is a setting (PORTAL_OVERPASS_URL)
        if not _text(config, "query"):
            raise InputError("an Overpass dataset needs a 'query' (Overpass QL)")
    elif not source:
        raise InputError("a dataset needs a 'source': a file in the import directory or an "
                         "http(s) URL (the service's URL for wfs, ogcapi and ckan)")
    if source_type in ("wfs", "ogcapi") and not _text(config, "layer"):
        raise InputError(f"a {source_type} dataset needs a 'layer': the "
                         + ("feature type (typeNames)" if source_type == "wfs"
                            else "collection id"))
    if source_type == "ckan" and not _text(config, "package"):
        raise InputError("a ckan dataset needs a 'package': the CKAN package id or name")
    crs = _text(config, "crs")
    if crs is not None and not CRS.match(crs):
        raise InputError(f"dataset setting 'crs' must look like EPSG:25833; got {crs!r}")
    mode = _choice(config, "mode", MODES)
    key = _text(config, "key")
    if mode == "upsert" and not key:
        raise InputError("mode 'upsert' needs a 'key': the column that identifies a feature")
    page_size = config.get("page_size", DEFAULT_PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool) \
            or not 1 <= page_size <= 100_000:
        raise InputError("dataset setting 'page_size' must be a whole number from 1 to 100000")
    colour = _text(config, "colour", DatasetConfig.colour)
    if not COLOUR.match(colour):
        raise InputError(f"dataset setting 'colour' must be like #8e44ad; got {colour!r}")
    group = _text(config, "group", DEFAULT_GROUP)
    title = _text(config, "title", slug)
    if len(group) > 100 or len(title) > 200:
        raise InputError("a dataset's title is at most 200 characters, its group 100")
    cfg = DatasetConfig(
        slug=slug, source=source, source_type=source_type, title=title, group=group,
        layer=_text(config, "layer"), crs=crs.upper() if crs else None, mode=mode, key=key,
        on_drift=_choice(config, "on_drift", ON_DRIFT), page_size=page_size,
        package=_text(config, "package"), resource=_text(config, "resource"),
        query=_text(config, "query"), lon=_text(config, "lon"), lat=_text(config, "lat"),
        wkt=_text(config, "wkt"), colour=colour,
        description=_text(config, "description", "") or "")
    return cfg.as_json()


def parse(config: dict) -> DatasetConfig:
    """A stored configuration as the dataclass (validated again: it may predate a rule)."""
    return DatasetConfig(**validate_config(config))
