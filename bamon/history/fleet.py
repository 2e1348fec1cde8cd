"""Analytics across checks: failures that come together, capacity forecasts, costly checks.

Methods are explained in docs/analytics.md. Inputs are {check: runs oldest first}; outputs are
plain, JSON-ready data with a `text` sentence for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bamon.config.model import Script
from bamon.history.analytics import DAY
from bamon.history.metrics import range_limit
from bamon.history.runs import Run
from bamon.history.stats import Z95, lagged_phi, line_fit, percentiles

MIN_SHARED_FAILURES = 3  # co-failing time slots before a pair is worth a sentence
MIN_CORRELATION = 0.5
MAX_LAG_SLOTS = 3
MIN_POINTS = 5  # metric samples before a forecast


def _spacing(runs: Sequence[Run]) -> float:
    starts = np.asarray([r.record.start_us / 1e6 for r in runs])
    return float(np.median(np.diff(starts))) if starts.size > 1 else 60.0


def correlations(by_check: Mapping[str, Sequence[Run]]) -> list[dict[str, Any]]:
    """Pairs of checks whose failures come together (phi on failing time slots, with lag).

    Time is cut into slots twice the larger median run spacing of the pair, so two checks on
    different phases of the same interval still share slots; a slot is on when a run failed.
    """
    failures = {name: [r.record.start_us / 1e6 for r in runs if r.status != "OK"] for name, runs in by_check.items()}
    failing = sorted(name for name, times in failures.items() if len(times) >= MIN_SHARED_FAILURES)
    spacing = {name: _spacing(by_check[name]) for name in failing}
    span = {name: (by_check[name][0].record.start_us / 1e6, by_check[name][-1].record.start_us / 1e6)
            for name in failing}
    found = []
    for i, a in enumerate(failing):
        for b in failing[i + 1:]:
            slot = 2 * max(spacing[a], spacing[b], 1.0)
            start, end = min(span[a][0], span[b][0]), max(span[a][1], span[b][1])
            on = [{int((t - start) // slot) for t in failures[name]} for name in (a, b)]
            r, lag, shared = lagged_phi(on[0], on[1], int((end - start) // slot) + 1, MAX_LAG_SLOTS)
            if r >= MIN_CORRELATION and shared >= MIN_SHARED_FAILURES:
                lag_s = round(lag * slot, 1)
                when = "at the same time" if lag == 0 else (
                    f"{b} about {abs(lag_s):g} s after {a}" if lag > 0 else f"{a} about {abs(lag_s):g} s after {b}")
                found.append({"checks": [a, b], "correlation": round(r, 3), "lagSeconds": lag_s,
                              "sharedFailures": shared,
                              "text": f"{a} and {b} fail together (r = {r:.2f}, {when})"})
    return sorted(found, key=lambda f: -float(f["correlation"]))


def _threshold(samples: Sequence[tuple[float, Any]]) -> tuple[float | None, str]:
    """The level a metric must not cross: its critical, else warning threshold, else its max."""
    last = samples[-1][1]
    for kind, text in (("critical", last.crit), ("warning", last.warn)):
        limit = range_limit(text) if text else None
        if limit is not None:
            return limit, kind
    return (last.max, "maximum") if last.max is not None else (None, "")


def forecast(label: str, samples: Sequence[tuple[float, Any]], now: float) -> dict[str, Any] | None:
    """When will this metric reach its threshold, if its straight-line trend holds?

    Least squares over (time, value); the 95 % band comes from the slope's standard error
    (slope ± 1.96·SE): the faster and slower plausible rates give the earlier and later dates.
    """
    points = [(t, m.value) for t, m in samples if m.value is not None]
    limit, kind = _threshold(samples)
    if limit is None or len(points) < MIN_POINTS:
        return None
    fit = line_fit([t for t, _ in points], [v for _, v in points])
    if fit is None:
        return None
    level = fit.at(now)
    gap = limit - level
    unit = samples[-1][1].unit
    base = {"metric": label, "unit": unit, "threshold": limit, "thresholdKind": kind, "current": round(level, 4),
            "slopePerDay": round(fit.slope * DAY, 6)}
    if gap == 0 or fit.slope == 0 or (gap > 0) != (fit.slope > 0):
        return {**base, "days": None, "text": f"{label} is not heading for its {kind} threshold ({limit:g}{unit})"}
    days = gap / fit.slope / DAY
    fast, slow = abs(fit.slope) + Z95 * fit.slope_se, abs(fit.slope) - Z95 * fit.slope_se
    earliest = abs(gap) / fast / DAY
    latest = abs(gap) / slow / DAY if slow > 0 else math.inf
    share = samples[-1][1].max
    where = f" ({limit / share:.0%} of {share:g}{unit})" if share and kind != "maximum" else ""
    band = f"{earliest:.1f}–{latest:.1f}" if math.isfinite(latest) else f"at least {earliest:.1f}"
    return {**base, "days": round(days, 2), "earliestDays": round(earliest, 2),
            "latestDays": None if not math.isfinite(latest) else round(latest, 2),
            "text": f"{label} crosses its {kind} threshold {limit:g}{unit}{where} in about {days:.1f} days "
                    f"(95 % band: {band} days)"}


def forecasts(name: str, runs: Sequence[Run], now: float) -> list[dict[str, Any]]:
    """A forecast for each metric of the check that has a threshold."""
    series: dict[str, list[tuple[float, Any]]] = {}
    for run in runs:
        for metric in run.metrics:
            series.setdefault(metric.label, []).append((run.record.start_us / 1e6, metric))
    found = [forecast(label, samples, now) for label, samples in series.items()]
    return [{"check": name, **f} for f in found if f]


def costs(scripts: Mapping[str, Script], by_check: Mapping[str, Sequence[Run]], now: float,
          top: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The slowest checks (p95 duration) and the most expensive (CPU per day), with advice."""
    rows: list[dict[str, Any]] = []
    for name, runs in by_check.items():
        if not runs:
            continue
        durations = [r.record.duration for r in runs]
        cpu = [r.cpu_s for r in runs if r.cpu_s is not None]
        days = max((now - runs[0].record.start_us / 1e6) / DAY, 1 / 24)
        p95 = percentiles(durations, (95,))["p95"]
        per_day = sum(cpu) / days if cpu else None
        rows.append({"check": name, "p95": round(p95, 4), "cpuPerDay": None if per_day is None else round(per_day, 2),
                     "runsPerDay": round(len(runs) / days, 1),
                     "suggestions": _advice(scripts.get(name), p95, per_day, len(runs) / days)})
    slowest = sorted(rows, key=lambda r: -float(r["p95"]))[:top]
    expensive = sorted((r for r in rows if r["cpuPerDay"] is not None), key=lambda r: -float(r["cpuPerDay"]))[:top]
    return {"slowest": slowest, "mostExpensive": expensive}


def _advice(script: Script | None, p95: float, cpu_per_day: float | None, runs_per_day: float) -> list[str]:
    tips = []
    if script is not None and p95 > 0.5 * script.limits.timeout:
        tips.append(f"p95 {p95:.2g} s is over half its {script.limits.timeout} s timeout: "
                    "make it faster or raise `timeout` before runs start failing")
    if cpu_per_day is not None and cpu_per_day > 60 and script is not None and script.interval:
        slower = max(script.interval * 5, 300)
        tips.append(f"{cpu_per_day:.0f} CPU-s a day at every {script.interval} s; "
                    f"interval {slower} s would cost about {cpu_per_day * script.interval / slower:.0f}")
    if script is not None and script.limits.profile == "strict" and runs_per_day > 1440:
        tips.append("runs more than once a minute under the strict sandbox: `sandbox: minimal` "
                    "saves the mount namespace's CPU on every run")
    return tips
