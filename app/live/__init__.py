"""Live data: GBFS feeds (gbfs_views) and, beside them, the other live views. One blueprint,
its views in a module per area; blueprint() imports them so their routes are registered."""

from __future__ import annotations


def live_blueprint():
    from app.live import gbfs_views  # noqa: F401  (registers its routes on bp)
    from app.live.blueprint import bp
    return bp
