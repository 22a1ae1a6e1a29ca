"""One great-circle distance, one Earth radius and one local projection for rides and
stops (matching_and_import_db.geodesy)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from matching_and_import_db.geodesy import (
    EARTH_RADIUS_M,
    LocalProjection,
    great_circle_m,
    great_circle_one_m,
    step_lengths_m,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("a", "b", "metres"), [
    ((10.0, 59.0), (10.0, 60.0), EARTH_RADIUS_M * np.pi / 180),  # one degree of latitude
    ((0.0, 0.0), (180.0, 0.0), EARTH_RADIUS_M * np.pi),  # half the equator
    ((10.7522, 59.9139), (5.3221, 60.3913), 305_000),  # Oslo to Bergen, about 305 km
    ((8.5, 47.4), (8.5, 47.4), 0.0),
])
def test_array_and_single_pair_distances_agree_with_known_lengths(a, b, metres):
    one = great_circle_one_m(*a, *b)
    many = great_circle_m(np.array([a[0]] * 3), np.array([a[1]] * 3), b[0], b[1])
    assert one == pytest.approx(metres, rel=2e-3, abs=1e-6)
    assert many == pytest.approx([one] * 3, rel=1e-12, abs=1e-9)


def test_step_lengths_are_the_distances_between_consecutive_points():
    lon, lat = [10.0, 10.0, 10.01], [59.0, 59.01, 59.01]
    steps = step_lengths_m(lon, lat)
    assert steps == pytest.approx([great_circle_one_m(10.0, 59.0, 10.0, 59.01),
                                   great_circle_one_m(10.0, 59.01, 10.01, 59.01)])


def test_local_projection_round_trips_and_measures_like_the_great_circle_over_a_city():
    proj = LocalProjection.around(10.75, 59.91)
    lon, lat = np.array([10.70, 10.80, 10.75]), np.array([59.88, 59.95, 59.91])
    x, y = proj.to_xy(lon, lat)
    back = proj.to_lonlat(x, y)
    assert np.allclose(back, (lon, lat), atol=1e-12)
    assert (x[2], y[2]) == (0.0, 0.0)
    planar = float(np.hypot(x[1] - x[0], y[1] - y[0]))
    assert planar == pytest.approx(great_circle_one_m(10.70, 59.88, 10.80, 59.95), rel=5e-3)


def test_no_other_module_keeps_its_own_earth_radius_or_haversine():
    pattern = re.compile(r"EARTH_RADIUS\w*\s*=|def \w*haversine|6_?371_?0")
    offenders = [str(path.relative_to(ROOT))
                 for folder in ("app", "matching_and_import_db", "scheduler", "bench")
                 for path in (ROOT / folder).rglob("*.py")
                 if path.name != "geodesy.py" and pattern.search(path.read_text())]
    assert offenders == []
