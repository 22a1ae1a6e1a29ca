"""Who is served what of a ride: the one rule that every reader of ride data applies (the
ride page and its exports, the data API, statistics, event and road exports, tiles, OGC API
Features, road statistics), and the one filter of whose rides, when and where a reader
covers (RideFilter).

- Everyone sees a ride's data only while it is public and its processing is complete.
  A queued, reprocessing or failed ride shows others nothing, whatever is still stored for
  it: the status alone decides. Adding a privacy zone queues the rides it touches in the
  zone's own transaction, so they vanish for others the moment the zone exists.
- Owners see their own rides in every state (their ride page, `mine=1`); aggregates over
  their rides (statistics, exports, tiles) count complete rides only, like everyone's.
- Road statistics (the road_stats table) count exactly what everyone sees; their SQL,
  sql/recompute_road_stats.sql, calls PUBLISHED on its joins.
- Time filters over other people's rides are widened to whole ISO weeks
  (app.rides.privacy.round_to_weeks); over one's own rides they are exact.

The rule is written once, as the SQL function ride_shown_to(status, public, owner_id,
viewer_id) that the migrator creates (migration adbae9aa7a3b); the fragments here call it
over the rides table aliased `t`, composed with psycopg2.sql. The viewer is the bound
parameter `%(viewer_id)s`, never a value spliced in. shown_to_others is the same rule for
one ride already loaded (a test compares it with the function).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg2 import sql

PUBLISHED = sql.SQL("ride_shown_to(t.status, t.public, t.user_id, NULL)")
# The viewer's own complete rides (the `mine` filter).
OWN = sql.SQL("(ride_shown_to(t.status, t.public, t.user_id, %(viewer_id)s)"
              " AND t.user_id = %(viewer_id)s)")


def shown_to_others(status: str, public: bool) -> bool:
    """The same rule as PUBLISHED for one ride already loaded."""
    return public and status == "complete"


# stands for any date in RideFilter.shape(): which clauses exist, not their values
_SHAPE_DATE = datetime(2000, 1, 3)
_SHAPE_BBOX = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class RideFilter:
    """Whose rides a query, tile or statistic covers (everyone's published rides, or the
    viewer's own with `mine`), when (date_from inclusive, date_to exclusive) and where
    (a lon/lat bbox). Built by the app's request parsing, which applies the privacy
    rounding: over other people's rides the range is whole weeks."""

    viewer_id: int | None = None
    mine: bool = False
    date_from: datetime | None = None
    date_to: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None

    @property
    def filtered(self) -> bool:
        """A time range or `mine`: not the shared public view (the bbox does not count)."""
        return self.mine or self.date_from is not None or self.date_to is not None

    @property
    def variant(self) -> str:
        """The tile cache's variant: "" for the shared public view."""
        if not self.filtered:
            return ""
        return "|".join([f"u{self.viewer_id}" if self.mine else "pub",
                         self.date_from.isoformat() if self.date_from else "",
                         self.date_to.isoformat() if self.date_to else ""])

    def shape(self) -> RideFilter:
        """Which clauses the SQL needs, without the values (a key for cached SQL)."""
        return RideFilter(None, self.mine, _SHAPE_DATE if self.date_from else None,
                          _SHAPE_DATE if self.date_to else None,
                          _SHAPE_BBOX if self.bbox else None)

    def params(self) -> dict:
        values = {"viewer_id": self.viewer_id, "date_from": self.date_from,
                  "date_to": self.date_to}
        if self.bbox:
            values.update(zip(("x0", "y0", "x1", "y1"), self.bbox, strict=True))
        return values

    def scope(self, time_column: sql.Composable) -> sql.Composed:
        """Whose rides and when, over the rides table aliased `t`."""
        clauses = [OWN if self.mine else PUBLISHED]
        if self.date_from is not None:
            clauses.append(sql.SQL("{} >= %(date_from)s").format(time_column))
        if self.date_to is not None:
            clauses.append(sql.SQL("{} < %(date_to)s").format(time_column))
        return sql.SQL("({})").format(sql.SQL(" AND ").join(clauses))

    def where(self, time_column: sql.Composable,
              geom_column: sql.Composable | None) -> sql.Composed:
        """scope(), and the bbox over geom_column (lon/lat) when there is one."""
        clauses = [self.scope(time_column)]
        if self.bbox and geom_column is not None:
            clauses.append(sql.SQL(
                "{} && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)").format(geom_column))
        return sql.SQL(" AND ").join(clauses)
