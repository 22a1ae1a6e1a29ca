"""The fixed tile list the serving benchmark requests: 3,000 z/x/y tiles over the synthetic
city (bench/synth_city.py), weighted as people browse a city map, most of them at z12-z15.

Each zoom from 8 to 16 gets WEIGHTS[z] x 50 tiles drawn (with repeats) from the tiles that
cover the city's square, then the list is put in a random order, so a run that starts
anywhere in it sees every zoom. Made when the benchmark runs, from a fixed seed and with
`random.Random.random()` only (its sequence is stable across Python versions): the same
list on every machine.

    python bench/tile_sample.py > tiles.txt   # the list, one z/x/y a line
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth_city import CENTRE_3857, HALF_SIDE_M  # noqa: E402

from matching_and_import_db.tilecache import WEB_MERCATOR, tiles_over  # noqa: E402

WEIGHTS = {8: 1, 9: 1, 10: 2, 11: 4, 12: 8, 13: 12, 14: 14, 15: 12, 16: 6}
PER_WEIGHT = 50
SEED = 42


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """Web-mercator metres to degrees."""
    point = WEB_MERCATOR.lnglat(x, y)
    return point.x, point.y


def city_bbox() -> tuple[float, float, float, float]:
    cx, cy = CENTRE_3857
    return (*_lonlat(cx - HALF_SIDE_M, cy - HALF_SIDE_M),
            *_lonlat(cx + HALF_SIDE_M, cy + HALF_SIDE_M))


def city_tiles(z: int) -> list[tuple[int, int, int]]:
    """Every tile at zoom z that covers part of the city, row by row."""
    x0, y0, x1, y1 = tiles_over(city_bbox(), z)
    return [(z, x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


def tile_sample(seed: int = SEED) -> list[str]:
    rnd = random.Random(seed)
    drawn = []
    for z, weight in WEIGHTS.items():
        pool = city_tiles(z)
        drawn += [pool[int(rnd.random() * len(pool))] for _ in range(weight * PER_WEIGHT)]
    order = {i: rnd.random() for i in range(len(drawn))}  # a shuffle from random() alone
    return [f"{z}/{x}/{y}" for z, x, y in (drawn[i] for i in sorted(order, key=order.get))]


if __name__ == "__main__":
    print("\n".join(tile_sample()))
