"""Live data: GBFS feeds (gbfs_views), sensors (sensor_views); the stream itself is served by
app/live/stream.py, an asyncio process of its own. One blueprint, its views in a module per
area; live_blueprint() imports them so their routes are registered."""

from __future__ import annotations


def live_blueprint():
    from app.live import gbfs_views, sensor_views  # noqa: F401  (register their routes on bp)
    from app.live.blueprint import bp
    return bp
