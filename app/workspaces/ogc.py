"""OGC API Features over a workspace's datasets, with Part 4 (Create, Replace, Update and
Delete): the same datapoints the batch API writes, one feature at a time, under the same
rules (the workspace's row-level security, identifiers, a newer modification time wins:
an older one is 409), and the same tile invalidation.

Readers of the workspace read; its editors, owners and clients write."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, request, url_for

from app.auth.access import access
from app.extensions import csrf
from app.ogc.features import DEFAULT_LIMIT, MAX_LIMIT, Query, clamp_to_web_mercator, item, items
from app.params import parse_bbox, parse_int
from app.redis_client import get_redis
from app.workspaces import service
from app.workspaces.access import READERS, WRITERS, workspace_access
from app.workspaces.actors import EDITOR, VIEWER, actor_for
from app.workspaces.binding import bind
from app.workspaces.maplayers import dataset_layer
from matching_and_import_db.errors import Conflict, InputError, NotFound
from matching_and_import_db.workspaces import store
from matching_and_import_db.workspaces.datapoints import read_batch, read_json

bp = Blueprint("workspace_ogc", __name__,
               url_prefix="/api/workspaces/<slug>/collections/<dataset>")
NOBODY = frozenset()
GEOJSON = "application/geo+json"


def _open(slug: str, dataset: str, need: str):
    actor, ws = actor_for(slug, need=need)
    if actor.client_id is None and request.method != "GET":
        csrf.protect()
    cur = bind(ws.id)
    dataset_id = store.find_dataset(cur, dataset)
    if dataset_id is None and request.method == "GET":
        raise NotFound(f"no collection {dataset!r}")
    return ws, dataset_id


def _feature_body(identifier: str | None = None) -> dict:
    data = read_json(request.get_data())
    if not isinstance(data, dict) or data.get("type") != "Feature":
        raise InputError("the body must be a GeoJSON Feature")
    if identifier is not None:
        if data.get("id") not in (None, identifier):
            raise InputError("the feature's id differs from the one in the path")
        data = {**data, "id": identifier}
    return data


def _write(ws, dataset: str, feature: dict) -> str:
    """One feature through the batch path; 409 when a newer version is stored."""
    props = dict(feature.get("properties") or {})
    props.setdefault("lastUpdateDateTime", datetime.now(UTC).isoformat())
    batch = read_batch([{**feature, "properties": props}])
    if batch.errors:
        raise InputError(batch.errors[0].message)
    result = service.push_datapoints(get_redis(), ws, dataset, batch)
    if result.changed == 0:
        raise Conflict("a version with a newer lastUpdateDateTime is stored")
    return batch.items[0].identifier


def _feature_response(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype=GEOJSON)


@bp.get("/items")
@access(NOBODY, anonymous=401)
@workspace_access(READERS)
def list_items(slug: str, dataset: str):
    ws, dataset_id = _open(slug, dataset, VIEWER)
    limit = parse_int(request.args.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int(request.args.get("offset"), "offset", 0, 0, 1_000_000)
    bbox = clamp_to_web_mercator(parse_bbox(request.args.get("bbox")))
    count, text = items(dataset_layer(dataset, dataset_id),
                        Query(bbox=bbox, limit=limit, offset=offset))
    links = [{"rel": "self", "type": GEOJSON, "href": request.url}]
    if count == limit:
        links.append({"rel": "next", "type": GEOJSON, "href": url_for(
            ".list_items", slug=slug, dataset=dataset, limit=limit, offset=offset + limit,
            _external=False)})
    return Response('{"type":"FeatureCollection","numberReturned":' + str(count)
                    + ',"links":' + json.dumps(links) + ',"features":[' + text + "]}",
                    mimetype=GEOJSON)


@bp.post("/items")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
def create_item(slug: str, dataset: str):
    ws, _ = _open(slug, dataset, EDITOR)
    feature = _feature_body()
    identifier = feature.get("id") or (feature.get("properties") or {}).get("identifier")
    if isinstance(identifier, str) and _exists(ws, dataset, identifier):
        raise Conflict(f"feature {identifier!r} exists: replace it with PUT")
    identifier = _write(ws, dataset, feature)
    location = url_for(".get_item", slug=slug, dataset=dataset, identifier=identifier)
    return Response(status=201, headers={"Location": location})


def _exists(ws, dataset: str, identifier: str) -> bool:
    cur = bind(ws.id)
    dataset_id = store.find_dataset(cur, dataset)
    if dataset_id is None:
        return False
    try:
        item(dataset_layer(dataset, dataset_id), identifier, Query().rides)
        return True
    except NotFound:
        return False


def _stored(ws, dataset: str, dataset_id: int | None, identifier: str) -> str:
    if dataset_id is None:
        raise NotFound(f"no feature {identifier!r}")
    return item(dataset_layer(dataset, dataset_id), identifier, Query().rides)


@bp.get("/items/<identifier>")
@access(NOBODY, anonymous=401)
@workspace_access(READERS)
def get_item(slug: str, dataset: str, identifier: str):
    ws, dataset_id = _open(slug, dataset, VIEWER)
    return _feature_response(_stored(ws, dataset, dataset_id, identifier))


@bp.put("/items/<identifier>")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
def replace_item(slug: str, dataset: str, identifier: str):
    ws, dataset_id = _open(slug, dataset, EDITOR)
    _stored(ws, dataset, dataset_id, identifier)  # PUT replaces; POST creates
    _write(ws, dataset, _feature_body(identifier))
    return Response(status=204)


@bp.patch("/items/<identifier>")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
def update_item(slug: str, dataset: str, identifier: str):
    """JSON merge patch (RFC 7396) of the stored feature: properties and answers merged,
    a geometry replaced."""
    ws, dataset_id = _open(slug, dataset, EDITOR)
    stored = json.loads(_stored(ws, dataset, dataset_id, identifier))
    patch = read_json(request.get_data())
    if not isinstance(patch, dict):
        raise InputError("the body must be a JSON merge patch of the feature")
    props = dict(stored["properties"])
    answers = dict(props.pop("answers") or {})
    for key, value in (patch.get("properties") or {}).items():
        target = props if key in props or key in ("name", "surveyId", "formId") else answers
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    props.pop("lastUpdateDateTime", None)
    if "lastUpdateDateTime" in (patch.get("properties") or {}):
        props["lastUpdateDateTime"] = patch["properties"]["lastUpdateDateTime"]
    merged = {"type": "Feature", "id": identifier,
              "geometry": patch.get("geometry") or stored["geometry"],
              "properties": {**{k: v for k, v in props.items() if v is not None},
                             "answers": answers}}
    _write(ws, dataset, merged)
    return Response(status=204)


@bp.delete("/items/<identifier>")
@access(NOBODY, anonymous=401)
@workspace_access(WRITERS)
@csrf.exempt
def delete_item(slug: str, dataset: str, identifier: str):
    ws, dataset_id = _open(slug, dataset, EDITOR)
    if dataset_id is None or not service.delete_datapoints(ws, dataset,
                                                           [identifier]):
        raise NotFound(f"no feature {identifier!r}")
    return Response(status=204)

