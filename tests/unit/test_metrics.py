"""history/metrics.py: the Nagios perfdata grammar and BAMON_METRIC lines."""

from __future__ import annotations

import pytest

from bamon.history.metrics import Metric, parse_item, parse_metric_line, parse_metrics, parse_perfdata, range_limit


def test_check_disk_line() -> None:
    metrics, problems = parse_perfdata(["DISK OK - free space: / 3326 MB (56% inode=83%);| /=2643MB;5948;6691;0;7435"])
    assert problems == []
    assert metrics == [Metric("/", 2643.0, "MB", "5948", "6691", 0.0, 7435.0)]


def test_check_load_line_with_several_items_and_trailing_semicolons() -> None:
    metrics, problems = parse_perfdata(
        ["OK - load average: 0.10, 0.05, 0.01|load1=0.100;1.000;2.000;0; load5=0.050;1.000;2.000;0; load15=0.010;;;0;"])
    assert problems == []
    assert [(m.label, m.value, m.warn, m.crit, m.min, m.max) for m in metrics] == [
        ("load1", 0.1, "1.000", "2.000", 0.0, None), ("load5", 0.05, "1.000", "2.000", 0.0, None),
        ("load15", 0.01, "", "", 0.0, None)]


@pytest.mark.parametrize(("item", "label"), [
    ("'disk usage'=50%", "disk usage"),
    ("'it''s'=1", "it's"),
    ("'a=b'=2c", "a=b"),
    ("'/var/lib'=3KB;;;;", "/var/lib"),
])
def test_quoted_labels(item: str, label: str) -> None:
    assert parse_item(item).label == label


@pytest.mark.parametrize(("item", "value", "unit"), [
    ("t=0.5s", 0.5, "s"), ("t=12ms", 12.0, "ms"), ("t=3us", 3.0, "us"), ("p=99.5%", 99.5, "%"),
    ("b=10B", 10.0, "B"), ("b=1.5GB", 1.5, "GB"), ("b=2TB", 2.0, "TB"), ("c=1234c", 1234.0, "c"),
    ("n=-3", -3.0, ""), ("x=U", None, ""), ("x=1e3", 1000.0, ""),
])
def test_units_and_values(item: str, value: float | None, unit: str) -> None:
    metric = parse_item(item)
    assert (metric.value, metric.unit) == (value, unit)


def test_empty_fields_and_ranges() -> None:
    metric = parse_item("rta=2.5ms;@10:20;~:50;;")
    assert (metric.warn, metric.crit, metric.min, metric.max) == ("@10:20", "~:50", None, None)


def test_multi_line_output() -> None:
    lines = ["DISK OK | /=10MB;;;0;100", "long text line 2", "line 3 | /var=20MB;80;90", "/home=30MB", "'x y'=1"]
    metrics, problems = parse_perfdata(lines)
    assert problems == []
    assert [m.label for m in metrics] == ["/", "/var", "/home", "x y"]


def test_no_perfdata() -> None:
    assert parse_perfdata(["just text", "more"]) == ([], [])


@pytest.mark.parametrize(("item", "words"), [
    ("novalue", "not label=value"),
    ("x=abc", "not a number"),
    ("x=5parsecs", "unknown unit"),
    ("x=5;1;2;3;4;5", "more than 5 fields"),
    ("x=5;banana", "not a Nagios range"),
    ("x=5;;;zero", "not a number"),
    ("'broken=5", "badly quoted"),
])
def test_items_that_break_the_grammar_say_why(item: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_item(item)


def test_a_bad_item_does_not_lose_the_good_ones() -> None:
    metrics, problems = parse_perfdata(["OK | good=1 bad=x also=2%"])
    assert [m.label for m in metrics] == ["good", "also"]
    assert len(problems) == 1 and "bad=x" in problems[0]


def test_unclosed_quote() -> None:
    _, problems = parse_perfdata(["OK | 'never closed=1"])
    assert problems and "unclosed quote" in problems[0]


@pytest.mark.parametrize(("text", "limit"), [("90", 90.0), ("~:90", 90.0), ("10:", 10.0), ("@5:9", 9.0),
                                             ("10:20", 20.0), ("", None), ("~:", None)])
def test_range_limit(text: str, limit: float | None) -> None:
    assert range_limit(text) == limit


def test_bamon_metric_lines() -> None:
    assert parse_metric_line("BAMON_METRIC queue_depth=42") == Metric("queue_depth", 42.0, "")
    assert parse_metric_line("BAMON_METRIC latency=0.25 s") == Metric("latency", 0.25, "s")


@pytest.mark.parametrize(("line", "words"), [
    ("BAMON_METRIC queue depth=42", "has spaces"),
    ("BAMON_METRIC q=forty", "must be a number"),
    ("BAMON_METRIC q", "expected BAMON_METRIC name=value"),
    ("BAMON_METRIC q*x=1", "characters other than"),
])
def test_bad_bamon_metric_lines(line: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_metric_line(line)


def test_parse_metrics_plain_reads_only_bamon_metric_lines() -> None:
    lines = ["all good | x=1", "BAMON_METRIC rows=7 c", "BAMON_METRIC bad name=1"]
    metrics, problems = parse_metrics(lines, nagios=False)
    assert [m.label for m in metrics] == ["rows"] and len(problems) == 1
    metrics, _ = parse_metrics(lines, nagios=True)
    assert [m.label for m in metrics] == ["x", "rows"]
