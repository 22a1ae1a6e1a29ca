"""Direction-aware HMM map matching of a ride onto OSM ways (Newson & Krumm 2009 style).

Hidden states are (candidate position on a way, travel direction along it). Emission: a
Gaussian on the distance from the fix to the candidate plus a heading term; transition: an
exponential on |route distance - straight distance| between consecutive fixes, where the
route follows the travel directions. Viterbi picks the most likely sequence. Where the
GPS error drifts, the ride is matched again with the drift estimated from the snaps taken
off the fixes (_drift); the snaps it is first estimated from come from a path that takes
the error for a drift (_drift_aware_path).

Emissions and transitions are computed for the whole ride at once with numpy; only the
Viterbi recursion (a few array operations per point) runs per step in Python, and the
route searches (only where consecutive candidates lie on different ways) run in scipy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from matching_and_import_db.rides.roadnet import SAME_PLACE_M, RoadNetwork


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Model parameters other than the search radius and GPS sigma."""

    # scale (m) of the exponential on |route - straight distance|. Newson & Krumm fit it to
    # the median difference; here the straight distance is between smoothed positions (see
    # RideFit), and 8 m fitted best on synthetic 1 Hz rides with 3-6 m noise over Oslo.
    beta: float = 8.0
    # candidates per point, nearest first. A city junction with mapped sidewalks and
    # crossings has 10+ ways within 40 m; with 6 the ridden street was sometimes not among
    # them (90 % of points right on synthetic Oslo rides with 6 m noise, 94 % with 8)
    max_candidates: int = 8
    # drop states this many nats less likely (by emission) than the point's best: they
    # would not survive Viterbi, and each costs route searches
    prune_nats: float = 12.0
    # nats for turning around on a way: a couple of points of contrary heading evidence are
    # needed before a U-turn is believed, so jitter at a red light does not flip the
    # direction (90 s waits with 6 m noise: 6 of 40 flipped with 2 nats, none with 4)
    uturn_penalty: float = 4.0
    # the along-difference of two snapped fixes has noise sigma * sqrt(2), so between close
    # fixes a rider seems to move backwards now and then. That costs what the Gaussian says,
    # (b / 2 sigma)^2 nats; up to this many sigmas, beyond which it is no longer noise
    backward_sigmas: float = 6.0
    # nats for moving onto another way: fewer way changes are likelier, so noise does not
    # hop the match onto a sidewalk or a side street and back (3 changes) while a real turn
    # (1 change) is unaffected
    way_change_penalty: float = 1.5
    # ... but only way_continue_penalty where the ride goes on in the same direction (the
    # cosine of the two states' travel directions at least way_continue_cos: within 37
    # degrees): OSM splits a street into ways at bridges, tag changes and junctions, some
    # a few metres long, and at 1.5 nats a change the match stayed on the way before, held
    # at its end node, rather than enter such a way and leave it. Fixes at their true
    # positions (no error at all) were then 1.2 % wrong on the check extract (seeds 1-32),
    # 0.5 % with this. Over 32 drifting rides, 3 / 6 m, tuning set and check extract seeds
    # 1-32: 0 -> 0.9893 / 0.9734 and 0.9851 / 0.9333; 0.25 -> 0.9899 / 0.9760 and 0.9848 /
    # 0.9352; 0.5 -> 0.9897 / 0.9757 and 0.9860 / 0.9374; 1.5 (no such rule) -> 0.9881 /
    # 0.9735 and 0.9784 / 0.9315; a cosine of 0.6 with 0 -> 0.9896 / 0.9736 and 0.9833 /
    # 0.9346, 0.95 with 0 -> 0.9890 / 0.9727 and 0.9816 / 0.9377. A hop onto the sidewalk
    # beside still pays the route's detour over the crossing that joins them.
    way_continue_cos: float = 0.8
    way_continue_penalty: float = 0.5
    # nats per metre ridden against a oneway (for bicycles: oneway:bicycle=no makes a way
    # two-way, roadnet.from_ways, so what is left is against the rules for cyclists too):
    # 3 nats per 10 m, so the other carriageway of a dual carriageway a GPS drift away is
    # not taken, while a ride against a oneway with no alternative still is. With 6 m of
    # drift the other carriageway is often the nearer way for a minute: at 0.1 (0.5 nats
    # per 5 m fix) one ride spent 57 fixes in a row there.
    # Over 32 drifting rides on each Oslo extract, 6 m: 0.1 -> 0.9162 / 0.9652 (centre /
    # east), 0.2 -> 0.9223 / 0.9656, 0.3 -> 0.9223 / 0.9692, 0.5 -> 0.9221 / 0.9695;
    # 3 m and the real track the same within 0.1 %
    contraflow_per_m: float = 0.3
    # von Mises concentration of the heading term when the heading is well known: riding
    # the wrong way costs 2 * kappa, riding across a street kappa nats per point
    # (Tried and not kept: while the measured speed says the rider stands, keeping the
    # heading of the last moving fix, so that a wait is not matched to the nearest way
    # whatever its direction. 32 drifting rides, 6 m, check extract seeds 1-32: +0.0045;
    # seeds 33-96 of both extracts, 3 / 6 m: -0.0011 to +0.0004; the check set: -0.0026
    # / -0.0031. The synthetic waits fall anywhere, just past a turn as often as before
    # it, and a wait's 40 fixes are right or wrong together.)
    heading_kappa: float = 2.0
    # half width (s) of the window the ride's velocity is fitted over: 5 s at 1 Hz
    # averages 11 fixes, enough to see direction through 5-8 m GPS noise at cycling speed
    # (3 s matched 1 % fewer points, 8 s no more)
    fit_window_s: float = 5.0
    # give up on routes longer than factor * straight distance + slack (Newson & Krumm)
    detour_factor: float = 2.0
    detour_slack_m: float = 50.0
    # a change of direction on a way over less than this along-distance is jitter
    min_turnaround_m: float = 10.0
    # scale of the per-fix cost of the way's class (roadclass.ride_cost: sidewalks,
    # footways, bus-only lanes, service roads); 0 matches by geometry alone
    road_class_weight: float = 1.0
    # GPS error drifts: it stays on one side for tens of seconds. A second pass matches the
    # fixes less the drift estimated from the first pass's snaps (_drift: a Gauss-Markov
    # process with this time constant; 0: one pass), with sigma times drift_sigma_factor
    # (what is left of the error is smaller). 45 s as the moving average before it used;
    # a receiver's error stays correlated for tens of seconds to minutes, and 30 or 90 s
    # matched the same within 0.2 % (8 drifting rides per Oslo extract, 3 and 6 m)
    drift_tau_s: float = 45.0
    drift_sigma_factor: float = 0.7
    # times the drift is estimated again from the last pass's snaps, each followed by one
    # more pass: better snaps give a better estimate (the along steps most). With 1 over 2
    # passes, tuning set and check extract seeds 1-32 (with the way_continue rule), 3 / 6 m:
    # 0.9897 / 0.9757 -> 0.9901 / 0.9795 and 0.9860 / 0.9374 -> 0.9860 / 0.9434
    drift_refinements: int = 1
    # the error besides the drift that each snap's across-offset carries (m): white GPS
    # noise, a lane beside the centre line, a snap on the wrong way. (Reweighting the
    # observations that a solve leaves far off, Huber with k 1.5 or 2.5, twice, moved the
    # tuning set and check extract seeds 1-32 by -0.0016 to +0.0002: not kept.)
    drift_white_m: float = 2.0
    # the drift's standard deviation, as a share of sigma (which also covers the worse
    # fixes): it bounds how far the along part may be carried from a corner. On 32
    # drifting rides per Oslo extract (seeds 1-32), 6 m, centre / east: 0.35 -> 0.9202 /
    # 0.9678, 0.5 -> 0.9223 / 0.9692, 0.7 -> 0.9223 / 0.9689; white 1 m -> 0.9217 /
    # 0.9687, 3 m -> 0.9205 / 0.9677; 3 m and the real track within 0.1 % throughout
    drift_std_factor: float = 0.5
    # ... only where the fixes' offset from their snaps, averaged over +-drift_tau_s,
    # exceeds this for a tenth of the fixes or more: error independent from fix to fix
    # averages out to well under it (4 m noise: 0.4 m per axis over 90 fixes), and a
    # second pass would then change nothing
    drift_min_m: float = 1.5
    # a snap this close to a junction node is at the node: it takes the way the ride
    # continues on (a crossing street or the next way of the same street otherwise gets it).
    # Only a snap at the node itself: a fix snapped short of the node lies on the way it
    # was snapped to, and moving it onto the next way switched ways early. At 1 m the
    # early switches at a way boundary outnumbered the late ones 192 to 33 (check extract
    # seeds 1-32, 3 m). Over 32 drifting rides, 3 / 6 m, 1 m -> 1 mm: tuning set 0.9901 /
    # 0.9794 -> 0.9916 / 0.9806, check extract seeds 1-32 0.9860 / 0.9434 -> 0.9889 /
    # 0.9453; seeds 33-96 of both extracts 0.9932 / 0.9749 and 0.9836 / 0.9545 -> 0.9945 /
    # 0.9759 and 0.9870 / 0.9563 (0.3 and 0.6 m lay between)
    junction_m: float = SAME_PLACE_M
    # A receiver measures its speed from the Doppler shift, not from its positions, so the
    # speed does not drift with them (u-blox NEO-6M, OpenBikeSensor's receiver: 0.1 m/s).
    # Where the fixes carry it, each step's fixes moving farther along the route than the
    # speed says was ridden show how the drift's part along the route changed, which no
    # snap (a projection) shows (_speed_steps, _drift). along_step_m: that figure's error
    # per second besides the fixes' white error, which each ride's steps give (twice the
    # speed's own). The steps were first taken from the snaps' places along the route,
    # with 0.3 m: a snap's place jumps where the way bends beside a fix off it, and one
    # such step in ten was 0.5 m or more off, against a core error of 0.1 m (check extract
    # seeds 1-32, 6 m); the fixes' own steps in the route's direction have no such jumps.
    # Over 32 drifting rides, 3 / 6 m, tuning set and check extract seeds 1-32, snaps'
    # steps -> fixes' steps with 0.1 / 0.2 / 0.3 m: 0.9959 / 0.9827 and 0.9909 / 0.9740 ->
    # 0.9972 / 0.9866 and 0.9918 / 0.9778, 0.9973 / 0.9864 and 0.9920 / 0.9783, 0.9973 /
    # 0.9854 and 0.9915 / 0.9765; with 0.2 m, seeds 33-96 of both 0.9964 / 0.9819 and
    # 0.9888 / 0.9678 -> 0.9970 / 0.9867 and 0.9895 / 0.9713, seeds 97-224 0.9948 / 0.9763
    # and 0.9911 / 0.9693 -> 0.9955 / 0.9796 and 0.9911 / 0.9729, and with 2 m of white
    # error on top of the drift (seeds 1-32) 0.9779 / 0.9636 and 0.9644 / 0.9313 -> 0.9789
    # / 0.9647 and 0.9652 / 0.9329
    along_step_m: float = 0.2
    # ... left out where it is this large (m): that is a snap's doing, not the drift's (a
    # state travelling across the ride, on a crossing street). Seeds 1-32 as above, 2 m:
    # 0.9977 / 0.9764 and 0.9926 / 0.9662; 8 m: 0.9969 / 0.9862 and 0.9876 / 0.9759
    speed_outlier_m: float = 4.0
    # ... and where both fixes of a step measured at most standing_ms, the rider stood: the
    # fixes moved by the drift's change alone, seen whole (both axes), whatever way they
    # were snapped to. 3 times the speed's noise (0.1 m/s), so a standing fix's own speed
    # reading passes and a rider setting off (1 m/s and up) does not. Without it a 40 s
    # wait's drift (a 6 m drift moves by some 6 m in that time) was seen through the way
    # each fix was snapped to, across it and along it: where some snaps went onto another
    # way (round a corner, a crossing street) the corrected fixes followed them. A wait is
    # now right or wrong as a whole: it still stands where the drift estimated before it
    # puts it. Over 32 drifting rides, 3 / 6 m, without -> with: tuning set 0.9969 / 0.9859
    # -> 0.9973 / 0.9864, check extract seeds 1-32 0.9918 / 0.9757 -> 0.9920 / 0.9783;
    # seeds 33-96 of the tuning set 0.9971 / 0.9864 -> 0.9970 / 0.9867, of the check
    # extract 0.9887 / 0.9699 -> 0.9895 / 0.9713; seeds 97-224 of both 0.9954 / 0.9787 and
    # 0.9908 / 0.9719 -> 0.9955 / 0.9796 and 0.9911 / 0.9729. (0.15 m/s scored within 0.001
    # of 0.3 with the snaps' steps, see along_step_m. Below 0: no step is standing.)
    standing_ms: float = 0.3
    # Before the drift is first estimated, a drifting ride's path is chosen once more with
    # the error modelled as the drift it is (_drift_aware_path): the fix's error changes
    # little from one second to the next (drift_step_m per axis and second: a jump of a
    # state sideways onto another way while the fixes go straight on costs (jump / step)^2
    # / 2 nats), and fixes whose errors are that correlated count for less each
    # (drift_emission_weight times their emission). Without it the first pass counts every
    # fix as independent evidence: a minute of fixes 12 m from the true way and 3 m from
    # the cycle track beside it outvotes the true way by some 80 nats, and the drift
    # estimated from those snaps then fits the track and confirms it. drift_step_m is
    # about what a Gauss-Markov drift of 3.5 m (drift_std_factor * sigma) and 45 s changes
    # by in a second (0.7 m) with white error on top. Over 32 drifting rides, 3 / 6 m,
    # tuning set and check extract seeds 1-32, before -> after: 0.9921 / 0.9811 and 0.9898
    # / 0.9468 -> 0.9959 / 0.9823 and 0.9897 / 0.9702; seeds 33-96 of both 0.9951 / 0.9768
    # and 0.9876 / 0.9565 -> 0.9961 / 0.9834 and 0.9884 / 0.9664; without the speed, seeds
    # 1-32, 0.9890 / 0.9708 and 0.9834 / 0.9274 -> 0.9928 / 0.9738 and 0.9834 / 0.9531. A
    # weight of 0.05 or 0.2, and a step of 1 or 2.5 m, scored within 0.002 of these
    # (weight 0: no such path). Only where the fixes' errors are that correlated: the
    # lag-1 correlation of their offsets from the first pass's snaps at least
    # drift_min_correlation. Drifting rides give 0.91-0.98 (8 of each set, 3 and 6 m), the
    # real track 0.99, white noise -0.04 to 0.09: with white noise of 6 m the fixes'
    # errors change by 8 m from one fix to the next, and a drift's small steps are the
    # wrong model (a ride along one of two streets 20 m apart went half onto the other)
    drift_emission_weight: float = 0.1
    drift_step_m: float = 1.5
    drift_min_correlation: float = 0.5


