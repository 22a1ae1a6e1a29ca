"""Who is served what of a ride: the one rule that every reader of ride data applies (the
ride page and its exports, the data API, statistics, event and road exports, tiles, OGC API
Features, road statistics).

- Everyone sees a ride's data only while it is public and its processing is complete.
  A queued, reprocessing or failed ride shows others nothing, whatever is still stored for
  it: the status alone decides. Adding a privacy zone queues the rides it touches in the
  zone's own transaction, so they vanish for others the moment the zone exists.
- Owners see their own rides in every state (their ride page, `mine=1`); aggregates over
  their rides (statistics, exports, tiles) count complete rides only, like everyone's.
- Road statistics (the road_stats table) count exactly what everyone sees; their SQL,
  sql/recompute_road_stats.sql, spells out PUBLISHED on its joins.
- Time filters over other people's rides are widened to whole ISO weeks
  (app.tracks.privacy.round_to_weeks); over one's own rides they are exact.

The conditions are SQL over the tracks table aliased `t`; the viewer is the bound
parameter %(viewer_id)s, never a value spliced in.
"""

from __future__ import annotations

PUBLISHED = "(t.status = 'complete' AND t.public)"
# Rides whose data a viewer may see in aggregates: everyone's published ones and the
# viewer's own complete ones.
PUBLISHED_OR_OWN = "(t.status = 'complete' AND (t.public OR t.user_id = %(viewer_id)s))"
# The viewer's own complete rides (the `mine` filter).
OWN = "(t.status = 'complete' AND t.user_id = %(viewer_id)s)"


def shown_to_others(status: str, public: bool) -> bool:
    """The same rule as PUBLISHED for one ride already loaded."""
    return public and status == "complete"
