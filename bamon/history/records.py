"""Run records: what one run of a check did, read back from where the run wrote it.

Each run leaves (a) `last` in its unit's state directory — one line, so `bamon status` for
1,000 checks is 1,000 small reads instead of 1,000 journal queries — and (b) one journald entry
with MESSAGE_ID=RUN_RECORD_ID and BAMON_* fields, the history. bamon/units/run-check writes
both on normal exits; bamon/notify/record.py writes both for runs systemd ended itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bamon.journal import RUN_RECORD_ID, Journal, field

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
}


@dataclass(frozen=True)
class RunRecord:
    check: str
    invocation: str
    result: str  # systemd's Result=: success, exit-code, timeout, oom-kill, signal, core-dump…
    exit_status: int | None  # the command's exit status; None when killed by a signal
    start_us: int  # µs since the epoch
    end_us: int
    consecutive_failures: int
    signal: str = ""  # e.g. TERM, KILL when the run was killed

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
                f"{self.consecutive_failures}\n")


def parse_state_line(check: str, text: str) -> RunRecord | None:
    """The `last` file: "invocation result exit_status start_us end_us failures"."""
    parts = text.split()
    if len(parts) < 6:
        return None
    try:
        status = int(parts[2])
        return RunRecord(check, parts[0], parts[1], None if status < 0 else status,
                         int(parts[3]), int(parts[4]), int(parts[5]))
    except ValueError:
        return None


def read_state(check: str, path: Path | None) -> RunRecord | None:
    if path is None:
        return None
    for _ in range(2):  # run-check truncates then writes: an empty read is retried once
        try:
            record = parse_state_line(check, path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None
        if record is not None:
            return record
    return None


def from_entry(entry: dict[str, Any]) -> RunRecord | None:
    """A run record from its journald entry (None for anything else)."""
    try:
        status_text = field(entry, "BAMON_EXIT_STATUS")
        code = field(entry, "BAMON_EXIT_CODE", "exited")
        return RunRecord(
            check=field(entry, "BAMON_CHECK"),
            invocation=field(entry, "BAMON_INVOCATION_ID"),
            result=field(entry, "BAMON_RESULT"),
            exit_status=int(status_text) if code == "exited" and status_text.lstrip("-").isdigit() else None,
            start_us=int(field(entry, "BAMON_START_USEC", "0")),
            end_us=int(field(entry, "BAMON_END_USEC", "0")),
            consecutive_failures=int(field(entry, "BAMON_CONSECUTIVE_FAILURES", "0")),
            signal="" if code == "exited" else status_text,
        )
    except ValueError:
        return None


def journal_fields(record: RunRecord) -> dict[str, object]:
    """The BAMON_* fields of a run record, as run-check writes them."""
    return {
        "MESSAGE_ID": RUN_RECORD_ID,
        "PRIORITY": 6 if record.ok else 3,
        "SYSLOG_IDENTIFIER": f"bamon-{record.check}",
        "BAMON_CHECK": record.check,
        "BAMON_INVOCATION_ID": record.invocation,
        "BAMON_RESULT": record.result,
        "BAMON_EXIT_CODE": "exited" if record.exit_status is not None else "killed",
        "BAMON_EXIT_STATUS": record.exit_status if record.exit_status is not None else record.signal,
        "BAMON_START_USEC": record.start_us,
        "BAMON_END_USEC": record.end_us,
        "BAMON_DURATION_USEC": record.end_us - record.start_us,
        "BAMON_CONSECUTIVE_FAILURES": record.consecutive_failures,
    }


def history(journal: Journal, check: str, limit: int | None = None) -> list[RunRecord]:
    """Run records of one check, newest first, one per invocation (a correction wins)."""
    entries = journal.entries([f"MESSAGE_ID={RUN_RECORD_ID}", f"BAMON_CHECK={check}"],
                              lines=None if limit is None else limit * 2, reverse=True)
    seen: dict[str, RunRecord] = {}
    for entry in entries:
        record = from_entry(entry)
        if record and record.invocation not in seen:
            seen[record.invocation] = record
    ordered = sorted(seen.values(), key=lambda r: r.start_us, reverse=True)
    return ordered[:limit] if limit is not None else ordered


def outputs(journal: Journal, records: list[RunRecord], max_lines: int = 50) -> dict[str, list[str]]:
    """The output lines of the given runs: {invocation id: lines}.

    One journal query finds them all by systemd's invocation id. journald attaches that id
    by looking at the sending process; for units of a user manager it sometimes cannot, so
    runs left without lines are looked up once more by the check's syslog identifier (set by
    the unit, always present) within the run's own time window.
    """
    if not records:
        return {}
    matches = [f"_SYSTEMD_INVOCATION_ID={r.invocation}" for r in records] + ["_TRANSPORT=stdout"]
    lines: dict[str, list[str]] = {}
    for entry in journal.entries(matches, fields=("MESSAGE", "_SYSTEMD_INVOCATION_ID")):
        lines.setdefault(field(entry, "_SYSTEMD_INVOCATION_ID"), []).append(field(entry, "MESSAGE"))
    for record in records:
        if record.invocation not in lines and journal.user_mode:
            window = journal.entries([f"SYSLOG_IDENTIFIER=bamon-{record.check}", "_TRANSPORT=stdout"],
                                     since=f"@{record.start_us / 1e6:.6f}", until=f"@{record.end_us / 1e6 + 0.5:.6f}",
                                     fields=("MESSAGE",))
            lines[record.invocation] = [field(e, "MESSAGE") for e in window]
    return {k: v[-max_lines:] for k, v in lines.items()}