DEFAULT_PARAMS = MatchParams()


@dataclass(frozen=True, slots=True)
class Pass:
    """One maximal run of consecutive points on the same way in the same direction."""

    way_id: int
    direction: int  # +1 along the way's digitised direction, -1 against, 0 unknown
    first_index: int
    last_index: int
    length_m: float  # route distance ridden between its first and last point


@dataclass(slots=True)
class MatchResult:
    """Per point arrays (length = number of fixes) and the passes they form."""

    way_id: np.ndarray  # int64 OSM way id, -1 where unmatched
    along: np.ndarray  # metres from the way's first vertex, NaN where unmatched
    direction: np.ndarray  # int8: +1, -1, 0 (unknown or unmatched)
    lon: np.ndarray  # snapped position, NaN where unmatched
    lat: np.ndarray
    distance: np.ndarray  # metres from the fix to the snapped position, NaN where unmatched
    passes: list[Pass]
    route_length_m: float  # network distance along the matched path (gaps excluded)
    chain_starts: np.ndarray  # indices where the HMM (re)started (first point included)


# --- the ride's own motion ---------------------------------------------------------------

@dataclass(slots=True)
class RideFit:
    """Per point: heading (unit vector), its weight, and the position to measure the
    straight-line distances of the transitions from (smoothed for dense fixes)."""

    hx: np.ndarray
    hy: np.ndarray
    kappa: np.ndarray
    x: np.ndarray
    y: np.ndarray


