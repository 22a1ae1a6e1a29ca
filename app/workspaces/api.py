"""The workspace API: datapoints pushed by machine clients and members, maps by API,
metrics. Bearer tokens (machine clients) or a browser session with its CSRF token."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.auth.access import access
from app.extensions import csrf, limiter
from app.redis_client import get_redis
from app.workspaces import service
from app.workspaces.access import READERS, WRITERS, workspace_access
from app.workspaces.actors import EDITOR, VIEWER, actor_for, bearer_token, rate_key
from app.workspaces.quota import charge_datapoints
from matching_and_import_db.errors import InputError, PayloadTooLarge
from matching_and_import_db.workspaces import metrics
from matching_and_import_db.workspaces.datapoints import parse_body, read_batch

bp = Blueprint("workspaces_api", __name__, url_prefix="/api/workspaces/<slug>")
NOBODY = frozenset()  # no portal-wide visitor: workspace roles decide (workspace_access)
MAX_BODY = 32 * 1024 * 1024


def _client_limit():
    return current_app.config["PORTAL"].ratelimit_client


def _acting(slug: str, need: str):
    """The actor; a browser session must also carry its CSRF token on changes."""
    actor, workspace = actor_for(slug, need=need)
    if actor.client_id is None and request.method != "GET":
        csrf.protect()
    return actor, workspace


def _json_body():
    data = request.get_json(silent=True)
    if data is None:
        raise InputError("the body must be JSON")
    return data


@bp.get("")
@access(NOBODY, anonymous=401)
@workspace_access(READERS)
@limiter.limit(_client_limit, key_func=rate_key, override_defaults=True)
def workspace(slug: str):
    actor, ws = _acting(slug, VIEWER)
    return jsonify({"slug": ws.slug, "name": ws.name, "role": actor.role,
                    "datasets": service.datasets(ws)})


@bp.post("/datasets/<dataset>/datapoints")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt  # bearer tokens; a browser session is checked in _acting
@limiter.limit(_client_limit, key_func=rate_key, override_defaults=True)
def push(slug: str, dataset: str):
    actor, ws = _acting(slug, EDITOR)
    if (request.content_length or 0) > MAX_BODY:
        raise PayloadTooLarge(f"a batch is at most {MAX_BODY} bytes")
    body = request.get_data()
    try:
        raw = parse_body(body, request.mimetype or "")
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8") from None
    batch = read_batch(raw, may_hold_nul=b"\\u0000" in body)
    charge_datapoints(actor.client_id or f"user-of-{actor.workspace_slug}", len(batch.items))
    result = service.push_datapoints(get_redis(), ws, dataset, batch)
    status = 200 if batch.items or not batch.errors else 422
    return jsonify({"received": batch.received, "accepted": result.accepted,
                    "changed": result.changed, "rejected": len(result.errors),
                    "errors": result.errors}), status


@bp.delete("/datasets/<dataset>/datapoints")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
@limiter.limit(_client_limit, key_func=rate_key, override_defaults=True)
def delete_many(slug: str, dataset: str):
    actor, ws = _acting(slug, EDITOR)
    body = _json_body()
    identifiers = body.get("identifiers") if isinstance(body, dict) else None
    deleted = service.delete_datapoints(ws, dataset, identifiers)
    return jsonify({"deleted": deleted})


@bp.delete("/datasets/<dataset>/datapoints/<identifier>")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
@limiter.limit(_client_limit, key_func=rate_key, override_defaults=True)
def delete_one(slug: str, dataset: str, identifier: str):
    actor, ws = _acting(slug, EDITOR)
    deleted = service.delete_datapoints(ws, dataset, [identifier])
    return jsonify({"deleted": deleted}), 200 if deleted else 404


@bp.get("/metrics")
@access(NOBODY, anonymous=401)
@workspace_access(READERS)
def workspace_metrics(slug: str):
    actor, ws = _acting(slug, VIEWER)
    return jsonify({"workspace": ws.slug, **metrics.read(get_redis(), ws.id)})


@bp.get("/maps")
@access(NOBODY, anonymous=401)
@workspace_access(READERS)
def maps(slug: str):
    actor, ws = _acting(slug, VIEWER)
    url = current_app.config["PORTAL"].public_url
    return jsonify({"maps": [service.describe_map(ws, m, url) for m in service.list_maps(ws)]})


@bp.post("/maps")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
@limiter.limit(_client_limit, key_func=rate_key, override_defaults=True)
def create_map(slug: str):
    actor, ws = _acting(slug, EDITOR)
    body = _json_body()
    m, token = service.save_map(ws, body.get("slug") if isinstance(body, dict) else None,
                                body, replace=False)
    return _map_answer(ws, m, token), 201


@bp.get("/maps/<map_slug>")
@access(NOBODY, anonymous=401)
@workspace_access(READERS)
def get_map(slug: str, map_slug: str):
    actor, ws = _acting(slug, VIEWER)
    return jsonify(service.describe_map(ws, service.get_map(ws, map_slug),
                                        current_app.config["PORTAL"].public_url))


@bp.put("/maps/<map_slug>")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
@limiter.limit(_client_limit, key_func=rate_key, override_defaults=True)
def replace_map(slug: str, map_slug: str):
    actor, ws = _acting(slug, EDITOR)
    m, token = service.save_map(ws, map_slug, _json_body(), replace=True)
    return _map_answer(ws, m, token)


@bp.delete("/maps/<map_slug>")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
def delete_map(slug: str, map_slug: str):
    actor, ws = _acting(slug, EDITOR)
    service.delete_map(ws, map_slug)
    return "", 204


def _map_answer(ws, m, token):
    out = service.describe_map(ws, m, current_app.config["PORTAL"].public_url)
    if token:  # shown once: only its hash is kept
        out["token"] = token
        out["links"] = {k: v + ("&" if "?" in v else "?") + "token=" + token
                        for k, v in out["links"].items()}
    return jsonify(out)


__all__ = ["bp", "bearer_token"]
