"""Run records: what one run of a check did, read back from where the run wrote it.

Each run leaves (a) `last` in its unit's state directory — one line, so `bamon status` for
1,000 checks is 1,000 small reads instead of 1,000 journal queries — and (b) one journald entry,
the history: "bamon-run key=value …" (logfmt) under the check's syslog identifier bamon-NAME.
bamon/units/run-check prints it on its own stderr stream for normal exits (bash builtins only:
no extra process on the success path); bamon/notify/record.py sends the same line for runs
systemd ended itself.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bamon.journal import Journal, field

RECORD_PREFIX = "bamon-run "
# A `last` file is one line of eight short fields (RunRecord.state_line): far below this.
STATE_LINE_MAX = 4096
_RECORD = re.compile(
    r"bamon-run result=(?P<result>\S+) exit_code=(?P<exit_code>\S+) exit_status=(?P<exit_status>\S+) "
    r"start_usec=(?P<start_usec>\d+) end_usec=(?P<end_usec>\d+) duration_usec=-?\d+ "
    r"consecutive_failures=(?P<consecutive_failures>\d+) "
    r"(?:attempt=(?P<attempt>\d+) attempts=(?P<attempts>\d+) skip=(?P<skip>\S+) )?invocation=(?P<invocation>\S+)"
    r"(?: cpu_usec=(?P<cpu_usec>\d*))?$")

# systemd Result= values and what the status table says about them
REASONS = {
    "success": "",
    "exit-code": "exit code",
    "timeout": "timeout",
    "oom-kill": "killed by the OOM killer (limit max_virtual_memory)",
    "memory": "out of memory (limit max_virtual_memory)",
    "signal": "killed by a signal",
    "core-dump": "crashed (core dump)",
    "watchdog": "watchdog timeout",
    "resources": "could not be started (resources)",
    "exec-condition": "skipped by condition",
    "start-limit-hit": "started too often",
    "skipped": "skipped",
}


# slots: a slotted frozen dataclass is built in ~60 % of the time of a plain frozen one (history
# of a 1-minute check over 30 days builds 43,200 of these)
@dataclass(frozen=True, slots=True)
class RunRecord:
    check: str
    invocation: str
    result: str  # systemd's Result=: success, exit-code, timeout, oom-kill, signal, core-dump…
    exit_status: int | None  # the command's exit status; None when killed by a signal
    start_us: int  # µs since the epoch
    end_us: int
    consecutive_failures: int
    signal: str = ""  # e.g. TERM, KILL when the run was killed
    cpu_us: int | None = None  # run-check's `times` figure; None for runs systemd ended
    # recovery (bamon/recovery/): which attempt of how many; why a skipped run did not run
    attempt: int = 1
    attempts: int = 1
    skip: str = ""  # dependency:NAME, condition, circuit-open:UNTIL_US, load:L/MAX, concurrency:N

    @property
    def skipped(self) -> bool:
        return self.result == "skipped"

    @property
    def ok(self) -> bool:
        return self.result == "success"

    @property
    def duration(self) -> float:
        return max(self.end_us - self.start_us, 0) / 1e6

    @property
    def started(self) -> datetime:
        return datetime.fromtimestamp(self.start_us / 1e6, tz=UTC)

    @property
    def ended(self) -> datetime:
        return datetime.fromtimestamp(self.end_us / 1e6, tz=UTC)

    def state_line(self) -> str:
        status = self.exit_status if self.exit_status is not None else -1
        return (f"{self.invocation} {self.result} {status} {self.start_us} {self.end_us} "
                f"{self.consecutive_failures} {self.attempt} {self.skip or '-'}\n")


def parse_state_line(check: str, text: str) -> RunRecord | None:
    """The `last` file: "invocation result exit_status start_us end_us failures [attempt skip]".

    Its first line only: run-check rewrites a line of the same length in place (no truncation)."""
    parts = text.split("\n", 1)[0].split()
    if len(parts) < 6:
        return None
    try:
        status = int(parts[2])
        return RunRecord(check, parts[0], parts[1], None if status < 0 else status,
                         int(parts[3]), int(parts[4]), int(parts[5]),
                         attempt=int(parts[6]) if len(parts) > 6 else 1,
                         skip=parts[7] if len(parts) > 7 and parts[7] != "-" else "")
    except ValueError:
        return None


def read_state(check: str, path: Path | str | None) -> RunRecord | None:
    """The check's `last` record; None when it never ran (or the file is unreadable)."""
    if path is None:
        return None
    for _ in range(2):  # run-check truncates then writes: an empty read is retried once
        try:
            record = parse_state_line(check, _read_small(path))
        except OSError:
            return None
        if record is not None:
            return record
    return None


