"""Past runs of a check, complete: record, status, output, CPU, peak memory and metrics.

One journalctl query per check reads everything, as journald stored it:
  * the check's own lines (SYSLOG_IDENTIFIER=bamon-NAME): its output and run-check's record
    line, which ends each run's output (or the notifier's record for runs systemd ended);
  * systemd's own "Consumed … CPU time" entry for each invocation of the unit (MESSAGE_ID
    below), with CPU_USAGE_NSEC and, from systemd 255 on, MEMORY_PEAK.
No private copy of history: retention is journald's, and `daemon.history_retention_days`
only bounds how far back bamon looks (bamon never deletes journal entries; they are shared).

This is a library for the CLI, the notifier and the web API: plain data in, plain data out.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bamon.history.metrics import Metric, parse_metrics
from bamon.history.records import REASONS, RECORD_PREFIX, RunRecord, parse_record
from bamon.journal import Journal

# systemd's "unit resources" message (systemd/src/systemd/sd-messages.h: SD_MESSAGE_UNIT_RESOURCES)
RESOURCES_ID = "ae8f7b866b0347b9af31fe1c80b127c0"
# Nagios plugin exit codes; bamon's status words (CRITICAL is bamon's FAILED)
NAGIOS_STATUS = {0: "OK", 1: "WARNING", 2: "FAILED", 3: "UNKNOWN"}
STATUSES = ("OK", "WARNING", "FAILED", "UNKNOWN", "SKIPPED")
OUTPUT_LINES = 50
EPOCH = date(1970, 1, 1)


def status_of(record: RunRecord, output_format: str = "plain") -> str:
    """OK | WARNING | FAILED | UNKNOWN | SKIPPED for one run.

    Plain checks: exit 0 is OK, anything else FAILED. Nagios checks (`output_format: nagios`):
    exit 0/1/2/3 = OK/WARNING/CRITICAL(FAILED)/UNKNOWN. A run systemd ended itself (timeout,
    memory, signal) is FAILED either way.
    """
    if record.ok:
        return "OK"
    if record.skipped:
        return "SKIPPED"  # recovery: a dependency failing, the circuit open, the host overloaded…
    if output_format == "nagios" and record.result == "exit-code" and record.exit_status is not None:
        return NAGIOS_STATUS.get(record.exit_status, "UNKNOWN")
    return "FAILED"


@dataclass(frozen=True, slots=True)  # slots: built faster (43,200 for a 1-minute check over 30 days)
class Run:
    record: RunRecord
    status: str
    output: tuple[str, ...]
    cpu_s: float | None  # systemd's "Consumed" record, else run-check's `times`; None if neither
    memory_peak: int | None  # bytes; systemd >= 255 logs it
    metrics: tuple[Metric, ...] = ()
    problems: tuple[str, ...] = ()  # output that breaks the perfdata / BAMON_METRIC grammar

    @property
    def reason(self) -> str:
        if self.record.skipped:
            from bamon.recovery import skips

            return skips.describe(self.record.skip) if self.record.skip else "skipped"
        if self.record.result == "exit-code":
            return "" if self.record.ok else f"exit code {self.record.exit_status}"
        return REASONS.get(self.record.result, self.record.result)

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "invocationId": r.invocation, "start": iso_us(r.start_us), "end": iso_us(r.end_us),
            "duration": round(r.duration, 3), "status": self.status, "result": r.result,
            "exitCode": r.exit_status, "signal": r.signal or None, "reason": self.reason or None,
            "consecutiveFailures": r.consecutive_failures, "attempt": r.attempt, "attempts": r.attempts,
            "cpu": None if self.cpu_s is None else round(self.cpu_s, 4), "memoryPeak": self.memory_peak,
            "output": list(self.output), "metrics": [m.as_dict() for m in self.metrics],
            "problems": list(self.problems),
        }


def iso_us(moment_us: int) -> str:
    """"2026-11-20T10:00:00.123Z" (milliseconds, cut, not rounded): as datetime's isoformat
    writes it, from parts looked up rather than formatted (history --json writes two for each
    of 43,200 runs: 0.35 µs a time where datetime takes 4 µs and formatting the parts 1.5 µs)."""
    seconds, micros = divmod(moment_us, 1_000_000)
    days, second = divmod(seconds, 86400)
    return _date(days) + "T" + _clock(second) + _MILLIS[micros // 1000]


@functools.lru_cache(maxsize=64)
def _date(days: int) -> str:
    """The UTC date `days` after 1970-01-01."""
    return (EPOCH + timedelta(days=days)).isoformat()


@functools.lru_cache(maxsize=86400)  # one per second of a day at most
def _clock(second: int) -> str:
    """"HH:MM:SS" of the `second` of a day."""
    minutes, second = divmod(second, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}"


_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))


def _int(entry: dict[str, str], name: str) -> int | None:
    text = entry.get(name, "")
    return int(text) if text.isdigit() and text != str(2**64 - 1) else None


def assemble(entries: Iterable[dict[str, str]], check: str, output_format: str = "plain") -> list[Run]:
    """Runs from the journal entries of one check, oldest first (its lines in journal order).

    Entries are Journal.scan's: the check's own lines, and systemd's entries about its unit
    (accounting) anywhere among them. A run's output is the lines between the
    previous record and its own: run-check prints the record last on the run's own stream,
    and a unit runs once at a time. (Not by invocation id: journald leaves it out on lines of
    short runs it reads after they exited.) The last record of an invocation wins (the
    notifier corrects a run that systemd ended differently than run-check saw); a retried run
    (recovery) is one run per attempt, keyed by (invocation, attempt).
    """
    records: dict[tuple[str, int], RunRecord] = {}
    lines: dict[tuple[str, int], list[str]] = {}
    usage: dict[str, tuple[int | None, int | None]] = {}
    pending: list[str] = []
    for entry in entries:
        kind = entry.get("MESSAGE_ID")
        if kind:
            invocation = entry.get("INVOCATION_ID") or entry.get("USER_INVOCATION_ID", "")
            if kind == RESOURCES_ID:
                usage[invocation] = (_int(entry, "CPU_USAGE_NSEC"), _int(entry, "MEMORY_PEAK"))
            continue
        message = entry.get("MESSAGE", "")
        record = parse_record(check, message) if message.startswith(RECORD_PREFIX) else None
        if record is None:
            pending.append(message)
            continue
        key = (record.invocation, record.attempt)
        records[key] = record
        if pending or key not in lines:  # a correction has no lines of its own
            lines[key], pending = pending, []
    nagios, neither = output_format == "nagios", (None, None)
    runs: list[Run] = []
    for key, record in sorted(records.items(), key=_started):
        output = lines.get(key, [])[-OUTPUT_LINES:]
        # systemd's accounting (the unit's whole cgroup, all attempts) where it logged it, on the
        # last attempt; else run-check's
        cpu, memory = usage.get(record.invocation, neither) if record.attempt >= record.attempts else neither
        if cpu is None and record.cpu_us is not None:
            cpu = record.cpu_us * 1000
        metrics, problems = parse_metrics(output, nagios) if output else ([], [])
        runs.append(Run(record, status_of(record, output_format), tuple(output),
                        None if cpu is None else cpu / 1e9, memory, tuple(metrics), tuple(problems)))
    return runs


def _started(item: tuple[tuple[str, int], RunRecord]) -> int:
    return item[1].start_us


_LINE_FIELDS = ("MESSAGE",)
_EVENT_FIELDS = ("MESSAGE_ID", "UNIT", "USER_UNIT", "INVOCATION_ID", "USER_INVOCATION_ID", "CPU_USAGE_NSEC",
                 "MEMORY_PEAK")


def read_many(journal: Journal, formats: Mapping[str, str], *, since_us: int | None = None,
              until_us: int | None = None) -> dict[str, list[Run]]:
    """{check: every run that started in [since, until], oldest first}.

    `formats` maps each check name to its output_format (plain or nagios). Read are systemd's
    entries about their units (few; several fields each) and each check's own lines (the
    message alone).
    """
    if not formats:
        return {}
    # a run's record and accounting come a moment after it ends
    window = {"since_us": since_us, "until_us": None if until_us is None else until_us + 60_000_000}
    unit_field = "USER_UNIT" if journal.user_mode else "UNIT"
    by_check: dict[str, list[dict[str, str]]] = {name: [] for name in formats}
    # by message id alone, the unit picked here: on systemd 252 a realtime seek with two ANDed
    # fields can find nothing where the entries are there
    events = journal.scan_each("MESSAGE_ID", [RESOURCES_ID], _EVENT_FIELDS, **window)
    for event in events[RESOURCES_ID]:
        name = event.get(unit_field, "").removeprefix("bamon-").removesuffix(".service")
        if name in by_check:
            by_check[name].append(event)
    lines = journal.scan_each("SYSLOG_IDENTIFIER", [f"bamon-{name}" for name in formats], _LINE_FIELDS,
                              **window)
    for name in formats:
        by_check[name] += lines[f"bamon-{name}"]
    result = {}
    for name, own in by_check.items():
        runs = assemble(own, name, formats[name])
        result[name] = [r for r in runs if (since_us is None or r.record.start_us >= since_us)
                        and (until_us is None or r.record.start_us <= until_us)]
    return result


def read(journal: Journal, check: str, *, output_format: str = "plain", since_us: int | None = None,
         until_us: int | None = None) -> list[Run]:
    """Every run of `check` that started in [since, until], oldest first."""
    return read_many(journal, {check: output_format}, since_us=since_us, until_us=until_us)[check]


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """For a command that builds and prints many runs: no cyclic garbage collection meanwhile.

    Runs, their records and the tuples, lists and dicts made of them hold no reference cycles:
    reference counting frees them all, and the cyclic collector would only walk the growing
    heap again and again (a 1-minute check over 30 days: a quarter of the time assembling the
    runs, a third writing them as JSON). Not for the web service: the switch is process-wide.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def select(runs: list[Run], status: str | None = None, limit: int | None = None) -> list[Run]:
    """Newest first, only `status` (OK, WARNING, FAILED, UNKNOWN) when given, at most `limit`."""
    chosen = [r for r in reversed(runs) if status is None or r.status == status]
    return chosen[:limit] if limit else chosen