def fit_ride(x: np.ndarray, y: np.ndarray, t: np.ndarray, course: np.ndarray | None,
              sigma: float, params: MatchParams, use: np.ndarray | None = None) -> RideFit:
    """Least-squares fit of position over time in a window around each point, over the
    points in use (fixes off the network say nothing about riding on it).

    The velocity's noise is sigma / sqrt(sum (t - mean t)^2): the heading weight rises from
    0 when the speed is within 3 noise levels of zero (standing still: direction unknown;
    noise alone gets past 3 in 1 % of windows, past 2 in 13 %) to full at 5. A GPS course,
    where given, replaces the fitted direction (it is Doppler based), with the same weight.

    The smoothed positions give the straight-line distances of the transitions when fixes
    are dense (typical step below 2 sigma, e.g. 1-2 s at cycling speed): then sideways noise
    as large as the distance ridden makes a detour through a side street look as likely as
    riding straight on. With sparser fixes the raw ones are better (synthetic Oslo rides:
    90 vs 89 % right at 2 s, 89 vs 92 % at 3 s, 76 vs 84 % at 5 s): smoothing over a window
    that long cuts corners.
    """
    n = len(x)
    dt = np.diff(t)
    dt_typical = float(np.median(dt[dt > 0])) if np.any(dt > 0) else 1.0
    half = max(1, int(round(params.fit_window_s / dt_typical)))
    idx = np.arange(n)
    lo = np.clip(idx - half, 0, n - 1)
    hi = np.clip(idx + half, 0, n - 1)
    tt = t - t[0]  # centred so squares stay small
    use = np.isfinite(x) & np.isfinite(y) & (True if use is None else use)
    w = use.astype(np.float64)
    x0 = np.where(w > 0, x, 0.0)
    y0 = np.where(w > 0, y, 0.0)

    def window_sum(v: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(v)])
        return c[hi + 1] - c[lo]

    sw = window_sum(w)
    st, sx, sy = window_sum(w * tt), window_sum(x0), window_sum(y0)
    stt, stx, sty = window_sum(w * tt * tt), window_sum(tt * x0), window_sum(tt * y0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_mean = st / sw
        var_t = stt - st * t_mean
        vx = (stx - t_mean * sx) / var_t
        vy = (sty - t_mean * sy) / var_t
        speed = np.hypot(vx, vy)
        z = speed * np.sqrt(var_t) / sigma
        hx, hy = vx / speed, vy / speed
        smooth_x = sx / sw + vx * (tt - t_mean)
        smooth_y = sy / sw + vy * (tt - t_mean)
    kappa = params.heading_kappa * np.clip((z - 3.0) / 2.0, 0.0, 1.0)
    if course is not None:
        course = np.asarray(course, dtype=np.float64)
        has = np.isfinite(course)
        rad = np.radians(course[has])
        hx[has], hy[has] = np.sin(rad), np.cos(rad)  # course: clockwise from north
    ok = np.isfinite(kappa) & np.isfinite(hx) & np.isfinite(hy)
    fitted = np.isfinite(smooth_x) & np.isfinite(smooth_y)
    step = np.hypot(np.diff(x[use]), np.diff(y[use]))
    if len(step) and np.median(step) < 2.0 * sigma:
        x = np.where(fitted, smooth_x, x)
        y = np.where(fitted, smooth_y, y)
    return RideFit(np.where(ok, hx, 0.0), np.where(ok, hy, 0.0), np.where(ok, kappa, 0.0),
                    x, y)


# --- candidates and states ----------------------------------------------------------------

@dataclass(slots=True)
class _States:
    """Per point (rows) and state (columns: K candidates forward, then K backward)."""

    seg: np.ndarray
    way: np.ndarray
    along: np.ndarray
    direction: np.ndarray
    x: np.ndarray
    y: np.ndarray
    distance: np.ndarray
    valid: np.ndarray


def _candidates(net: RoadNetwork, x: np.ndarray, y: np.ndarray, radius: float, k: int,
                among: tuple[np.ndarray, np.ndarray] | None = None) -> _States:
    """The k nearest candidate positions per point, padded; doubled into two directions.
    among: the (point, segment) pairs to look at (RoadNetwork.nearby_segments)."""
    n = len(x)
    near = net.nearby_segments(x, y, radius, among)
    order = np.lexsort((near.distance, near.point))
    pt = near.point[order]
    group_start = np.searchsorted(pt, pt, side="left")
    rank = np.arange(len(pt)) - group_start
    take = rank < k
    order, pt, rank = order[take], pt[take], rank[take]

    def padded(values: np.ndarray, fill) -> np.ndarray:
        out = np.full((n, k), fill, dtype=values.dtype)
        out[pt, rank] = values[order]
        return out

    seg = padded(near.segment, -1)
    valid = seg >= 0
    safe_seg = np.where(valid, seg, 0)
    way = np.where(valid, net.seg_way[safe_seg], -1)
    both = lambda a: np.concatenate([a, a], axis=1)  # noqa: E731
    direction = np.concatenate([np.ones((n, k), np.int8), -np.ones((n, k), np.int8)], axis=1)
    return _States(
        seg=both(seg), way=both(way), along=both(padded(near.along, np.nan)),
        direction=direction, x=both(padded(near.x, np.nan)), y=both(padded(near.y, np.nan)),
        distance=both(padded(near.distance, np.inf)), valid=both(valid))


def _travel_units(net: RoadNetwork, st: _States) -> tuple[np.ndarray, np.ndarray]:
    """Per state: the unit vector of its travel direction (its segment's, signed by its
    direction); any unit vector where the state is padding."""
    safe_seg = np.where(st.valid, st.seg, 0)
    seg_len = net.seg_length[safe_seg]
    return (st.direction * net.seg_dx[safe_seg] / seg_len,
            st.direction * net.seg_dy[safe_seg] / seg_len)


def _emission(net: RoadNetwork, st: _States, fit: RideFit, sigma: float,
              params: MatchParams) -> np.ndarray:
    """Log emission per state: Gaussian distance term + signed heading term, pruned."""
    tx, ty = _travel_units(net, st)
    cos = tx * fit.hx[:, None] + ty * fit.hy[:, None]
    way_cost = net.way_cost[np.where(st.valid, st.way, 0)]
    with np.errstate(invalid="ignore"):
        log_e = (-0.5 * (st.distance / sigma) ** 2 + fit.kappa[:, None] * (cos - 1.0)
                 - params.road_class_weight * way_cost)
    log_e[~st.valid] = -np.inf
    best = log_e.max(axis=1, initial=-np.inf)
    log_e[log_e < best[:, None] - params.prune_nats] = -np.inf
    return log_e


def _ends(net: RoadNetwork, st: _States) -> tuple[np.ndarray, ...]:
    """Where each state leaves and enters the junction graph, and at what along-distance.

    Travelling forward a state leaves through its piece's end node and was entered from its
    start node; backward the other way round. A state sitting on a node leaves and enters
    through that node.
    """
    safe_seg = np.where(st.valid, st.seg, 0)
    piece = net.seg_piece[safe_seg]
    a, b = net.piece_node_a[piece], net.piece_node_b[piece]
    along_a, along_b = net.piece_along_a[piece], net.piece_along_b[piece]
    fwd = st.direction > 0
    exit_node = np.where(fwd, b, a)
    exit_cost = np.where(fwd, along_b - st.along, st.along - along_a)
    entry_node = np.where(fwd, a, b)
    entry_cost = np.where(fwd, st.along - along_a, along_b - st.along)
    at_a = st.along - along_a <= SAME_PLACE_M
    at_b = along_b - st.along <= SAME_PLACE_M
    for at, node in ((at_a, a), (at_b, b)):
        exit_node = np.where(at, node, exit_node)
        entry_node = np.where(at, node, entry_node)
        exit_cost = np.where(at, 0.0, exit_cost)
        entry_cost = np.where(at, 0.0, entry_cost)
    return exit_node, np.maximum(exit_cost, 0.0), entry_node, np.maximum(entry_cost, 0.0)


# --- transitions --------------------------------------------------------------------------

def _transitions(net: RoadNetwork, st: _States, log_e: np.ndarray, fit: RideFit,
                 sigma: float, params: MatchParams
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log transition (n-1, S, S) from state a at point i to state b at i+1, its route
    length (m), and whether that route leaves the way (else it is along the way)."""
    straight = np.hypot(np.diff(fit.x), np.diff(fit.y))[:, None, None]
    limit = params.detour_factor * straight + params.detour_slack_m
    live = np.isfinite(log_e)
    usable = live[:-1, :, None] & live[1:, None, :]

    way_a, way_b = st.way[:-1, :, None], st.way[1:, None, :]
    dir_a, dir_b = st.direction[:-1, :, None], st.direction[1:, None, :]
    delta = st.along[1:, None, :] - st.along[:-1, :, None]
    same_way = usable & (way_a == way_b)
    same_dir = dir_a == dir_b
    onward = dir_a * delta  # along-distance moved in the travel direction
    back_max = params.backward_sigmas * sigma
    along_route = same_way & (~same_dir | (onward >= -back_max))
    route = np.where(along_route, np.abs(delta), np.inf)
    penalty = np.zeros(route.shape)
    backwards = along_route & same_dir & (onward < 0)
    penalty[backwards] = (onward[backwards] / (2.0 * sigma)) ** 2
    penalty[along_route & ~same_dir] += params.uturn_penalty
    change = usable & (way_a != way_b)
    tx, ty = _travel_units(net, st)
    cos_ab = tx[:-1, :, None] * tx[1:, None, :] + ty[:-1, :, None] * ty[1:, None, :]
    penalty[change] += np.where(cos_ab[change] >= params.way_continue_cos,
                                params.way_continue_penalty, params.way_change_penalty)

    oneway = net.way_oneway[np.where(st.valid, st.way, 0)]
    contra = (oneway * st.direction < 0) & st.valid
    contra_m = np.where(along_route, np.abs(delta) * contra[1:, None, :], 0.0)

    # the rest goes over the junction graph: different ways, or far back on the same one
    # (round a closed way, say)
    exit_node, exit_cost, entry_node, entry_cost = _ends(net, st)
    # dense arrays over all state pairs, then the route searches for the pairs that need
    # one: cheaper than fancy indexing with three index arrays over hundreds of thousands
    partial = exit_cost[:-1, :, None] + entry_cost[1:, None, :]
    graph = usable & ~along_route & (partial <= limit)
    src = np.broadcast_to(exit_node[:-1, :, None], graph.shape)
    dst = np.broadcast_to(entry_node[1:, None, :], graph.shape)
    elsewhere = np.flatnonzero(graph & (src != dst))
    route = np.where(graph, partial, route)
    room = (limit - partial).ravel()[elsewhere]
    route.ravel()[elsewhere] += net.route_lengths(src.ravel()[elsewhere],
                                                  dst.ravel()[elsewhere], room)
    contra_m = np.where(graph, exit_cost[:-1, :, None] * contra[:-1, :, None]
                        + entry_cost[1:, None, :] * contra[1:, None, :], contra_m)

    with np.errstate(invalid="ignore"):
        log_t = (-np.abs(route - straight) / params.beta - penalty
                 - params.contraflow_per_m * contra_m)
    log_t[~(route <= limit)] = -np.inf
    return log_t, route, ~along_route


# points per block of transitions: _transitions makes about a dozen (n, S, S) temporaries,
# 2 GB for a day-long ride at once; block by block they stay near 100 MB, and only the three
# results are kept whole
TRANSITION_BLOCK = 2048


def _rows(columns, rows: slice):
    """The same per-point dataclass (_States, RideFit) for some rows only."""
    return type(columns)(**{f.name: getattr(columns, f.name)[rows] for f in fields(columns)})


def _transitions_blockwise(net: RoadNetwork, st: _States, log_e: np.ndarray, fit: RideFit,
                           sigma: float, params: MatchParams
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_transitions, computed over blocks of points (each transition only looks at its two
    points), written into arrays allocated once."""
    n, s = log_e.shape
    if n - 1 <= TRANSITION_BLOCK:
        return _transitions(net, st, log_e, fit, sigma, params)
    log_t, route = np.empty((n - 1, s, s)), np.empty((n - 1, s, s))
    via_graph = np.empty((n - 1, s, s), dtype=bool)
    for a in range(0, n - 1, TRANSITION_BLOCK):
        b = min(a + TRANSITION_BLOCK, n - 1)  # transitions a .. b-1 join points a .. b
        rows = slice(a, b + 1)
        log_t[a:b], route[a:b], via_graph[a:b] = _transitions(
            net, _rows(st, rows), log_e[rows], _rows(fit, rows), sigma, params)
    return log_t, route, via_graph


# --- Viterbi ------------------------------------------------------------------------------

def _viterbi(log_e: np.ndarray, log_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best state per point (-1 where none) and whether the chain restarts at each point."""
    n, s = log_e.shape
    back = np.full((n, s), -1, dtype=np.int64)
    score = np.empty((n, s))
    restart = np.zeros(n, dtype=bool)
    cols = np.arange(s)
    cur = log_e[0]
    score[0] = cur
    restart[0] = True
    alive = bool(np.isfinite(cur).any())
    for i in range(1, n):
        if alive:
            total = cur[:, None] + log_t[i - 1]
            arg = total.argmax(axis=0)
            new = total[arg, cols] + log_e[i]
            if np.isfinite(new).any():
                back[i] = arg
                cur = new
                score[i] = cur
                continue
        # no way to get here from the previous point: the chain breaks, start afresh
        restart[i] = True
        cur = log_e[i]
        score[i] = cur
        alive = bool(np.isfinite(cur).any())

    state = np.full(n, -1, dtype=np.int64)
    nxt = -1
    for i in range(n - 1, -1, -1):
        if nxt >= 0 and not restart[i + 1]:
            cur_state = back[i + 1, nxt]
        else:
            row = score[i]
            cur_state = int(row.argmax()) if np.isfinite(row).any() else -1
        state[i] = cur_state
        nxt = cur_state
    return state, restart


# --- result -------------------------------------------------------------------------------

def _junctions_to_continuing_way(net: RoadNetwork, st: _States, state: np.ndarray,
                                 way: np.ndarray, along: np.ndarray, direction: np.ndarray,
                                 linked: np.ndarray, t: np.ndarray, junction_m: float) -> None:
    """A fix snapped onto a junction node belongs to the way the ride is on at that moment:
    at a crossing the snap of a fix at the node may sit on any way through it, and at a way
    boundary on either way of the street. Walking backwards, each such fix takes the way of
    the next fix when that way passes through the same node (so does a run of fixes
    waiting at the node), unless the ride comes from another way through the node and the
    fix's time puts it short of the node: the snap at the node says nothing of where along
    the route the fix is (a fix beside a bend projects onto its vertex from either side),
    so its place is interpolated in time between the snaps before and after it. Over 32
    drifting rides, 3 / 6 m, the interpolation took the tuning set from 0.9916 / 0.9806 to
    0.9921 / 0.9811 and check extract seeds 1-32 from 0.9889 / 0.9453 to 0.9898 / 0.9468
    (seeds 33-96 of both: +0.0002 to +0.0009; without the speed too)."""
    rows = np.flatnonzero(state >= 0)
    seg = st.seg[rows, state[rows]]
    piece = net.seg_piece[seg]
    a_along, b_along = net.piece_along_a[piece], net.piece_along_b[piece]
    node = np.full(len(way), -1, dtype=np.int64)
    at_a = along[rows] - a_along <= junction_m
    at_b = ~at_a & (b_along - along[rows] <= junction_m)
    node[rows[at_a]] = net.piece_node_a[piece[at_a]]
    node[rows[at_b]] = net.piece_node_b[piece[at_b]]
    for i in np.flatnonzero(node[:-1] >= 0)[::-1].tolist():
        nxt, prev = i + 1, i - 1
        if not linked[nxt] or way[nxt] < 0:
            continue
        at = net.along_at_node(int(node[i]), int(way[nxt]))
        if at is None:
            continue
        if linked[i] and way[prev] != way[nxt]:
            at_prev = net.along_at_node(int(node[i]), int(way[prev]))
            if at_prev is not None:
                # metres ridden from the snap before to the node, and from the node on
                to_node, from_node = abs(along[prev] - at_prev), abs(along[nxt] - at)
                share = (t[i] - t[prev]) / max(t[nxt] - t[prev], 1e-9)
                if share * (to_node + from_node) < to_node:
                    way[i], along[i], direction[i] = way[prev], at_prev, direction[prev]
                    continue
        if way[nxt] != way[i]:
            way[i], along[i], direction[i] = way[nxt], at, direction[nxt]


def _smooth_direction(way: np.ndarray, along: np.ndarray, direction: np.ndarray,
                      linked: np.ndarray, min_turnaround_m: float) -> None:
    """A stretch of opposite direction on a way that covers less than min_turnaround_m is
    jitter (standing still, GPS noise): it takes the direction of the run around it."""
    n = len(way)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and linked[j + 1] and way[j + 1] == way[i]:
            j += 1
        if way[i] >= 0 and j > i:
            _smooth_run(along[i:j + 1], direction[i:j + 1], min_turnaround_m)
        i = j + 1


def _smooth_run(along: np.ndarray, direction: np.ndarray, min_turnaround_m: float) -> None:
    changed = True
    while changed:
        changed = False
        bounds = np.flatnonzero(np.diff(direction)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(direction)]])
        if len(starts) < 2:
            return
        extents = [np.ptp(along[s:e]) for s, e in zip(starts, ends, strict=True)]
        k = int(np.argmin(extents))
        if extents[k] < min_turnaround_m:
            s, e = starts[k], ends[k]
            direction[s:e] = direction[s - 1] if s > 0 else direction[e]
            changed = True


def _unknown_direction(way: np.ndarray, along: np.ndarray, direction: np.ndarray,
                       linked: np.ndarray, kappa: np.ndarray, min_turnaround_m: float) -> None:
    """A stay on a way with no heading evidence and hardly any net movement along it has no
    direction (standing still the whole time, or a single fix)."""
    n = len(way)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and linked[j + 1] and way[j + 1] == way[i]:
            j += 1
        if (way[i] >= 0 and not np.any(kappa[i:j + 1] > 0)
                and abs(along[j] - along[i]) < min_turnaround_m):
            direction[i:j + 1] = 0
        i = j + 1


def _passes(way_id: np.ndarray, direction: np.ndarray, linked: np.ndarray,
            progress: np.ndarray) -> tuple[list[Pass], float]:
    """The passes, and the route length: their lengths plus the routes between them.

    A pass's length is the sum of its steps' progress (signed), so GPS jitter back and forth
    along the way cancels out instead of adding up.
    """
    passes: list[Pass] = []
    total = 0.0
    n = len(way_id)
    i = 0
    while i < n:
        if way_id[i] < 0:
            i += 1
            continue
        if linked[i]:  # the step that led onto this pass, from the previous one
            total += max(float(progress[i]), 0.0)
        j = i
        while (j + 1 < n and linked[j + 1] and way_id[j + 1] == way_id[i]
               and direction[j + 1] == direction[i]):
            j += 1
        net = float(progress[i + 1:j + 1].sum())
        length = abs(net) if direction[i] == 0 else max(net, 0.0)
        passes.append(Pass(int(way_id[i]), int(direction[i]), i, j, length))
        total += length
        i = j + 1
    return passes, total


def _empty_result(n: int) -> MatchResult:
    nan = np.full(n, np.nan)
    return MatchResult(np.full(n, -1, np.int64), nan.copy(), np.zeros(n, np.int8), nan.copy(),
                       nan.copy(), nan.copy(), [], 0.0, np.zeros(0, np.int64))


def _best_states(network: RoadNetwork, x: np.ndarray, y: np.ndarray, t: np.ndarray, course,
                 radius: float, sigma: float, params: MatchParams,
                 among: tuple[np.ndarray, np.ndarray] | None = None):
    """One HMM pass: candidates, emissions, transitions and the Viterbi path."""
    st = _candidates(network, x, y, radius, params.max_candidates, among)
    fit = fit_ride(x, y, t, course, sigma, params, use=st.valid.any(axis=1))
    log_e = _emission(network, st, fit, sigma, params)
    s = st.way.shape[1]
    if len(x) > 1:
        log_t, route, via_graph = _transitions_blockwise(network, st, log_e, fit, sigma,
                                                         params)
    else:
        log_t, route = np.zeros((0, s, s)), np.zeros((0, s, s))
        via_graph = np.zeros((0, s, s), dtype=bool)
    state, restart = _viterbi(log_e, log_t)
    return st, fit, route, via_graph, state, restart, log_e, log_t


def _snap_offsets(st: _States, state: np.ndarray, x: np.ndarray, y: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each fix's offset from its snap (metres east, north), NaN where unmatched."""
    rows = np.flatnonzero(state >= 0)
    ox, oy = np.full(len(x), np.nan), np.full(len(x), np.nan)
    ox[rows] = x[rows] - st.x[rows, state[rows]]
    oy[rows] = y[rows] - st.y[rows, state[rows]]
    return ox, oy


def _error_correlation(st: _States, state: np.ndarray, restart: np.ndarray, x: np.ndarray,
                       y: np.ndarray) -> float:
    """The lag-1 correlation of the fixes' offsets from their snaps (as vectors), over the
    consecutive fixes of each chain: near 1 for a drifting error, near 0 for white noise."""
    ox, oy = _snap_offsets(st, state, x, y)
    pair = np.isfinite(ox[1:]) & np.isfinite(ox[:-1]) & ~restart[1:]
    a = np.stack([ox[:-1][pair], oy[:-1][pair]])
    b = np.stack([ox[1:][pair], oy[1:][pair]])
    power = 0.5 * (np.sum(a * a) + np.sum(b * b))
    return float(np.sum(a * b) / power) if power > 0 else 0.0


def _drift_aware_path(st: _States, log_e: np.ndarray, log_t: np.ndarray, x: np.ndarray,
                      y: np.ndarray, t: np.ndarray, params: MatchParams
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The Viterbi path of a pass's states with the error modelled as a drift (see
    MatchParams.drift_emission_weight): each transition also pays for the change of the
    fix's error vector (fix minus state position) it implies, a Gaussian of drift_step_m
    per axis and second, and the emissions count drift_emission_weight times. log_t is
    the pass's own and is changed in place."""
    ox, oy = x[:, None] - st.x, y[:, None] - st.y  # NaN at padding, whose log_t is -inf
    var = 2.0 * params.drift_step_m ** 2 * np.maximum(np.diff(t), 1.0)
    for a in range(0, len(log_t), TRANSITION_BLOCK):  # in blocks, as _transitions_blockwise
        b = min(a + TRANSITION_BLOCK, len(log_t))
        dx = ox[a + 1:b + 1, None, :] - ox[a:b, :, None]
        dy = oy[a + 1:b + 1, None, :] - oy[a:b, :, None]
        with np.errstate(invalid="ignore"):
            change = (dx * dx + dy * dy) / var[a:b, None, None]
        np.subtract(log_t[a:b], change, out=log_t[a:b], where=np.isfinite(change))
    return _viterbi(log_e * params.drift_emission_weight, log_t)


def _drifts(st: _States, state: np.ndarray, x: np.ndarray, y: np.ndarray, t: np.ndarray,
            window_s: float, min_m: float) -> bool:
    """Whether the fixes' offset from their snaps, averaged over +-window_s, exceeds min_m
    for a tenth of the fixes or more: a drifting error does, error independent from fix
    to fix averages out to well under it (so rides without drift are matched once)."""
    ox, oy = _snap_offsets(st, state, x, y)
    ok = np.isfinite(ox).astype(np.float64)
    ox, oy = np.nan_to_num(ox), np.nan_to_num(oy)
    lo = np.searchsorted(t, t - window_s, side="left")
    hi = np.searchsorted(t, t + window_s, side="right")

    def window_sum(v: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(v)])
        return c[hi] - c[lo]

    count = window_sum(ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.hypot(window_sum(ox) / count, window_sum(oy) / count)
    return bool(np.mean(np.nan_to_num(mean) > min_m) > 0.1)


class _SpeedSteps(NamedTuple):
    """What the measured speed says of the drift's change from fix to fix (_speed_steps).
    A step is named by the index of the fix it ends at."""

    moving: np.ndarray  # steps whose change of the drift's part along the route is seen
    ux: np.ndarray  # ... the route's direction over each (unit vector, east / north)
    uy: np.ndarray
    ahead: np.ndarray  # ... and that change (m): how much farther the fixes moved than ridden
    standing: np.ndarray  # steps over which the rider stood: the fixes moved by the drift
    step_m: float  # the error of either figure per second (m, per axis)


def _speed_steps(net: RoadNetwork, st: _States, state: np.ndarray, restart: np.ndarray,
                 x: np.ndarray, y: np.ndarray, t: np.ndarray, speed: np.ndarray,
                 params: MatchParams) -> _SpeedSteps:
    """Standing: the steps whose two fixes both measured at most standing_ms (the fixes
    moved by the drift's change, in both axes, however they were snapped). Moving: the
    other steps between consecutive fixes of a chain that both carry a speed, and by how
    much the fixes moved farther in the route's direction (the mean of the two snaps'
    travel directions) than the speed says was ridden (the mean of the two speeds times
    the time): the change of the drift's part along the route over the step. A moving
    step this far off (speed_outlier_m) is a snap's doing, not the drift's (a state
    travelling across the ride, at a crossing street): it is left out, as is a step
    whose two snaps travel opposite ways (a U-turn: no direction)."""
    known = np.isfinite(speed[1:]) & np.isfinite(speed[:-1])
    stood = known & (speed[1:] <= params.standing_ms) & (speed[:-1] <= params.standing_ms)
    stood &= np.isfinite(x[1:]) & np.isfinite(x[:-1])
    matched = state >= 0
    linked = matched[1:] & matched[:-1] & ~restart[1:]
    j = np.flatnonzero(linked & known & ~stood) + 1
    tx, ty = _travel_units(net, st)
    tx, ty = tx[j, state[j]] + tx[j - 1, state[j - 1]], ty[j, state[j]] + ty[j - 1, state[j - 1]]
    norm = np.hypot(tx, ty)
    keep = norm > 0.5  # the two directions within 150 degrees of each other
    j, ux, uy = j[keep], tx[keep] / norm[keep], ty[keep] / norm[keep]
    ridden = 0.5 * (speed[j] + speed[j - 1]) * (t[j] - t[j - 1])
    ahead = ux * (x[j] - x[j - 1]) + uy * (y[j] - y[j - 1]) - ridden
    keep = np.abs(ahead) <= params.speed_outlier_m
    j, ux, uy, ahead = j[keep], ux[keep], uy[keep], ahead[keep]
    # the fixes' own white error shows in each step twice, with opposite signs in two
    # consecutive steps: their covariance is minus its variance (the drift's steps hardly
    # correlate: 1 - phi = 2 % per second at 45 s)
    pair = np.flatnonzero(j[1:] == j[:-1] + 1)
    white_var = max(-float(np.mean(ahead[pair] * ahead[pair + 1])), 0.0) if len(pair) else 0.0
    return _SpeedSteps(j, ux, uy, ahead, np.flatnonzero(stood) + 1,
                       float(np.sqrt(params.along_step_m ** 2 + 2.0 * white_var)))


def _drift(net: RoadNetwork, st: _States, state: np.ndarray, x: np.ndarray, y: np.ndarray,
           t: np.ndarray, sigma: float, params: MatchParams,
           steps: _SpeedSteps | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The receiver's slowly drifting error, estimated from a pass's snaps.

    The error is modelled as a receiver's is (a first-order Gauss-Markov process per axis:
    time constant drift_tau_s, standard deviation drift_std_factor * sigma), and each
    matched fix observes only its part across the way it was snapped to: the snap is the
    fix's projection, so the part along the way is unseen there. Where the ride turns, or
    the street bends, the across direction changes and the part along the earlier street
    shows; the process carries it to the fixes before and after, so that the fixes near a
    way boundary or a junction are moved along the street as well as across it. (A moving
    average of fix minus snap, the estimate before this one, saw the along part only at
    the corner itself, diluted by the straight stretches around it.)

    The smoothed estimate is the solution of one banded least-squares system (the x and
    y of each fix interleaved; bandwidth 2): observations weighted by drift_white_m, the
    error left over besides the drift (white GPS noise, the lane beside the centre line).
    steps: where the measured speed is known (_speed_steps), the steps whose change of the
    part along the route is seen, each weighted by its step_m (they widen the band to 3),
    and those over which the rider stood, whose change of the drift is the fixes' (both
    axes).
    Returns (dx, dy) per fix, going to 0 away from any matched fix.
    """
    from scipy.linalg import solveh_banded  # loaded when a ride is matched, not at start

    n = len(x)
    rows = np.flatnonzero(state >= 0)
    cols = state[rows]
    seg = st.seg[rows, cols]
    length = net.seg_length[seg]
    nx, ny = -net.seg_dy[seg] / length, net.seg_dx[seg] / length  # across the way
    z = nx * (x[rows] - st.x[rows, cols]) + ny * (y[rows] - st.y[rows, cols])
    w = 1.0 / params.drift_white_m ** 2
    # normal equations H d = g, d = (dx0, dy0, dx1, dy1, ...); upper banded form of H
    band4 = np.zeros((4, 2 * n))  # upper banded: band4[3 - k, j] = H[j - k, j]
    band = band4[1:]
    g = np.zeros(2 * n)
    diag, off1, off2 = band[2], band[1], band[0]  # H[j, j], H[j-1, j], H[j-2, j]
    diag[2 * rows] += w * nx * nx
    diag[2 * rows + 1] += w * ny * ny
    off1[2 * rows + 1] += w * nx * ny
    g[2 * rows] += w * nx * z
    g[2 * rows + 1] += w * ny * z
    if steps is not None and len(steps.moving):
        # each step's change of the along part: u . (d_j - d_{j-1}) = ahead, u the route's
        # direction over the step
        j, ahead, step_m = steps.moving, steps.ahead, steps.step_m
        coef = np.stack([-steps.ux, -steps.uy, steps.ux, steps.uy])  # d[2j-2 .. 2j+1]
        wa = 1.0 / (step_m ** 2 * np.maximum(t[j] - t[j - 1], 1.0))
        for r in range(4):
            g[2 * j - 2 + r] += wa * coef[r] * ahead
            for c in range(r, 4):
                band4[3 - (c - r), 2 * j - 2 + c] += wa * coef[r] * coef[c]
    if steps is not None and len(steps.standing):
        # standing: d_j - d_{j-1} = fix_j - fix_{j-1}, per axis
        j = steps.standing
        ws = 1.0 / (steps.step_m ** 2 * np.maximum(t[j] - t[j - 1], 1.0))
        for axis, v in ((0, x), (1, y)):
            a, b = 2 * (j - 1) + axis, 2 * j + axis
            moved = v[j] - v[j - 1]
            diag[a] += ws
            diag[b] += ws
            off2[b] -= ws
            g[a] -= ws * moved
            g[b] += ws * moved
    # the process: d[i+1] - phi d[i] ~ N(0, sigma^2 (1 - phi^2)), d[0] ~ N(0, sigma^2)
    sigma = sigma * params.drift_std_factor  # the drift's own
    phi = np.exp(-np.diff(t) / params.drift_tau_s)
    q_inv = 1.0 / (sigma ** 2 * np.maximum(1.0 - phi * phi, 1e-9))
    for axis in (0, 1):
        j = 2 * np.arange(n) + axis
        diag[j[0]] += 1.0 / sigma ** 2
        diag[j[:-1]] += phi * phi * q_inv
        diag[j[1:]] += q_inv
        off2[j[1:]] -= phi * q_inv
    d = solveh_banded(band4 if band4[0].any() else band, g)
    return d[0::2], d[1::2]


def match_ride(network: RoadNetwork, lon, lat, t, course=None, *, speed=None,
                radius: float = 40.0, sigma: float = 7.0,
                params: MatchParams = DEFAULT_PARAMS) -> MatchResult:
    """Match a ride's fixes to the network's ways.

    lon, lat: degrees (EPSG:4326); t: seconds, increasing; course: GPS course in degrees
    clockwise from north, NaN where unknown (None: none at all). speed: m/s as the receiver
    measured it (Doppler), NaN where unknown, None when none was measured: a speed derived
    from the positions drifts with them and tells nothing (see MatchParams.along_step_m
    and standing_ms).
    radius: metres within which a way is a candidate for a fix; a fix with none is left
    unmatched and the HMM restarts after it. sigma: GPS standard deviation in metres (5-10
    for phones and OpenBikeSensor). Along-distances are metres in the network's local
    projection (within 0.5 % of true).
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    n = len(lon)
    if not (len(lat) == n and len(t) == n and (course is None or len(course) == n)
            and (speed is None or len(speed) == n)):
        raise ValueError("lon, lat, t (and course, speed) must have the same length")
    if n == 0 or network.n_segments == 0:
        return _empty_result(n)
    x, y = network.projection.to_xy(lon, lat)
    pairs = network.segments_within(x, y, radius)
    st, fit, route, via_graph, state, restart, log_e, log_t = _best_states(
        network, x, y, t, course, radius, sigma, params, among=pairs)
    drifting = (params.drift_tau_s > 0 and n > 1 and np.any(state >= 0)
                and _drifts(st, state, x, y, t, params.drift_tau_s, params.drift_min_m))
    if (drifting and params.drift_emission_weight > 0
            and _error_correlation(st, state, restart, x, y) >= params.drift_min_correlation):
        state, restart = _drift_aware_path(st, log_e, log_t, x, y, t, params)
    del log_e, log_t  # (n, S, S): the next passes make their own
    if drifting:
        speed = None if speed is None else np.asarray(speed, dtype=np.float64)
        for _ in range(1 + params.drift_refinements):
            # the fixes' own steps (not those less the drift estimated last): the snaps
            # give only the route's direction
            steps = (None if speed is None else
                     _speed_steps(network, st, state, restart, x, y, t, speed, params))
            # each snap lies on its way, so the fix's offset across the way is measured
            # from it whatever the fixes were moved by before this pass
            dx, dy = _drift(network, st, state, x, y, t, sigma, params, steps)
            # the segments near the fixes moved by a few metres are those near the fixes
            # (but for some at the radius' edge, never among the nearest few): each pass
            # reuses the first's search
            st, fit, route, via_graph, state, restart, _, _ = _best_states(
                network, x - dx, y - dy, t, course, radius,
                sigma * params.drift_sigma_factor, params, among=pairs)

    matched = state >= 0
    rows = np.flatnonzero(matched)
    cols = state[rows]
    way_index = np.full(n, -1, dtype=np.int64)
    way_index[rows] = st.way[rows, cols]
    way_id = np.full(n, -1, dtype=np.int64)
    way_id[rows] = network.way_ids[way_index[rows]]
    along = np.full(n, np.nan)
    along[rows] = st.along[rows, cols]
    direction = np.zeros(n, dtype=np.int8)
    direction[rows] = st.direction[rows, cols]
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    sx[rows], sy[rows] = st.x[rows, cols], st.y[rows, cols]
    slon, slat = network.projection.to_lonlat(sx, sy)
    distance = np.full(n, np.nan)
    distance[rows] = np.hypot(x[rows] - sx[rows], y[rows] - sy[rows])  # from the fix itself

    # linked[i]: point i continues the chain of point i-1
    linked = np.zeros(n, dtype=bool)
    linked[1:] = matched[1:] & matched[:-1] & ~restart[1:]
    _junctions_to_continuing_way(network, st, state, way_index, along, direction, linked, t,
                                 params.junction_m)
    way_id[rows] = network.way_ids[way_index[rows]]
    _smooth_direction(way_index, along, direction, linked, params.min_turnaround_m)
    _unknown_direction(way_index, along, direction, linked, fit.kappa, params.min_turnaround_m)

    # progress of each step: along the way in the (final) travel direction, signed, so
    # jitter cancels; the route length where the step left the way (or turned round)
    steps = np.flatnonzero(linked)
    step_progress = np.zeros(n)
    step_progress[steps] = route[steps - 1, state[steps - 1], state[steps]]
    on_way = steps[~via_graph[steps - 1, state[steps - 1], state[steps]]
                   & (direction[steps] == direction[steps - 1])
                   & (way_index[steps] == way_index[steps - 1])]
    sign = np.where(direction[on_way] == 0, 1, direction[on_way])
    step_progress[on_way] = sign * (along[on_way] - along[on_way - 1])
    passes, route_length = _passes(way_id, direction, linked, step_progress)
    return MatchResult(way_id, along, direction, slon, slat, distance, passes, route_length,
                       np.flatnonzero(matched & ~linked))

