"""Robust statistics for analytics, on numpy (python3-numpy in Debian 12; 1.24 and 2.x alike).

Every method is explained for operators in docs/analytics.md; keep the two in step.
Functions take plain sequences and return plain floats, so results are JSON as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Iglewicz & Hoaglin: |modified z| > 3.5 marks an outlier; 0.6745 makes MAD comparable to σ
OUTLIER_Z = 3.5
_MAD_SCALE = 0.6745
Z95 = 1.96  # two-sided 95 % for the normal approximation


def percentiles(values: Sequence[float], points: Sequence[float] = (50, 95, 99)) -> dict[str, float]:
    """{"p50": …, "p95": …} by linear interpolation between order statistics (numpy's default)."""
    if not values:
        return {}
    found = np.percentile(np.asarray(values, dtype=float), list(points))
    return {f"p{p:g}": float(v) for p, v in zip(points, found, strict=True)}


def robust_scale(baseline: Sequence[float]) -> tuple[float, float]:
    """(median, robust σ) of the baseline: modified z = (x − median) / robust σ.

    Robust σ is MAD / 0.6745, so that one slow run cannot drag it the way it drags a standard
    deviation. When more than half the baseline is identical (MAD = 0), the mean absolute
    deviation stands in (× 1.2533, σ's estimate from it). 0 when the baseline does not vary.
    """
    data = np.asarray(baseline, dtype=float)
    if data.size == 0:
        return 0.0, 0.0
    median = float(np.median(data))
    mad = float(np.median(np.abs(data - median)))
    if mad > 0:
        return median, mad / _MAD_SCALE
    return median, 1.253314 * float(np.mean(np.abs(data - median)))


def modified_z(baseline: Sequence[float], value: float) -> float:
    """How far `value` lies from the baseline's median, in robust standard deviations.

    0.6745·(x − median)/MAD (Iglewicz & Hoaglin); see robust_scale.
    """
    if not baseline:
        return 0.0
    median, scale = robust_scale(baseline)
    if scale > 0:
        return (value - median) / scale
    return 0.0 if value == median else math.copysign(math.inf, value - median)


@dataclass(frozen=True)
class LineFit:
    """y = intercept + slope·x by least squares, with the slope's standard error."""

    slope: float
    intercept: float
    slope_se: float
    n: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def line_fit(x: Sequence[float], y: Sequence[float]) -> LineFit | None:
    """Ordinary least squares; None below 3 points or when x does not vary."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = xs.size
    if n < 3 or float(np.ptp(xs)) == 0:
        return None
    x_mean, y_mean = xs.mean(), ys.mean()
    sxx = float(((xs - x_mean) ** 2).sum())
    slope = float(((xs - x_mean) * (ys - y_mean)).sum()) / sxx
    intercept = float(y_mean - slope * x_mean)
    residuals = ys - (intercept + slope * xs)
    sigma2 = float((residuals**2).sum()) / (n - 2)
    return LineFit(slope, intercept, math.sqrt(sigma2 / sxx), int(n))


def theil_sen(x: Sequence[float], y: Sequence[float]) -> float | None:
    """The median of all pairwise slopes: a trend that ignores up to ~29 % wild points."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.size < 2:
        return None
    if xs.size > 400:  # O(n²) pairs: an even subsample keeps it fast and unbiased
        pick = np.linspace(0, xs.size - 1, 400).astype(int)
        xs, ys = xs[pick], ys[pick]
    i, j = np.triu_indices(xs.size, k=1)
    dx = xs[j] - xs[i]
    keep = dx != 0
    if not keep.any():
        return None
    return float(np.median((ys[j] - ys[i])[keep] / dx[keep]))


def binomial_excess(failures: int, runs: int, baseline_rate: float) -> float:
    """z of `failures` in `runs` against a baseline failure rate (normal approximation)."""
    if runs == 0:
        return 0.0
    p = min(max(baseline_rate, 1e-6), 1 - 1e-6)
    return (failures - runs * p) / math.sqrt(runs * p * (1 - p))


def lagged_phi(a: set[int], b: set[int], slots: int, max_lag: int) -> tuple[float, int, int]:
    """The strongest correlation of two on/off series over lags -max_lag…max_lag.

    `a` and `b` are the slots (0 … slots-1) where each series is on, e.g. where a check failed.
    For on/off series Pearson's r is the phi coefficient, computed from counts:
    (n·both − on_a·on_b) / √(on_a·(n − on_a)·on_b·(n − on_b)) over the n overlapping slots.
    A positive lag means b follows a by that many slots. Returns (r, lag, slots on in both).
    """
    best = (0.0, 0, 0)
    for lag in range(-max_lag, max_lag + 1):
        n = slots - abs(lag)
        if n < 3:
            continue
        # slot i of a against slot i + lag of b, over the slots both series have
        left = {x for x in a if 0 <= x + lag < slots and x < slots}
        right = {y - lag for y in b if 0 <= y - lag < slots}
        both = len(left & right)
        on_a, on_b = len(left), len(right)
        spread = on_a * (n - on_a) * on_b * (n - on_b)
        if spread == 0:
            continue
        r = (n * both - on_a * on_b) / math.sqrt(spread)
        if r > best[0] + 1e-9 or (abs(r - best[0]) <= 1e-9 and abs(lag) < abs(best[1])):
            best = (r, lag, both)
    return best
