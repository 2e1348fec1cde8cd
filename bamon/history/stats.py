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


def modified_z(baseline: Sequence[float], value: float) -> float:
    """How far `value` lies from the baseline's median, in robust standard deviations.

    0.6745·(x − median)/MAD; one slow run cannot drag the median or MAD the way it drags a
    mean and standard deviation. When more than half the baseline is identical (MAD = 0), the
    mean absolute deviation stands in (scaled by 0.7979 to estimate σ likewise).
    """
    data = np.asarray(baseline, dtype=float)
    if data.size == 0:
        return 0.0
    median = float(np.median(data))
    mad = float(np.median(np.abs(data - median)))
    if mad > 0:
        return _MAD_SCALE * (value - median) / mad
    mean_ad = float(np.mean(np.abs(data - median)))
    if mean_ad > 0:
        return (value - median) / (1.253314 * mean_ad)
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


Series = Sequence[float] | np.ndarray


def lagged_correlation(a: Series, b: Series, max_lag: int) -> tuple[float, int]:
    """The strongest Pearson correlation of b shifted by -max_lag…max_lag, and that lag.

    A positive lag means b follows a by that many steps. 0.0 when either series is constant.
    """
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    best, best_lag = 0.0, 0
    for lag in range(-max_lag, max_lag + 1):
        left, right = (xa[:xa.size - lag], xb[lag:]) if lag >= 0 else (xa[-lag:], xb[:xb.size + lag])
        if left.size < 3 or left.std() == 0 or right.std() == 0:
            continue
        r = float(np.corrcoef(left, right)[0, 1])
        if r > best + 1e-9 or (abs(r - best) <= 1e-9 and abs(lag) < abs(best_lag)):
            best, best_lag = r, lag
    return best, best_lag
