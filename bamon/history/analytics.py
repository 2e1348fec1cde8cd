"""Answers from run history: rates, repair times, durations, anomalies, flapping.

The API other parts of bamon call (the alert rule evaluator, the web API, the CLI):

    duration_anomaly(durations)  -> Anomaly | None   the last duration against the ones before
    flapping(statuses)           -> Flapping         Nagios-style weighted state change
    rule_values(runs)            -> dict             the two above as alert-rule condition values
    check_report(runs, …)        -> dict             everything about one check, JSON-ready

`durations` and `statuses` are oldest first (as runs.read returns runs); statuses are the
words OK/WARNING/FAILED/UNKNOWN. All methods are explained in docs/analytics.md.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from bamon.history.runs import Run
from bamon.history.stats import OUTLIER_Z, binomial_excess, modified_z, percentiles, robust_scale, theil_sen

BASELINE_RUNS = 100  # the runs before the one judged
MIN_BASELINE = 10  # fewer runs than this say too little to call anything unusual
# a slower run is only an anomaly when it is also slower by this much (s) and this factor:
# a 3 ms check taking 6 ms is an outlier to statistics and news to nobody
MIN_EXCESS_S = 0.1
MIN_FACTOR = 1.5
FLAP_RUNS = 21  # Nagios looks at the last 21 states
FLAP_HIGH = 0.30  # Nagios's default high flap threshold (30 % weighted state change)
DAY = 86400.0
MIN_TREND_SPAN = 2 * DAY


@dataclass(frozen=True)
class Anomaly:
    value: float
    median: float
    z: float

    def explain(self) -> str:
        return (f"took {self.value:.3g} s where it usually takes {self.median:.3g} s "
                f"({self.z:.1f} robust standard deviations slower)")


def duration_anomaly(durations: Sequence[float], baseline_runs: int = BASELINE_RUNS) -> Anomaly | None:
    """Is the last duration anomalously slow compared with up to `baseline_runs` before it?"""
    if len(durations) < MIN_BASELINE + 1:
        return None
    value, baseline = durations[-1], list(durations[-baseline_runs - 1:-1])
    median = percentiles(baseline, (50,))["p50"]
    z = modified_z(baseline, value)
    if z > OUTLIER_Z and value - median > MIN_EXCESS_S and value > median * MIN_FACTOR:
        return Anomaly(value, median, round(z, 2))
    return None


@dataclass(frozen=True)
class Flapping:
    changes: int  # state changes among the last FLAP_RUNS runs
    percent: float  # weighted: recent changes count more (0.8 … 1.2), as Nagios does
    flapping: bool


def flapping(statuses: Sequence[str], runs: int = FLAP_RUNS, threshold: float = FLAP_HIGH) -> Flapping:
    """Is the check changing state too often to be trusted (Nagios's flap detection)?"""
    last = list(statuses[-runs:])
    if len(last) < 3:
        return Flapping(0, 0.0, False)
    steps = len(last) - 1
    weights = [0.8 + 0.4 * i / max(steps - 1, 1) for i in range(steps)]
    changed = [a != b for a, b in itertools.pairwise(last)]
    percent = sum(w for w, c in zip(weights, changed, strict=True) if c) / sum(weights)
    return Flapping(sum(changed), round(percent, 3), percent > threshold)


BUCKETS = {"minute": (60, "%Y-%m-%dT%H:%MZ"), "hour": (3600, "%Y-%m-%dT%H:00Z"), "day": (86400, "%Y-%m-%d")}


def success_rates(runs: Sequence[Run], size: str = "day") -> list[dict[str, Any]]:
    """Share of OK runs per minute, hour or day (UTC), oldest first; buckets without runs are left out."""
    seconds, label = BUCKETS[size]
    counts: dict[int, list[int]] = {}
    for run in runs:  # integer buckets: formatting a date per run costs more than all the rest
        slot = counts.setdefault(run.record.start_us // (seconds * 1_000_000), [0, 0])
        slot[0] += run.status == "OK"
        slot[1] += 1
    return [{"start": datetime.fromtimestamp(k * seconds, tz=UTC).strftime(label), "runs": n,
             "successRate": round(ok / n, 4)} for k, (ok, n) in counts.items()]


def repair_times(runs: Sequence[Run]) -> dict[str, float | int | None]:
    """MTTR (first failing run → next OK run) and MTBF (OK again → next failure), in seconds.

    Only whole periods count: uptime before the first failure and a failure still going on at
    the end of the window started or ended outside it.
    """
    repairs, gaps = [], []
    down_since: float | None = None
    up_since: float | None = None
    for run in runs:
        start = run.record.start_us / 1e6
        if run.status != "OK" and down_since is None:
            down_since = start
            if up_since is not None:
                gaps.append(start - up_since)
        elif run.status == "OK" and down_since is not None:
            repairs.append(start - down_since)
            down_since, up_since = None, start
        # uptime before the first failure seen began before the window: not a whole period
    return {"failureEpisodes": len(repairs) + (down_since is not None),
            "mttr": round(sum(repairs) / len(repairs), 1) if repairs else None,
            "mtbf": round(sum(gaps) / len(gaps), 1) if gaps else None}


def rule_values(runs: Sequence[Run]) -> dict[str, bool | int | float]:
    """Names an alert rule condition can use, for the newest run (runs oldest first):
    `duration_anomaly` and `flapping` (true/false), `state_changes` and `flap_percent`."""
    flap = flapping([r.status for r in runs])
    return {"duration_anomaly": duration_anomaly([r.record.duration for r in runs]) is not None,
            "flapping": flap.flapping, "state_changes": flap.changes, "flap_percent": flap.percent}


def _weekday(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%A %H:%M UTC")


def duration_trend(runs: Sequence[Run], now: float) -> dict[str, Any]:
    """p50/p95/p99 overall, their change in the recent window, and the trend per day."""
    durations = [r.record.duration for r in runs]
    result: dict[str, Any] = {**{k: round(v, 4) for k, v in percentiles(durations).items()}, "change": None}
    starts = [r.record.start_us / 1e6 for r in runs]
    # a slope per day from a few hours would be an extrapolation, not a trend
    slope = theil_sen(starts, durations) if starts and starts[-1] - starts[0] >= MIN_TREND_SPAN else None
    result["trendPerDay"] = None if slope is None else round(slope * DAY, 4)
    if len(runs) < 2 * MIN_BASELINE:
        return result
    span = starts[-1] - starts[0]
    cut = now - max(min(DAY, span / 2), span / 7)  # the last day, or a seventh of a long span
    before = [d for s, d in zip(starts, durations, strict=True) if s < cut]
    after = [(s, d) for s, d in zip(starts, durations, strict=True) if s >= cut]
    if len(before) < MIN_BASELINE or len(after) < 3:
        return result
    old, new = percentiles(before)["p95"], percentiles([d for _, d in after])["p95"]
    median, scale = robust_scale(before)
    slow = [s for s, d in after if d - median > max(MIN_EXCESS_S, OUTLIER_Z * scale)]
    if new > old * MIN_FACTOR and new - old > MIN_EXCESS_S and slow:
        result["change"] = {"from": round(old, 4), "to": round(new, 4), "since": slow[0],
                            "text": f"p95 rose from {old:.2g} s to {new:.2g} s since {_weekday(slow[0])}"}
    return result


def failure_rate_anomaly(runs: Sequence[Run], now: float) -> dict[str, Any] | None:
    """Does the last day (or seventh of the span) fail far more often than the time before?"""
    if len(runs) < 2 * MIN_BASELINE:
        return None
    span = now - runs[0].record.start_us / 1e6
    cut = now - max(min(DAY, span / 2), span / 7)
    before = [r for r in runs if r.record.start_us / 1e6 < cut]
    after = [r for r in runs if r.record.start_us / 1e6 >= cut]
    if len(before) < MIN_BASELINE or not after:
        return None
    base_failed = sum(r.status != "OK" for r in before)
    failed = sum(r.status != "OK" for r in after)
    rate = (base_failed + 1) / (len(before) + 2)  # Laplace: a clean past is not a 0 % certainty
    z = binomial_excess(failed, len(after), rate)
    if z <= 3 or failed < 3:
        return None
    return {"z": round(z, 2), "before": round(base_failed / len(before), 4), "after": round(failed / len(after), 4),
            "text": f"failure rate rose from {base_failed / len(before):.0%} to {failed / len(after):.0%} "
                    f"in the recent window ({z:.1f} standard deviations above the usual)"}


def check_report(name: str, runs: Sequence[Run], now: float | None = None) -> dict[str, Any]:
    """Everything analytics says about one check, as plain data (runs oldest first)."""
    now = time.time() if now is None else now
    statuses = [r.status for r in runs]
    rates = success_rates(runs, "day")
    starts = [r.record.start_us / 1e6 for r in runs]
    # the trend of the daily rates (per-run 0/1 values have no useful median slope)
    days = [datetime.fromisoformat(d["start"]).timestamp() / DAY for d in rates]
    rate_slope = theil_sen(days, [d["successRate"] for d in rates]) if len(rates) >= 2 else None
    cpu = [r.cpu_s for r in runs if r.cpu_s is not None]
    anomaly = duration_anomaly([r.record.duration for r in runs])
    return {
        "name": name,
        "runs": len(runs),
        "successRate": round(statuses.count("OK") / len(runs), 4) if runs else None,
        "successRateTrendPerDay": None if rate_slope is None else round(rate_slope * DAY, 4),
        "daily": rates,
        "hourly": success_rates(runs, "hour")[-48:],
        **repair_times(runs),
        "duration": duration_trend(runs, now),
        "durationAnomaly": None if anomaly is None else {**asdict(anomaly), "text": anomaly.explain()},
        "failureRateAnomaly": failure_rate_anomaly(runs, now),
        "flapping": asdict(flapping(statuses)),
        "cpuPerRun": round(sum(cpu) / len(cpu), 4) if cpu else None,
        "cpuPerDay": round(sum(cpu) / max((now - starts[0]) / DAY, 1 / 24), 2) if cpu and starts else None,
    }
