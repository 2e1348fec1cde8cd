"""history/stats.py, analytics.py and fleet.py on synthetic series with known answers."""

from __future__ import annotations

import math

import pytest

from bamon.history import spark
from bamon.history.analytics import (
    check_report,
    duration_anomaly,
    flapping,
    repair_times,
    rule_values,
    success_rates,
)
from bamon.history.fleet import correlations, forecast, forecasts
from bamon.history.metrics import Metric
from bamon.history.records import RunRecord
from bamon.history.runs import Run
from bamon.history.stats import binomial_excess, lagged_phi, line_fit, modified_z, percentiles, theil_sen

DAY = 86400.0
T0 = 1_700_000_000.0


def run(at: float, duration: float = 0.1, status: str = "OK", metrics: tuple[Metric, ...] = (),
        cpu: float | None = 0.01, name: str = "c") -> Run:
    start = int(at * 1e6)
    record = RunRecord(name, f"{name}{start}", "success" if status == "OK" else "exit-code",
                       0 if status == "OK" else 2, start, start + int(duration * 1e6), 0)
    return Run(record, status, (), cpu, None, metrics)


# --- stats -----------------------------------------------------------------------------------------

def test_percentiles_known_answers() -> None:
    values = list(range(1, 101))  # 1 … 100
    assert percentiles(values) == {"p50": 50.5, "p95": pytest.approx(95.05), "p99": pytest.approx(99.01)}
    assert percentiles([]) == {}


def test_modified_z() -> None:
    baseline = [1.0, 2.0, 3.0, 4.0, 5.0]  # median 3, MAD 1
    assert modified_z(baseline, 3.0) == 0
    assert modified_z(baseline, 8.0) == pytest.approx(0.6745 * 5)
    # MAD 0 (most values equal): the mean absolute deviation stands in
    assert modified_z([1.0, 1.0, 1.0, 1.0, 5.0], 5.0) == pytest.approx(4 / (1.253314 * 0.8))
    assert modified_z([2.0, 2.0], 2.0) == 0 and modified_z([2.0, 2.0], 3.0) == math.inf


def test_line_fit_exact_line_has_zero_error() -> None:
    fit = line_fit([0, 1, 2, 3, 4], [1, 3, 5, 7, 9])
    assert fit is not None
    assert (fit.slope, fit.intercept, fit.slope_se) == (pytest.approx(2), pytest.approx(1), pytest.approx(0))
    assert line_fit([1, 1, 1], [1, 2, 3]) is None and line_fit([1, 2], [1, 2]) is None


def test_line_fit_standard_error_known_answer() -> None:
    # y = x with residuals +1, -1, -1, +1: SSE 4, n-2 = 2 → σ² = 2; Sxx = 5 → SE = sqrt(2/5)
    fit = line_fit([0, 1, 2, 3], [1, 0, 1, 4])
    assert fit is not None
    assert fit.slope == pytest.approx(1.0) and fit.slope_se == pytest.approx(math.sqrt(2 / 5))


def test_theil_sen_ignores_a_wild_point() -> None:
    xs = list(range(10))
    ys = [2.0 * x for x in xs]
    ys[5] = 1000.0
    assert theil_sen(xs, ys) == pytest.approx(2.0)
    assert theil_sen([1], [1]) is None


def test_binomial_excess() -> None:
    assert binomial_excess(10, 100, 0.1) == 0
    assert binomial_excess(19, 100, 0.1) == pytest.approx(3.0)


def test_lagged_phi_finds_the_lag() -> None:
    a = [0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0]
    b = [0, 0] + a[:-2]  # b repeats a two steps later
    on = [{i for i, v in enumerate(x) if v} for x in (a, b)]
    r, lag, both = lagged_phi(on[0], on[1], len(a), 3)
    assert (lag, both) == (2, 5) and r == pytest.approx(1.0)
    assert lagged_phi(on[0], set(), len(a), 3) == (0.0, 0, 0)


