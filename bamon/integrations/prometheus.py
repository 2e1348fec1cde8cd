"""Prometheus metrics for every check, built with prometheus-client (no hand-written exposition).

One collector reads the same sources as `bamon status` (the config, one `systemctl list-units`,
each check's `last` file; no journal query for output) plus the runs/failures counters
(bamon/integrations/counters.py). Three ways out, all the same series:

- `exposition()`: the text format, for `bamon metrics` and tests;
- `write_textfile()`: the node_exporter textfile collector's file, replaced atomically by
  prometheus-client; bamon.metrics.timer runs it every minute (no resident process);
- `asgi_app()`: an ASGI application the web service mounts at /metrics.

Labels are bounded by the config: `check` on every series, severity and tags only on the
`bamon_check_info` series, metric and unit on the custom metrics (bounded per check, see
perfdata.py). Never output text, invocation ids or anything per run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import Metric

from bamon.config.model import Config
from bamon.history.status import CheckStatus, collect
from bamon.integrations import scrape
from bamon.integrations.counters import Counters, Kept, Tally, may_write
from bamon.integrations.perfdata import Held, Values, last_values
from bamon.integrations.scrape import Family
from bamon.journal import Journal
from bamon.paths import Paths
from bamon.systemd import Systemd

# Debian's prometheus-node-exporter reads *.prom files here (--collector.textfile.directory).
TEXTFILE = Path("/var/lib/prometheus/node-exporter/bamon.prom")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Gauge = Callable[[CheckStatus], float | None]  # a check's value, or None when it has none

# name → (help, value): one gauge family each, label `check`. Names are part of the contract:
# examples/grafana and examples/prometheus use them, and tests check that they exist.
GAUGES: dict[str, tuple[str, Gauge]] = {
    "bamon_check_up": (
        "1 if the last run of the check succeeded, 0 if it failed",
        lambda c: None if c.record is None else float(c.record.ok)),
    "bamon_check_enabled": ("1 if the check is enabled (has a timer)", lambda c: float(c.script.enabled)),
    "bamon_check_running": ("1 while a run of the check is in progress", lambda c: float(c.status == "RUNNING")),
    "bamon_check_exit_status": (
        "exit status of the last run (absent when it was killed by a signal)",
        lambda c: None if c.record is None or c.record.exit_status is None else float(c.record.exit_status)),
    "bamon_check_duration_seconds": (
        "how long the last run took", lambda c: None if c.record is None else c.record.duration),
    "bamon_check_consecutive_failures": (
        "failed runs in a row up to the last one",
        lambda c: 0.0 if c.record is None else float(c.record.consecutive_failures)),
    "bamon_check_last_run_timestamp_seconds": (
        "when the last run started (UNIX time)",
        lambda c: None if c.record is None else c.record.start_us / 1e6),
    "bamon_check_next_run_timestamp_seconds": (
        "when the timer fires next (UNIX time; absent for disabled checks)",
        lambda c: None if c.next_run is None else c.next_run.timestamp()),
}
COUNTERS: dict[str, tuple[str, Callable[[Tally], int]]] = {
    "bamon_check_runs": ("runs of the check recorded since counting began", lambda t: t.runs),
    "bamon_check_failures": ("failed runs of the check recorded since counting began "
                             "(FAILED or UNKNOWN; a Nagios WARNING is not one)", lambda t: t.failures),
}
INFO = "bamon_check_info"
# The status word and systemd's failure reason as labels, value 1: one series per check at a
# time (a new one when the status changes), both bounded (7 words; records.REASONS). What
# `bamon fleet status` shows for each host × check; the gauges above cannot tell WARNING,
# SKIPPED or a timeout from a failure.
STATUS = "bamon_check_status"
PERFDATA = "bamon_check_metric"
GENERATED = "bamon_metrics_generated_timestamp_seconds"
NONE_YET = Tally()  # the counts of a check with no run recorded (read only, never added to)


def metric_names() -> set[str]:
    """Every series name bamon exports (counters with their _total sample names)."""
    return {*GAUGES, INFO, STATUS, PERFDATA, GENERATED, *COUNTERS, *(f"{name}_total" for name in COUNTERS)}


@dataclass(frozen=True)
class Snapshot:
    checks: list[CheckStatus]
    counters: Counters
    generated: float
    perfdata: Values = field(default_factory=dict)  # check → [(metric, unit, value)] of its last run


def families(snapshot: Snapshot) -> list[Family]:
    """The metric families of one snapshot, in a stable order."""
    checks = snapshot.checks
    found = []
    for name, (text, value) in GAUGES.items():
        rows = ((c.script.name, value(c)) for c in checks)
        found.append(Family(name, "gauge", text, ("check",), tuple(((n,), v) for n, v in rows if v is not None)))
    found.append(Family(INFO, "gauge", "always 1; the check's severity and tags", ("check", "severity", "tags"),
                        tuple(((c.script.name, c.script.severity, ",".join(c.script.tags)), 1.0) for c in checks)))
    found.append(Family(STATUS, "gauge", "always 1; the status word of the check and why its last run failed",
                        ("check", "status", "reason"),
                        tuple(((c.script.name, c.status, c.failure_reason or ""), 1.0) for c in checks)))
    tallies = snapshot.counters.checks
    for name, (text, count) in COUNTERS.items():
        found.append(Family(name, "counter", text, ("check",), tuple(
            ((c.script.name,), float(count(tallies.get(c.script.name, NONE_YET)))) for c in checks)))
    found.append(Family(PERFDATA, "gauge", "custom metrics (Nagios perfdata, BAMON_METRIC) of the last run",
                        ("check", "metric", "unit"), tuple(
                            ((check, metric, unit), number) for check, values in snapshot.perfdata.items()
                            for metric, unit, number in values)))
    found.append(Family(GENERATED, "gauge", "when bamon built these metrics (UNIX time)", (),
                        (((), snapshot.generated),)))
    return found


class Collector:
    """A prometheus-client custom collector: a fresh snapshot on every collect()."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        return [family.metric() for family in families(self.snapshot())]

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not take a snapshot