def _read_small(path: Path | str) -> str:
    """A file of one short line, read with one read(2): open()'s buffered text layer cost twice
    as much as the read itself (/metrics and `bamon status` read 1,000 of these)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, STATE_LINE_MAX).decode("utf-8", "replace")
    finally:
        os.close(fd)


def read_states(checks: list[str], bases: tuple[Path, ...]) -> dict[str, RunRecord | None]:
    """`last` records of many checks: plain opens, no stat() first (1,000 in ~15 ms)."""
    found: dict[str, RunRecord | None] = {}
    for check in checks:
        found[check] = None
        for base in bases:
            found[check] = read_state(check, f"{base}/{check}/last")
            if found[check] is not None:
                break
    return found


def parse_record(check: str, message: str) -> RunRecord | None:
    """A run record from its journal message "bamon-run result=… …" (None for other lines)."""
    if not message.startswith(RECORD_PREFIX):
        return None
    # the fixed order run-check and record_message() write: one match and its groups, no dict
    # (history of a 1-minute check over 30 days parses 43,200 of these)
    match = _RECORD.match(message)
    if match is None:
        return _parse_fields(check, dict(
            part.split("=", 1) for part in message[len(RECORD_PREFIX):].split() if "=" in part))
    result, exit_code, status, start, end, failures, attempt, attempts, skip, invocation, cpu = match.groups()
    exited = exit_code == "exited"
    try:
        return RunRecord(check, invocation, result, int(status) if exited else None, int(start), int(end),
                         int(failures), "" if exited else status, int(cpu) if cpu else None,
                         int(attempt or "1"), int(attempts or "1"), "" if (skip or "-") == "-" else skip)
    except ValueError:
        return None


def _parse_fields(check: str, values: dict[str, str]) -> RunRecord | None:
    """A record whose fields are not in run-check's order (key=value in any order, some missing)."""
    try:
        exited = values.get("exit_code", "exited") == "exited"
        return RunRecord(
            check=check,
            invocation=values["invocation"],
            result=values["result"],
            exit_status=int(values["exit_status"]) if exited else None,
            start_us=int(values["start_usec"]),
            end_us=int(values["end_usec"]),
            consecutive_failures=int(values.get("consecutive_failures", "0")),
            signal="" if exited else values.get("exit_status", ""),
            cpu_us=int(values["cpu_usec"]) if (values.get("cpu_usec") or "").isdigit() else None,
            attempt=int(values.get("attempt") or "1"), attempts=int(values.get("attempts") or "1"),
            skip="" if (values.get("skip") or "-") == "-" else values["skip"],
        )
    except (KeyError, ValueError):
        return None


def from_entry(entry: dict[str, Any]) -> RunRecord | None:
    """A run record from a journald entry of a check (None for its other output)."""
    identifier = field(entry, "SYSLOG_IDENTIFIER")
    check = identifier.removeprefix("bamon-") if identifier.startswith("bamon-") else ""
    return parse_record(check, field(entry, "MESSAGE"))


def record_message(record: RunRecord) -> str:
    """The journal line of a run record, exactly as run-check prints it (without "<N>")."""
    exited = record.exit_status is not None
    return (f"{RECORD_PREFIX}result={record.result} exit_code={'exited' if exited else 'killed'} "
            f"exit_status={record.exit_status if exited else record.signal} start_usec={record.start_us} "
            f"end_usec={record.end_us} duration_usec={record.end_us - record.start_us} "
            f"consecutive_failures={record.consecutive_failures} attempt={record.attempt} "
            f"attempts={record.attempts} skip={record.skip or '-'} invocation={record.invocation}")


def journal_fields(record: RunRecord) -> dict[str, object]:
    """Fields that file a record sent from Python beside run-check's (same identifier)."""
    return {
        "PRIORITY": 6 if record.ok else 3,
        "SYSLOG_IDENTIFIER": f"bamon-{record.check}",
        "BAMON_CHECK": record.check,
    }


