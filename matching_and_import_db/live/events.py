"""Live state and change events in Redis: the one contract between the writers (GBFS
pollers, the MQTT subscriber) and the web app's stream.

- ``live:state:{layer}`` is a hash, feature id -> the feature as GeoJSON text: the latest
  state of every feature of a live layer, read whole in one round trip for a snapshot.
- ``live:events`` is a Redis stream of changes, capped at about ``STREAM_LENGTH`` entries.
  A stream rather than pub/sub because its entry ids are the events' ids: a browser that
  reconnects with ``Last-Event-ID`` is sent what it missed, and each web process reads the
  stream with one blocking connection however many browsers it serves.

State and event are written in one MULTI/EXEC, so a snapshot never lacks a change that an
event already announced.
"""

from __future__ import annotations

import orjson

STATE_PREFIX = "live:state:"
EVENTS = "live:events"
STREAM_LENGTH = 100_000  # about a minute of a busy city's changes: the resume window


def state_key(layer: str) -> str:
    return STATE_PREFIX + layer


def feature(feature_id: str, properties: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "id": feature_id, "properties": properties,
            "geometry": geometry}


def publish_change(redis, layer: str, feature_id: str, properties: dict,
                   geometry: dict | None = None) -> str:
    """Store a feature's new state and announce it; returns the event's id."""
    text = orjson.dumps(feature(feature_id, properties, geometry)).decode()
    pipe = redis.pipeline(transaction=True)
    pipe.hset(state_key(layer), feature_id, text)
    pipe.xadd(EVENTS, {"layer": layer, "feature": text}, maxlen=STREAM_LENGTH,
              approximate=True)
    return _as_text(pipe.execute()[1])


def publish_changes(redis, layer: str,
                    changes: list[tuple[str, dict, dict | None]]) -> list[str]:
    """Several features' new states (feature id, properties, geometry) in one MULTI/EXEC:
    a writer with a batch (the MQTT subscriber) pays one round trip, not one per feature."""
    pipe = redis.pipeline(transaction=True)
    for feature_id, properties, geometry in changes:
        text = orjson.dumps(feature(feature_id, properties, geometry)).decode()
        pipe.hset(state_key(layer), feature_id, text)
        pipe.xadd(EVENTS, {"layer": layer, "feature": text}, maxlen=STREAM_LENGTH,
                  approximate=True)
    return [_as_text(v) for v in pipe.execute()[1::2]]


def publish_removal(redis, layer: str, feature_id: str) -> str:
    """A feature is gone from its layer (a station closed, a vehicle rented)."""
    pipe = redis.pipeline(transaction=True)
    pipe.hdel(state_key(layer), feature_id)
    pipe.xadd(EVENTS, {"layer": layer, "removed": feature_id}, maxlen=STREAM_LENGTH,
              approximate=True)
    return _as_text(pipe.execute()[1])


def _as_text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def publish_batch(redis, layer: str, changes: list[tuple[str, dict, dict | None]],
                  removals: list[str] = ()) -> list[str]:
    """Many features' new states (feature id, properties, geometry) and removals of one
    layer in one MULTI/EXEC: a poll that changed 200 stations costs one round trip and one
    HSET, not 200. Each is stored and announced exactly as publish_change /
    publish_removal would; returns the events' ids in order (changes, then removals)."""
    if not changes and not removals:
        return []
    texts = [(fid, orjson.dumps(feature(fid, props, geom)).decode())
             for fid, props, geom in changes]
    pipe = redis.pipeline(transaction=True)
    if texts:
        pipe.hset(state_key(layer), mapping=dict(texts))
    if removals:
        pipe.hdel(state_key(layer), *removals)
    for _, text in texts:
        pipe.xadd(EVENTS, {"layer": layer, "feature": text}, maxlen=STREAM_LENGTH,
                  approximate=True)
    for feature_id in removals:
        pipe.xadd(EVENTS, {"layer": layer, "removed": feature_id}, maxlen=STREAM_LENGTH,
                  approximate=True)
    results = pipe.execute()
    return [_as_text(x) for x in results[bool(texts) + bool(removals):]]
