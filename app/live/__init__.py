"""Live data: the views over the live layers (the stream itself is served by
app/live/stream.py, an asyncio process of its own)."""

from flask import Blueprint

bp = Blueprint("live", __name__)

from app.live import sensor_views  # noqa: E402,F401  (registers the sensor routes on bp)