def test_lagged_phi_is_pearson_on_known_series() -> None:
    # n = 8, a on at {0,1,2,3}, b on at {0,1,4,5}: both 2 → (8·2 − 4·4)/√(4·4·4·4) = 0
    assert lagged_phi({0, 1, 2, 3}, {0, 1, 4, 5}, 8, 0)[0] == 0
    # b on at {0,1,2}: (8·3 − 4·3)/√(4·4·3·5) = 12/√240
    assert lagged_phi({0, 1, 2, 3}, {0, 1, 2}, 8, 0)[0] == pytest.approx(12 / math.sqrt(240))


# --- per-check analytics ---------------------------------------------------------------------------

def test_duration_anomaly_flags_a_slow_run_only() -> None:
    steady = [0.10 + 0.01 * (i % 5) for i in range(50)]
    assert duration_anomaly(steady) is None
    anomaly = duration_anomaly(steady + [2.0])
    assert anomaly is not None and anomaly.median == pytest.approx(0.12) and anomaly.z > 3.5
    assert "usually takes 0.12 s" in anomaly.explain()
    assert duration_anomaly(steady[:5] + [2.0]) is None  # too little history to judge
    # statistically an outlier, but 3 ms → 6 ms is nothing anyone needs to hear about
    assert duration_anomaly([0.003] * 30 + [0.006]) is None


def test_flapping_known_answers() -> None:
    assert flapping(["OK"] * 21) == flapping(["OK"] * 21)
    assert flapping(["OK"] * 21).flapping is False and flapping(["OK"] * 21).changes == 0
    alternating = ["OK", "FAILED"] * 11
    result = flapping(alternating)
    assert result.changes == 20 and result.percent == 1.0 and result.flapping
    # one change at the newest step: weight 1.2 of a total 20 → 6 %
    one = flapping(["OK"] * 20 + ["FAILED"])
    assert one.changes == 1 and one.percent == pytest.approx(0.06) and not one.flapping


def test_rule_values_for_alert_conditions() -> None:
    steady = [run(T0 + 60 * i, 0.1 + 0.01 * (i % 3)) for i in range(30)]
    assert rule_values(steady) == {"duration_anomaly": False, "flapping": False, "state_changes": 0,
                                   "flap_percent": 0.0}
    values = rule_values(steady + [run(T0 + 3600, 3.0, "FAILED")])
    assert values["duration_anomaly"] is True and values["state_changes"] == 1 and values["flapping"] is False
    flappy = [run(T0 + 60 * i, status="FAILED" if i % 2 else "OK") for i in range(30)]
    assert rule_values(flappy)["flapping"] is True


def test_repair_times() -> None:
    statuses = ["OK", "FAILED", "FAILED", "OK", "OK", "FAILED", "OK"]
    runs = [run(T0 + 60 * i, status=s) for i, s in enumerate(statuses)]
    # down 60→180 (120 s), up 180→300 (120 s), down 300→360 (60 s)
    assert repair_times(runs) == {"failureEpisodes": 2, "mttr": 90.0, "mtbf": 120.0}


def test_success_rates_per_day() -> None:
    runs = [run(T0 + i * 3600, status="FAILED" if i % 4 == 0 else "OK") for i in range(48)]
    days = success_rates(runs, "day")
    assert sum(d["runs"] for d in days) == 48
    assert all(0 < d["successRate"] < 1 for d in days)


def test_report_explains_a_slowdown_in_plain_words() -> None:
    now = T0 + 7 * DAY
    runs = [run(T0 + i * 600, 0.4 + 0.01 * (i % 3)) for i in range(int(6 * DAY / 600))]
    runs += [run(T0 + 6 * DAY + i * 600, 2.1) for i in range(1, 140)]
    report = check_report("c", runs, now)
    change = report["duration"]["change"]
    assert change is not None and change["from"] == pytest.approx(0.42) and change["to"] == pytest.approx(2.1)
    assert change["text"].startswith("p95 rose from 0.42 s to 2.1 s since ")
    assert report["successRate"] == 1.0 and report["durationAnomaly"] is None  # 2.1 s is now the norm