def history(journal: Journal, check: str, limit: int | None = None) -> list[RunRecord]:
    """Run records of one check, newest first, one per attempt of each invocation (a correction wins).

    Records only (the notifier's error rate); bamon.history.runs.read gives whole runs.
    """
    entries = journal.entries([f"SYSLOG_IDENTIFIER=bamon-{check}"], grep=f"^{RECORD_PREFIX}",
                              lines=None if limit is None else limit * 2, reverse=True,
                              fields=("MESSAGE", "SYSLOG_IDENTIFIER"))
    seen: dict[tuple[str, int], RunRecord] = {}
    for entry in entries:
        record = from_entry(entry)
        if record and (record.invocation, record.attempt) not in seen:
            seen[(record.invocation, record.attempt)] = record
    ordered = sorted(seen.values(), key=lambda r: r.start_us, reverse=True)
    return ordered[:limit] if limit is not None else ordered


# Results only run-check writes: its record line ends the run's own output stream.
RUN_CHECK_RESULTS = ("success", "exit-code")
# How long a reader waits for journald to store a finished run's last lines (seen: < 0.2 s),
# and for how long after a run ended that lag is possible at all: an older run without its
# record line lost it otherwise (rate limit, vacuum) and waiting would not bring it back.
OUTPUT_WAIT_S = 3.0
LAG_WINDOW_S = 30.0


def _run_lines(record: RunRecord, messages: list[str]) -> tuple[list[str], bool]:
    """The run's own lines among its check's lines from its start on, and whether they are all.

    run-check prints its record line last, on the stream that carries the command's output,
    and journald stores a stream's lines in order: once the record line is there, so is every
    line before it. Lines before another run's record line were that run's.
    """
    lines: list[str] = []
    mine = f"invocation={record.invocation}"
    attempt = f" attempt={record.attempt} "  # a retried run prints one record per attempt
    for message in messages:
        if message.startswith(RECORD_PREFIX):
            if (f"{mine} " in message or message.endswith(mine)) and (attempt in message or " attempt=" not in message):
                return lines, True
            lines = []
            continue
        lines.append(message)
    # Runs systemd ended itself have no such line (the notifier records them, after waiting
    # for their output); runs that ended long ago have what the journal holds of them.
    return lines, record.result not in RUN_CHECK_RESULTS or record.end_us / 1e6 < time.time() - LAG_WINDOW_S


def _read_lines(journal: Journal, records: list[RunRecord]) -> dict[str, tuple[list[str], bool]]:
    """{invocation id: (the run's output lines, complete?)}.

    Found by the check's syslog identifier (set by the unit, always there) from the run's
    start on, not by invocation id: journald attaches that only while the run's processes
    are alive, and lines of short runs it reads after they exited lack it (seen on systemd
    252: then `status` right after `now` showed no output, 1 time in 15).
    """
    # one match only: on systemd 252, a realtime seek with two ANDed fields found nothing
    # where the entries were there (journal files written by systemd-journal-remote)
    queries = [([f"SYSLOG_IDENTIFIER=bamon-{r.check}"], r.start_us,
                r.end_us + int((LAG_WINDOW_S if r.result in RUN_CHECK_RESULTS else 1) * 1e6)) for r in records]
    return {r.invocation: _run_lines(r, messages)
            for r, messages in zip(records, journal.messages(queries), strict=True)}


def outputs_now(journal: Journal, records: list[RunRecord]) -> dict[str, tuple[list[str], bool]]:
    """{invocation id: (the run's output lines, complete?)} as the journal holds them now, without
    waiting for lines journald has not stored yet: for a reader that will ask again soon."""
    return _read_lines(journal, records)


def outputs(journal: Journal, records: list[RunRecord], max_lines: int = 50,
            wait: float = OUTPUT_WAIT_S) -> dict[str, list[str]]:
    """The output lines of the given runs: {invocation id: lines}, never cut short by lag.

    The `last` file is written before journald has stored the run's last lines (status right
    after `bamon now` showed no output 1 time in 15): runs whose output is not complete yet
    are asked for again, for at most `wait` seconds.
    """
    found = _read_lines(journal, records)
    deadline, pause = time.monotonic() + wait, 0.02
    pending = [r for r in records if not found[r.invocation][1]]
    while pending and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
        found.update(_read_lines(journal, pending))
        pending = [r for r in pending if not found[r.invocation][1]]
    return {k: lines[-max_lines:] for k, (lines, _) in found.items() if lines}
