"""Sensor views: a device's history for the map's sensor panel. Sensor values are public,
like the layer that shows them."""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify, request

from app.auth.access import EVERYONE, access
from app.extensions import db
from app.live import bp
from matching_and_import_db.live.sensor_history import device_history


@bp.get("/api/live/sensors/<device>/history")
@access(EVERYONE)
def sensor_history(device: str):
    cur = db.session.connection().connection.driver_connection.cursor()
    history = device_history(cur, device, request.args.get("period", "day"))
    return jsonify(asdict(history))