def test_report_flags_a_failure_rate_jump() -> None:
    now = T0 + 7 * DAY
    runs = [run(T0 + i * 600, status="FAILED" if i % 50 == 0 else "OK") for i in range(int(6 * DAY / 600))]
    runs += [run(T0 + 6 * DAY + i * 600, status="FAILED" if i % 2 else "OK") for i in range(1, 140)]
    found = check_report("c", runs, now)["failureRateAnomaly"]
    assert found is not None and found["before"] == pytest.approx(0.02, abs=0.005) and found["z"] > 3


# --- across checks -----------------------------------------------------------------------------------

def test_correlation_of_checks_failing_together() -> None:
    down = {3, 4, 10, 11, 12, 20, 30, 31}
    a = [run(T0 + 60 * i, status="FAILED" if i in down else "OK", name="a") for i in range(40)]
    b = [run(T0 + 60 * i + 20, status="FAILED" if i in down else "OK", name="b") for i in range(40)]
    lone = [run(T0 + 60 * i, status="FAILED" if i in {1, 17, 25, 38} else "OK", name="x") for i in range(40)]
    found = correlations({"a": a, "b": b, "x": lone})
    assert [f["checks"] for f in found] == [["a", "b"]]
    assert found[0]["correlation"] > 0.8 and found[0]["lagSeconds"] == 0 and found[0]["sharedFailures"] >= 3
    assert "a and b fail together" in found[0]["text"]


def test_forecast_arithmetic() -> None:
    # 50 MB used, growing 1 MB a day; critical at 90 MB of 100: 40 days from the first sample
    samples = [(T0 + d * DAY, Metric("/", 50.0 + d, "MB", "80", "90", 0, 100)) for d in range(10)]
    result = forecast("/", samples, now=T0 + 9 * DAY)
    assert result is not None
    assert result["threshold"] == 90 and result["thresholdKind"] == "critical"
    assert result["days"] == pytest.approx(31.0)  # 59 MB at day 9, 31 MB to go at 1 MB/day
    assert result["earliestDays"] == pytest.approx(31.0) and result["latestDays"] == pytest.approx(31.0)
    assert result["text"] == ("/ crosses its critical threshold 90MB (90% of 100MB) in about 31.0 days "
                              "(95 % band: 31.0–31.0 days)")


def test_forecast_band_widens_with_noise_and_declining_metrics_never_cross() -> None:
    noisy = [(T0 + d * DAY, Metric("load", 1.0 + 0.1 * d + (0.3 if d % 2 else -0.3), "", "", "5")) for d in range(12)]
    result = forecast("load", noisy, now=T0 + 11 * DAY)
    assert result is not None and result["earliestDays"] < result["days"] < (result["latestDays"] or math.inf)
    falling = [(T0 + d * DAY, Metric("/", 90.0 - d, "%", "", "95")) for d in range(10)]
    result = forecast("/", falling, now=T0 + 9 * DAY)
    assert result is not None and result["days"] is None and "not heading" in result["text"]
    assert forecast("/", falling[:3], now=T0) is None  # too few points
    assert forecast("x", [(T0 + d, Metric("x", d)) for d in range(10)], now=T0) is None  # no threshold


def test_forecasts_from_runs() -> None:
    runs = [run(T0 + d * DAY, metrics=(Metric("/", 50.0 + d, "MB", "", "90"),)) for d in range(6)]
    assert [f["check"] for f in forecasts("disk", runs, T0 + 5 * DAY)] == ["disk"]


def test_sparklines() -> None:
    assert spark.durations([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert spark.durations([2, 2]) == "▁▁" and spark.durations([]) == ""
    assert spark.outcomes(["OK", "FAILED", "WARNING"]) == "▁█▅"