def registry(snapshot: Callable[[], Snapshot]) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(Collector(snapshot))
    return reg


def exposition(snapshot: Snapshot) -> bytes:
    return bytes(generate_latest(registry(lambda: snapshot)))


def write_textfile(snapshot: Snapshot, path: Path = TEXTFILE) -> None:
    """Replace the textfile-collector file; prometheus-client writes a temporary file and
    renames it, so node_exporter never reads half of it."""
    write_to_textfile(str(path), registry(lambda: snapshot))


def asgi_app(snapshot: Callable[[], Snapshot]) -> Any:
    """An ASGI application answering GET with the exposition of a fresh snapshot (each family
    rendered again only when it changed: scrape.py)."""
    return scrape.asgi_app(lambda: families(snapshot()))


def counters_file(paths: Paths) -> Path:
    return paths.state_dir / "metrics" / "counters.json"


def take(config: Config, paths: Paths, systemd: Systemd | None, journal: Journal | None,
         kept: Kept | None = None, perf: Held | None = None) -> Snapshot:
    """The state of every configured check now, with its counters brought up to date.

    A reader that may not write the counters file (the web service's user, say) still gets
    them counted, just not kept on disk: it passes the same `kept` each time, whose counters
    go on from the previous call's unless the file holds newer ones, so that each scrape reads
    only the runs since the one before (without bamon.metrics.timer nobody writes the file, and
    a day of run records per scrape would cost seconds with 1,000 checks). `perf`, kept between
    calls the same way, spares reading the output of runs already read (perfdata.last_values).
    """
    checks = collect(config, paths, systemd, None)  # no journal: metrics never carry output
    counters = kept.current() if kept is not None else Counters.load(counters_file(paths))
    if journal is not None:
        counters.update(journal, formats={s.name: s.output_format for s in config.scripts})
        if may_write(counters_file(paths)):
            with contextlib.suppress(OSError):
                counters.save(counters_file(paths))
    return Snapshot(checks, counters, time.time(), last_values(checks, journal, perf) if journal is not None else {})


def _config_stamp(paths: Paths) -> tuple[tuple[str, int], ...]:
    """What changes when the config does: the files and their modification times."""
    files = [paths.config_file, *sorted(paths.scripts_dir.glob("*.yaml"))] if paths.scripts_dir.is_dir() \
        else [paths.config_file]
    return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())


def app(paths: Paths) -> Any:
    """The /metrics ASGI application for a web service serving the checks of `paths`.

    The config is loaded again only when one of its files changed (loading and validating
    1,000 checks costs as much as the rest of a scrape); the run state is read on every scrape,
    the run records only since the previous scrape, the output only of runs not read before.
    """
    from bamon.config.model import load

    cache: dict[tuple[tuple[str, int], ...], Config] = {}
    kept = Kept(counters_file(paths))  # the previous scrape's counters (the service may not write the file)
    perf: Held = {}  # the perfdata of the runs already read

    def snapshot() -> Snapshot:
        stamp = _config_stamp(paths)
        if stamp not in cache:
            cache.clear()
            cache[stamp] = load(paths.config_file, paths.scripts_dir)
        return take(cache[stamp], paths, Systemd(paths.user_mode), Journal(paths.user_mode), kept, perf)

    return asgi_app(snapshot)
