"""Sensor views: a device's history for the map's sensor panel. Sensor values are public,
like the layer that shows them."""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify, request

from app.auth.access import EVERYONE, OPERATORS, access
from app.auth.decorators import role_required
from app.extensions import db
from app.live.blueprint import bp
from app.params import parse_int
from matching_and_import_db.live.sensor_history import device_history, refused_messages


@bp.get("/api/live/sensors/<device>/history")
@access(EVERYONE)
def sensor_history(device: str):
    cur = db.session.connection().connection.driver_connection.cursor()
    history = device_history(cur, device, request.args.get("period", "day"))
    return jsonify(asdict(history))


@bp.get("/api/live/sensors/refused")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def sensor_refused():
    """Operators: the sensor messages refused over the last `hours` (24), by reason."""
    hours = parse_int(request.args.get("hours"), "hours", 24, 1, 24 * 90)
    cur = db.session.connection().connection.driver_connection.cursor()
    return jsonify({"hours": hours,
                    "reasons": [asdict(r) for r in refused_messages(cur, hours)]})
