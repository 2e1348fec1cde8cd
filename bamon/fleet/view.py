"""One row per host × check from Prometheus' answers: state, last run, failure reason, staleness.

Pure apart from the queries it asks through source.Prometheus. The current state comes from
instant queries; the last known values from last_over_time over `fleet.lookback`, so a host
that stopped reporting keeps its rows — marked STALE, never shown as it last looked.

A host (a scrape target: job + instance) is STALE when
- Prometheus no longer has an `up` sample for it (removed from the targets),
- its `up` is 0 (the scrape fails: host down, bamon's endpoint gone),
- its last scrape is older than twice its scrape interval (the interval is derived from how
  many `up` samples the last 5 minutes hold: over-estimated for a target younger than that,
  which only makes this test more lenient; the tests above still catch a silent host), or
- bamon's metrics on it were generated longer ago than `fleet.stale_after` (a textfile that
  bamon.metrics.timer stopped rewriting, behind a node_exporter that still answers).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bamon.config.model import Fleet as Settings
from bamon.config.timespec import format_span
from bamon.errors import BamonError
from bamon.fleet import source
from bamon.fleet.source import Answer, Fetch, Prometheus, Sample
from bamon.history.records import REASONS

VERSION = 1  # of the JSON document (docs/fleet-status.schema.json)
UP_WINDOW_S = 300  # the `up` samples counted to derive a target's scrape interval

# what each answer is, by key; {lookback} is fleet.lookback in seconds
QUERIES = {
    "status": "bamon_check_status",
    "exit": "bamon_check_exit_status",
    "checks": "last_over_time(bamon_check_enabled[{lookback}s])",
    "up": "last_over_time(bamon_check_up[{lookback}s])",
    "last_run": "last_over_time(bamon_check_last_run_timestamp_seconds[{lookback}s])",
    "failures": "last_over_time(bamon_check_consecutive_failures[{lookback}s])",
    "generated": "last_over_time(bamon_metrics_generated_timestamp_seconds[{lookback}s])",
    "target_up": "up",
    "scraped": "timestamp(up)",
    "scrapes": f"count_over_time(up[{UP_WINDOW_S}s])",
}

# failures first: what needs someone, then what is not known to be fine, then the rest
ORDER = ("FAILED", "STALE", "WARNING", "UNKNOWN", "RUNNING", "SKIPPED", "OK", "DISABLED")
FAILED_WORDS = frozenset({"FAILED", "WARNING"})  # the status words of a last run that failed

Target = tuple[str, str]  # (job, instance): what Prometheus scrapes, and what `up` is about


@dataclass(frozen=True)
class Host:
    target: Target
    name: str  # the host label's value (fleet.host_label; instance by default)
    stale: str | None  # why it is stale; None while it reports
    last_scrape: float | None
    interval: float | None  # seconds between scrapes, derived from `up`
    labels: Mapping[str, str]  # the target's labels (from `up`), for links and filters


@dataclass(frozen=True)
class Row:
    host: Host
    check: str
    status: str  # one of ORDER
    known: str  # the last status the host reported (the same as status unless STALE)
    last_run: float | None  # UNIX seconds
    exit_code: int | None
    failure_reason: str | None  # systemd's Result= word of a failed last run
    consecutive_failures: int

    @property
    def failing(self) -> bool:
        """FAILED or WARNING, or caught RUNNING after a failed run: a scrape that falls inside a
        run must not hide a failing check (its status series then says RUNNING, its reason the
        last run's failure)."""
        return self.status in FAILED_WORDS or (self.status == "RUNNING" and bool(self.failure_reason))

    @property
    def reason(self) -> str:
        """Why this row needs attention, in words: the staleness, or how the last run failed."""
        failed = _failure_text(self.failure_reason, self.exit_code)
        if self.status == "STALE":
            return f"{self.host.stale}; last known {self.known}" + (f" ({failed})" if failed else "")
        return failed


def _failure_text(result: str | None, exit_code: int | None) -> str:
    if not result:
        return ""
    if result == "exit-code" and exit_code is not None:
        return f"exit code {exit_code}"
    return REASONS.get(result, result)


def gather(prometheus: Prometheus, lookback: int) -> dict[str, Answer]:
    """Ask every query; {key: answer}."""
    return {key: prometheus.query(expr.format(lookback=lookback)) for key, expr in QUERIES.items()}


def _target(labels: Mapping[str, str]) -> Target:
    return labels.get("job", ""), labels.get("instance", "")


def _by_target(samples: Iterable[Sample]) -> dict[Target, Sample]:
    return {_target(s.labels): s for s in samples}


def _by_check(samples: Iterable[Sample]) -> dict[tuple[Target, str], Sample]:
    return {(_target(s.labels), s.labels.get("check", "")): s for s in samples if s.labels.get("check")}


# the per-target answers the staleness rules read
_TARGET_KEYS = ("target_up", "scraped", "scrapes", "generated")


def _staleness(found: Mapping[str, Sample | None], now: float, stale_after: int) -> \
        tuple[str | None, float | None, float | None]:
    """(why the target is stale or None, its last scrape, its scrape interval), from its
    samples of _TARGET_KEYS (None where it has none)."""
    up, scraped, count, generated = (found[key] for key in _TARGET_KEYS)
    interval = UP_WINDOW_S / (count.value - 1) if count and count.value > 1 else None
    last = scraped.value if scraped else None
    if up is None or last is None:
        return "no longer scraped (not among Prometheus' targets)", last, interval
    if up.value == 0:
        return "scrape failing (up == 0): host down or bamon's endpoint gone", last, interval
    if interval and now - last > 2 * interval:
        return (f"last scraped {format_span(now - last)} ago, over twice its {format_span(interval)} "
                "scrape interval"), last, interval
    if generated is None or now - generated.value > stale_after:
        age = "never" if generated is None else f"{format_span(now - generated.value)} ago"
        return f"bamon's metrics were generated {age} (fleet.stale_after {format_span(stale_after)})", \
            last, interval
    return None, last, interval


def hosts(answers: Mapping[str, Answer], host_label: str, now: float, stale_after: int) -> dict[Target, Host]:
    """Every target that has bamon's series within the lookback, with its staleness."""
    index = {key: _by_target(answers[key].samples) for key in _TARGET_KEYS}  # once: 10,000 targets
    targets = {_target(s.labels): s.labels for key in ("checks", "generated", "status")
               for s in answers[key].samples}
    found = {}
    for target, labels in targets.items():
        stale, last, interval = _staleness({key: index[key].get(target) for key in _TARGET_KEYS}, now, stale_after)
        up = index["target_up"].get(target)
        own = up.labels if up is not None else labels
        name = own.get(host_label) or labels.get(host_label) or target[1]
        found[target] = Host(target, name, stale, last, interval, dict(own))
    return found


def rows(answers: Mapping[str, Answer], host_label: str = "instance", stale_after: int = 180,
         now: float | None = None) -> list[Row]:
    """Every host × check, failures first (then by host and check)."""
    now = now if now is not None else _now(answers)
    known_hosts = hosts(answers, host_label, now, stale_after)
    status = _by_check(answers["status"].samples)
    values = {key: _by_check(answers[key].samples) for key in ("exit", "up", "last_run", "failures")}
    keys = set(_by_check(answers["checks"].samples)) | set(status)
    result = []
    for target, check in keys:
        host = known_hosts[target]
        word = status.get((target, check))
        up = values["up"].get((target, check))
        known = word.labels.get("status", "UNKNOWN") if word else \
            ("UNKNOWN" if up is None else "OK" if up.value == 1 else "FAILED")
        exit_code = values["exit"].get((target, check))
        reason = (word.labels.get("reason") or None) if word else None
        if word is None and exit_code is not None and known == "FAILED":
            reason = "exit-code"  # a bamon without bamon_check_status: the run ended with an exit status
        last_run = values["last_run"].get((target, check))
        failures = values["failures"].get((target, check))
        result.append(Row(host, check, "STALE" if host.stale else known, known,
                          last_run.value if last_run else None,
                          int(exit_code.value) if exit_code else None,
                          reason if known in FAILED_WORDS or known == "RUNNING" else None,
                          int(failures.value) if failures else 0))
    return sorted(result, key=sort_key)


def sort_key(row: Row) -> tuple[int, str, str]:
    word = "WARNING" if row.status == "RUNNING" and row.failing else row.status  # with the failures
    return ORDER.index(word) if word in ORDER else len(ORDER), row.host.name, row.check


def _now(answers: Mapping[str, Answer]) -> float:
    """Prometheus' clock: ages are measured against the server's time, not this machine's."""
    times = [a.time for a in answers.values() if a.samples]
    return max(times) if times else datetime.now(UTC).timestamp()


def failing(found: list[Row]) -> list[Row]:
    """What --failed-only shows: the failing rows and the stale ones."""
    return [r for r in found if r.failing or r.status == "STALE"]


def _iso(unix: float | None) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def document(found: list[Row], url: str, now: float) -> dict[str, Any]:
    """The `bamon fleet status --json` document and /api/v1/fleet (docs/fleet-status.schema.json)."""
    every = {r.host.target: r.host for r in found}
    counts = Counter(r.host.target for r in found)
    return {
        "version": VERSION,
        "prometheus": url,
        "time": _iso(now),
        "hosts": [{"host": h.name, "job": h.target[0], "instance": h.target[1], "stale": h.stale is not None,
                   "staleReason": h.stale, "lastScrape": _iso(h.last_scrape),
                   "scrapeInterval": round(h.interval, 3) if h.interval else None,
                   "checks": counts[t]}
                  for t, h in sorted(every.items(), key=lambda item: item[1].name)],
        "rows": [{"host": r.host.name, "instance": r.host.target[1], "job": r.host.target[0], "check": r.check,
                  "status": r.status, "lastStatus": r.known, "lastRun": _iso(r.last_run), "exitCode": r.exit_code,
                  "failureReason": r.failure_reason, "reason": r.reason or None,
                  "consecutiveFailures": r.consecutive_failures, "failing": r.failing,
                  "stale": r.host.stale is not None}
                 for r in found],
    }


@dataclass(frozen=True)
class Fleet:
    """What one look at the fleet found: the rows and the moment (Prometheus' clock)."""

    rows: list[Row]
    now: float
    url: str

    def document(self, failed_only: bool = False) -> dict[str, Any]:
        return document(failing(self.rows) if failed_only else self.rows, self.url, self.now)


def look(settings: Settings, url: str | None = None, fetch: Fetch | None = None) -> Fleet:
    """Ask the Prometheus of `settings` (or `url`), build the rows: what the CLI and the web API call."""
    base = url or settings.prometheus_url
    if not base:
        raise BamonError("no Prometheus to read the fleet from: fleet.prometheus_url is not set",
                         'set fleet: {prometheus_url: "http://prometheus.example.com:9090"} in config.yaml, '
                         "or pass --prometheus URL", code="not_configured")
    if not base.startswith(("http://", "https://")):
        raise BamonError(f"--prometheus {base!r} is not an http(s):// URL",
                         "for example: --prometheus http://prometheus.example.com:9090")
    answers = gather(Prometheus(base, fetch or source.http_fetch), settings.lookback)
    now = _now(answers)
    return Fleet(rows(answers, settings.host_label, settings.stale_after, now), now, base.rstrip("/"))
