"""The URLs rides had before they had one name (/tracks…), kept working.
(codemod: keep-legacy-names)

- GET (pages, exports, the JSON API): a permanent redirect (308) to the new URL, query string
  kept, by Werkzeug rules with redirect_to on the same endpoints (the new URL then answers
  as declared for its visitor).
- POST: the same view answers at the old URL, with the same access rule and CSRF check.
  POST /api/tracks is the OpenBikeSensor firmware's upload URL, the OBS-compatible alias of
  POST /api/rides: it must answer the device itself, a redirect would lose the upload.

/rides was and is the public list of rides; my rides moved from /tracks to /rides/mine.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Flask

# (old rule, endpoint it belongs to, new URL: a GET redirect) or None: a POST alias
LEGACY_URLS = [
    ("/tracks", "rides.mine", "/rides/mine"),
    ("/tracks/upload", "rides.upload_page", "/rides/upload"),
    ("/tracks/<int:ride_id>", "rides.detail", "/rides/<ride_id>"),
    ("/tracks/<int:ride_id>/raw", "rides.raw", "/rides/<ride_id>/raw"),
    ("/tracks/<int:ride_id>/export.<fmt>", "rides.export", "/rides/<ride_id>/export.<fmt>"),
    ("/api/tracks", "rides_api.my_rides", "/api/rides"),
    ("/api/tracks/<int:ride_id>", "rides_api.ride", "/api/rides/<ride_id>"),
    ("/api/tracks/<int:ride_id>/data", "rides_api.ride_data", "/api/rides/<ride_id>/data"),
    ("/api/tracks", "rides_api.upload", None),
    ("/tracks/upload", "rides.upload_form", None),
    ("/tracks/<int:ride_id>/visibility", "rides.set_visibility", None),
    ("/tracks/<int:ride_id>/title", "rides.set_title", None),
    ("/tracks/<int:ride_id>/reprocess", "rides.reprocess", None),
    ("/tracks/<int:ride_id>/delete", "rides.delete", None),
    ("/tracks/delete-all", "rides.delete_all", None),
]


def _moved_to(public_url: str, new: str):
    """Werkzeug's redirect target for one old rule: the new URL with the request's path
    values and query string, absolute from PORTAL_PUBLIC_URL (never the request's Host)."""
    def target(adapter, **values) -> str:
        path = new
        for name, value in values.items():
            path = path.replace(f"<{name}>", quote(str(value), safe=""))
        query = adapter.query_args
        if query and not isinstance(query, str):
            query = urlencode(query, doseq=True)
        return public_url.rstrip("/") + path + (f"?{query}" if query else "")
    return target


def init_legacy_urls(app: Flask) -> None:
    """After the blueprints: every old rule joins the endpoint it moved to."""
    public_url = app.config["PORTAL"].public_url
    for rule, endpoint, new in LEGACY_URLS:
        if endpoint not in app.view_functions:
            raise RuntimeError(f"legacy URL {rule}: no endpoint {endpoint} "
                               "(app/rides/legacy.py)")
        if new is None:
            app.add_url_rule(rule, endpoint, methods=["POST"])
        else:
            app.add_url_rule(rule, endpoint, methods=["GET"],
                             redirect_to=_moved_to(public_url, new))
