"""Getting a dataset's source onto local disk as one or more files GDAL reads.

Every remote answer (a file, each WFS or OGC API page, a CKAN package description, an
Overpass answer) is downloaded through pipelines.sources.download, so it is held to the
same address rules, redirect checks and size limit as every other pipeline download.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import orjson
import pyogrio
from lxml import etree

from matching_and_import_db.datasets.config import MAX_PAGES, DatasetConfig
from matching_and_import_db.errors import InputError
from matching_and_import_db.pipelines import sources
from matching_and_import_db.pipelines.sources import SourcePolicy

# CKAN resource formats GDAL reads, as CKAN portals spell them (upper-cased)
CKAN_FORMATS = ("GEOJSON", "GPKG", "GEOPACKAGE", "SHP", "ZIP", "KML", "KMZ", "GML", "FGB",
                "FLATGEOBUF", "CSV", "WFS")


@dataclass(frozen=True)
class SourceFile:
    path: str  # what GDAL opens (may be a /vsizip/ path)
    label: str  # how messages name it: the configured source, a page of it
    layer: str | None = None


@dataclass
class Fetcher:
    policy: SourcePolicy
    workdir: str  # downloads go here, named by prefix
    prefix: str
    progress: Callable[[int, int | None], None] = lambda done, total: None
    log: Callable[..., None] = lambda *args: None
    downloaded: list[str] = field(default_factory=list)

    def new_path(self, suffix: str) -> str:
        """A file of this run in the download directory, removed by remove()."""
        os.makedirs(self.workdir, exist_ok=True)
        path = os.path.join(self.workdir, f"{self.prefix}-{len(self.downloaded)}{suffix}")
        self.downloaded.append(path)
        return path

    def download(self, url: str, suffix: str) -> str:
        path = self.new_path(suffix)
        size = sources.download(self.policy, url, path, self.progress)
        self.log("downloaded %s (%d bytes)", _without_query(url), size)
        return path

    def remove(self) -> None:
        for path in self.downloaded:
            # GDAL's GML driver leaves its schema guess (.gfs) beside every page it opened
            for leftover in (path, os.path.splitext(path)[0] + ".gfs"):
                if os.path.exists(leftover):
                    os.remove(leftover)


def _without_query(url: str) -> str:
    return urlunparse(urlparse(url)._replace(query="")) + ("?…" if urlparse(url).query else "")


def _suffix(name: str) -> str:
    lower = name.lower()
    for ext in (".geojson", ".json", ".csv", ".gpkg", ".zip", ".kml", ".kmz", ".gml", ".xml",
                ".fgb", ".shp", ".osm"):
        if lower.endswith(ext):
            return ext
    return ".dat"


def gdal_path(path: str) -> str:
    """Zipped shapefiles and the like are read inside the archive (GDAL's /vsizip/)."""
    return f"/vsizip/{path}" if path.lower().endswith(".zip") else path


def _with_params(url: str, params: dict) -> str:
    parts = urlparse(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    lowered = {k.lower() for k in query}
    query.update({k: v for k, v in params.items() if k.lower() not in lowered})
    return urlunparse(parts._replace(query=urlencode(query)))


def fetch(cfg: DatasetConfig, f: Fetcher) -> list[SourceFile]:
    """The files to read, in order (a paged service gives one per page)."""
    if cfg.source_type == "file":
        return [_file(cfg.source, cfg.layer, f)]
    if cfg.source_type == "wfs":
        return _wfs(cfg, f)
    if cfg.source_type == "ogcapi":
        return _ogcapi(cfg, f)
    if cfg.source_type == "ckan":
        return _ckan(cfg, f)
    return _overpass(cfg, f)


def _file(source: str, layer: str | None, f: Fetcher, label: str | None = None) -> SourceFile:
    if sources.is_url(source):
        path = f.download(source, _suffix(urlparse(source).path))
        return SourceFile(gdal_path(path), label or os.path.basename(urlparse(source).path)
                          or source, layer)
    path = sources.local_file(f.policy, source, "dataset")
    return SourceFile(gdal_path(path), label or os.path.basename(source), layer)


def _root_tag(path: str) -> str | None:
    """The XML root element's local name, or None when the file is no XML."""
    try:
        for _, element in etree.iterparse(path, events=("start",), resolve_entities=False,
                                          no_network=True):
            return etree.QName(element).localname
    except etree.XMLSyntaxError:
        return None
    return None


def _feature_count(path: str, label: str) -> int:
    try:
        layers = pyogrio.list_layers(path)
        if not len(layers) and _root_tag(path) == "FeatureCollection":
            # a WFS page past the last feature: an empty collection, in which GDAL finds
            # no layer at all (GeoServer, MapServer and ArcGIS answer so)
            return 0
        return pyogrio.read_info(path, force_feature_count=True)["features"]
    except Exception:  # noqa: BLE001 - GDAL's message may quote the answer
        raise InputError(f"{label}: the answer is not a feature collection GDAL can "
                         "read") from None


def _first_id(path: str) -> str | None:
    """The first feature's gml:id, to tell a page from the one before it."""
    try:
        info = pyogrio.read_info(path)
        if "gml_id" not in list(info["fields"]):
            return None
        fields = pyogrio.raw.read(path, columns=["gml_id"], max_features=1, read_geometry=False)[3]
        return str(fields[0][0]) if len(fields) and len(fields[0]) else None
    except Exception:  # noqa: BLE001 - a page GDAL counted but cannot read: reading says so
        return None


def _wfs(cfg: DatasetConfig, f: Fetcher) -> list[SourceFile]:
    """WFS 2.0 GetFeature, count/startIndex paging until a page comes back short."""
    out = []
    previous_first = None
    for page in range(MAX_PAGES):
        url = _with_params(cfg.source, {
            "service": "WFS", "version": "2.0.0", "request": "GetFeature",
            "typeNames": cfg.layer, "count": str(cfg.page_size),
            "startIndex": str(page * cfg.page_size)})
        path = f.download(url, ".gml")
        label = f"WFS {cfg.layer} page {page + 1}"
        n = _feature_count(path, label)
        first = _first_id(path) if n else None
        if first is not None and first == previous_first:
            # ArcGIS and older servers answer the first page again whatever startIndex
            # says: counting on a short page would publish it thousands of times
            raise InputError(f"{label} begins with the same feature as page {page}: the "
                             "server ignores startIndex; set page_size above the layer's "
                             "feature count to read it in one request")
        previous_first = first
        if n:
            out.append(SourceFile(path, label))
        if n < cfg.page_size:
            f.log("WFS %s: %d pages", cfg.layer, page + 1)
            return out
    raise InputError(f"WFS {cfg.layer}: more than {MAX_PAGES} pages; the server does not "
                     "seem to honour startIndex")


def _ogcapi(cfg: DatasetConfig, f: Fetcher) -> list[SourceFile]:
    """OGC API Features items, following rel=next links until there is none."""
    url = _with_params(cfg.source.rstrip("/") + f"/collections/{cfg.layer}/items",
                       {"limit": str(cfg.page_size), "f": "json"})
    out = []
    for page in range(MAX_PAGES):
        path = f.download(url, ".geojson")
        label = f"OGC API {cfg.layer} page {page + 1}"
        try:
            with open(path, "rb") as fh:
                doc = orjson.loads(fh.read())
            features = doc["features"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise InputError(f"{label}: not a GeoJSON FeatureCollection") from None
        if features:
            out.append(SourceFile(path, label))
        nxt = next((link.get("href") for link in doc.get("links") or ()
                    if isinstance(link, dict) and link.get("rel") == "next"), None)
        if not nxt or not features:
            f.log("OGC API %s: %d pages", cfg.layer, page + 1)
            return out
        url = nxt
    raise InputError(f"OGC API {cfg.layer}: more than {MAX_PAGES} pages of next links")


def _ckan(cfg: DatasetConfig, f: Fetcher) -> list[SourceFile]:
    """The package's resource URL from CKAN's package_show, then that resource."""
    url = _with_params(cfg.source.rstrip("/") + "/api/3/action/package_show",
                       {"id": cfg.package})
    path = f.download(url, ".json")
    try:
        with open(path, "rb") as fh:
            doc = orjson.loads(fh.read())
        resources = doc["result"]["resources"] if doc.get("success") else None
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        resources = None
    if resources is None:
        raise InputError(f"CKAN package {cfg.package}: package_show gave no package (is the "
                         "id right?)")
    wanted = (cfg.resource or "").lower()

    def fits(res: dict) -> bool:
        if wanted:
            return wanted in (str(res.get("id", "")).lower(), str(res.get("name", "")).lower(),
                              str(res.get("format", "")).lower())
        return str(res.get("format", "")).upper() in CKAN_FORMATS
    position, chosen = next(((i, r) for i, r in enumerate(resources, 1)
                             if isinstance(r, dict) and fits(r) and r.get("url")), (0, None))
    if chosen is None:
        raise InputError(f"CKAN package {cfg.package}: no resource "
                         + (f"named {cfg.resource!r}" if wanted else
                            "in a format GDAL reads (" + ", ".join(CKAN_FORMATS) + ")"))
    # the portal's own words (names, formats) stay out of logs and messages: its position
    label = f"CKAN package {cfg.package}, resource {position}"
    f.log("%s of %d", label, len(resources))
    if str(chosen.get("format", "")).upper() == "WFS":
        raise InputError(f"{label} is a WFS service; configure a wfs dataset with its URL "
                         "instead")
    return [_file(str(chosen["url"]), cfg.layer, f, label=label)]


def _overpass(cfg: DatasetConfig, f: Fetcher) -> list[SourceFile]:
    """The query's answer (OSM XML) from the configured endpoint, read by GDAL's OSM driver:
    the points layer unless 'layer' names lines, multipolygons, ..."""
    url = _with_params(f.policy.overpass_url, {"data": cfg.query})
    path = f.download(url, ".osm")
    _check_overpass_answer(path)
    return [SourceFile(path, "Overpass answer", cfg.layer or "points")]


def _check_overpass_answer(path: str) -> None:
    """Overpass answers HTTP 200 both to [out:json] (which GDAL's OSM driver cannot read)
    and when the query failed on the server (a timeout or the memory limit): then the answer
    holds a <remark> "runtime error: ..." and little or no data, which must not be
    published as if it were the dataset. The remark stands after the data, so the end of
    the answer is where to look; its text is not quoted (it is the server's)."""
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip()
        fh.seek(max(0, os.path.getsize(path) - 4096))
        tail = fh.read()
    if head.startswith(b"{"):
        raise InputError("the Overpass answer is JSON; GDAL reads OSM XML: begin the query "
                         "with [out:xml] instead of [out:json]")
    remark = tail.rfind(b"<remark>")
    if remark >= 0 and b"runtime error" in tail[remark:remark + 300]:
        kind = ("it timed out" if b"timed out" in tail[remark:remark + 300]
                else "it ran out of memory" if b"memory" in tail[remark:remark + 300]
                else "it failed")
        raise InputError(f"the Overpass API reported a runtime error instead of the data "
                         f"({kind}): narrow the query or raise its [timeout:] / [maxsize:]; "
                         "nothing was published")
