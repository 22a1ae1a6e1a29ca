"""A local HTTP server that answers the dataset pipeline's requests with answers real servers
gave (tests/fixtures/datasets/recorded/, see its ATTRIBUTION.md), so that their quirks meet
our fetcher: WFS 1.1 answers in latitude/longitude order, GML 2 in longitude/latitude,
numberMatched="unknown", an ArcGIS server that answers the same page whatever startIndex
says, CKAN's package_show of demo.ckan.org, Overpass XML, JSON and a runtime-error remark.

What is served is the recorded bytes. Two things are changed, each where the recording cannot
be served as it is, and said at the place it happens:
- a paged WFS: the recorded members are cut into pages of the requested count/startIndex
  (the recording is one answer of 20 members); each member's bytes and the collection's
  root element stay as recorded, only numberOfFeatures says the page's own count;
- CKAN: the portal's own address (https://demo.ckan.org) becomes this server's, so that
  the resource URL the package names leads here.
"""

from __future__ import annotations

import http.server
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from tests.conftest import FIXTURES
from tests.http_helpers import QuietHandler, serve

RECORDED = FIXTURES / "datasets" / "recorded"
# GeoServer at sigma.openplans.org, WFS 1.1.0 GetFeature topp:gnis_pop (20 places)
GNIS_WFS11 = RECORDED / "wfs110-geoserver-sigma-gnis_pop.gml"
GNIS_WFS10 = RECORDED / "wfs100-geoserver-sigma-gnis_pop.gml"  # the same 20, WFS 1.0 / GML 2
GNIS_COUNT = 20
# ArcGIS Server sampleserver6, WFS 2.0.0 GetFeature esri:World count=1
ARCGIS_WORLD = RECORDED / "wfs200-arcgis-sampleserver6-world.gml"
CKAN_DEMO = "https://demo.ckan.org"
CKAN_PACKAGES = {  # package id and name -> the recorded package_show answer
    "62513382-3b26-4bc8-9096-40b6ce8383c0":
        RECORDED / "ckan-demo-package_show-100-validated-species-of-plants.json",
    "100-validated-species-of-plants":
        RECORDED / "ckan-demo-package_show-100-validated-species-of-plants.json",
    "1617in10-regulation-of-sale-of-overseas-properties-20170426-c":
        RECORDED / "ckan-demo-package_show-pdf-only.json",
}
OVERPASS = {  # answers of overpass-api.de kept by overpy's tests
    "xml": RECORDED / "overpass-xml-node-01.xml",
    "json": RECORDED / "overpass-json-node-01.json",
    "timeout": RECORDED / "overpass-xml-remark-runtime-error-01.xml",
    "way": RECORDED / "overpass-xml-way-02.xml",
}


@dataclass
class RecordedServices:
    """Where the server is, what it was asked, and which Overpass answer it gives."""
    base: str
    requests: list[str] = field(default_factory=list)  # path?query of every request
    wfs_start_indexes: list[int] = field(default_factory=list)
    overpass_answer: str = "xml"

    @property
    def overpass_url(self) -> str:
        return f"{self.base}/overpass/interpreter"


def wfs_pages(recording: bytes, start: int, count: int) -> bytes:
    """A page of a recorded WFS 1.x answer: its root element and envelope as recorded, the
    members [start, start + count) byte for byte, and numberOfFeatures set to their count."""
    text = recording.decode("utf-8")
    opening = re.search(r"<gml:featureMembers>|<gml:featureMember>", text)
    closing = max(text.rfind("</gml:featureMembers>"), text.rfind("</gml:featureMember>"))
    if "<gml:featureMembers>" in text:  # WFS 1.1: one featureMembers around all members
        body = text[opening.end():closing]
        members = [m.group(0) for m in
                   re.finditer(r"\s*<(\w+:\w+) gml:id=.*?</\1>", body, flags=re.S)]
        head, tail = text[:opening.end()], text[closing:]
    else:  # WFS 1.0: each member in its own featureMember
        body = text[opening.start():closing + len("</gml:featureMember>")]
        members = re.findall(r"\s*<gml:featureMember>.*?</gml:featureMember>", body,
                             flags=re.S)
        head, tail = text[:opening.start()], text[closing + len("</gml:featureMember>"):]
    page = members[start:start + count]
    head = re.sub(r'numberOfFeatures="\d+"', f'numberOfFeatures="{len(page)}"', head)
    return (head + "".join(page) + tail).encode("utf-8")


def start_recorded_services() -> tuple[http.server.ThreadingHTTPServer, RecordedServices]:
    seen = RecordedServices("")  # its base URL once the server is up (below)

    class Handler(QuietHandler):
        def do_GET(self):
            seen.requests.append(self.path)
            url = urlparse(self.path)
            # WFS key-value parameters are case-insensitive
            q = {k.lower(): v[0] for k, v in parse_qs(url.query).items()}
            if url.path in ("/wfs/gnis11", "/wfs/gnis10") and q.get("request") == "GetFeature":
                start, count = int(q.get("startindex", 0)), int(q.get("count", 1000))
                seen.wfs_start_indexes.append(start)
                recording = GNIS_WFS11 if url.path.endswith("11") else GNIS_WFS10
                return self.answer(wfs_pages(recording.read_bytes(), start, count),
                                  "text/xml; subtype=gml/3.1.1")
            if url.path == "/wfs/arcgis" and q.get("request") == "GetFeature":
                # sampleserver6 was asked for count=1; the recording is what it answered,
                # and a server that ignores startIndex answers it again for every page
                seen.wfs_start_indexes.append(int(q.get("startindex", 0)))
                return self.answer(ARCGIS_WORLD.read_bytes(),
                                  "application/gml+xml; version=3.2")
            if url.path == "/ckan/api/3/action/package_show":
                recording = CKAN_PACKAGES.get(q.get("id", ""))
                if recording is None:
                    return self.answer(b"not found", "text/plain", 404)
                body = recording.read_bytes().replace(CKAN_DEMO.encode(), seen.base.encode())
                return self.answer(body, "application/json;charset=utf-8")
            if url.path == "/overpass/interpreter":
                path = OVERPASS[seen.overpass_answer]
                mimetype = ("application/json" if path.suffix == ".json"
                            else "application/osm3s+xml")
                return self.answer(path.read_bytes(), mimetype)
            # anything else, among them demo.ckan.org's resource downloads, is long gone
            return self.answer(b"not found", "text/plain", 404)

    server, seen.base = serve(Handler)
    return server, seen
