"""Security headers on every response: a Content-Security-Policy that allows only our own
assets, no MIME sniffing, no referrer to other sites, no framing, HSTS behind https.

The pages load scripts, styles and fonts from /static only and talk to this server only.
MapLibre (app/static/vendor/maplibre-gl) starts its tile worker from a blob: URL and draws
images from data: and blob: URLs. An external basemap (PORTAL_BASEMAP_STYLE_URL and those of
PORTAL_BASEMAP_STYLES) is fetched by the browser with its sprites and glyphs, so its origin
is allowed to connect and for images. Logout redirects a form to the OIDC provider, so its
origin is a form target.
Plausible analytics (PORTAL_PLAUSIBLE_SCRIPT_URL), when set, loads its script from its
origin and posts its events there.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from matching_and_import_db.settings import Settings

HSTS_SECONDS = 365 * 24 * 3600


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def content_security_policy(settings: Settings) -> str:
    origins = dict.fromkeys(o for o in map(_origin, settings.basemaps.values()) if o)
    provider = _origin(settings.oidc_issuer) if settings.oidc_issuer else None
    extra = "".join(f" {o}" for o in origins)
    # Plausible's script, and the events it posts to its own origin
    analytics = (_origin(settings.plausible_script_url)
                 if settings.plausible_script_url else None)
    script = f" {analytics}" if analytics else ""
    directives = {
        "default-src": "'self'",
        "script-src": f"'self'{script}",
        "style-src": "'self'",
        "img-src": f"'self' data: blob:{extra}",
        "font-src": "'self'",
        "connect-src": f"'self'{extra}{script}",
        "worker-src": "'self' blob:",
        "child-src": "'self' blob:",  # browsers before worker-src read workers from here
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'" + (f" {provider}" if provider else ""),
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        # rides are personal: no other site learns which ride or filter someone looked at
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    }
    if settings.public_url.startswith("https://"):
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
    return headers


def init_security_headers(app: Flask, settings: Settings) -> None:
    headers = security_headers(settings)

    @app.after_request
    def _add(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
