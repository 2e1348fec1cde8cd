"""Run records: what one run of a check did, read back from where the run wrote it.

Each run leaves (a) `last` in its unit's state directory — one line, so `bamon status` for
1,000 checks is 1,000 small reads instead of 1,000 journal queries — and (b) one journald entry,
the history: "bamon-run key=value …" (logfmt) under the check's syslog identifier bamon-NAME.
bamon/units/run-check prints it on its own stderr stream for normal exits (bash builtins only:
no extra process on the success path); bamon/notify/record.py sends the same line for runs
systemd ended itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bamon.journal import Journal, field

RECORD_PREFIX = "bamon-run "

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
    """The `last` file: "invocation result exit_status start_us end_us failures [attempt skip]"."""
    parts = text.split()
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
            with open(path, encoding="utf-8", errors="replace") as handle:
                record = parse_state_line(check, handle.read())
        except OSError:
            return None
        if record is not None:
            return record
    return None


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
    values = dict(part.split("=", 1) for part in message[len(RECORD_PREFIX):].split() if "=" in part)
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
            attempt=int(values.get("attempt", "1")), attempts=int(values.get("attempts", "1")),
            skip="" if values.get("skip", "-") == "-" else values["skip"],
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
    """Run records of one check, newest first, one per attempt of each invocation (a correction wins)."""
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


def outputs(journal: Journal, records: list[RunRecord], max_lines: int = 50) -> dict[str, list[str]]:
    """The output lines of the given runs: {invocation id: lines}.

    System mode finds them by systemd's invocation id, which journald attaches to each line.
    For units of a user manager journald often cannot (seen on systemd 252: lines of short
    runs lack _SYSTEMD_USER_UNIT and the invocation id), so user mode looks them up by the
    check's syslog identifier — set by the unit, always present — within the run's own time.
    """
    if journal.user_mode:
        lines = {r.invocation: [field(e, "MESSAGE") for e in journal.entries(
            [f"SYSLOG_IDENTIFIER=bamon-{r.check}", "_TRANSPORT=stdout"], since=f"@{r.start_us / 1e6:.6f}",
            until=f"@{r.end_us / 1e6 + 0.5:.6f}", fields=("MESSAGE",))] for r in records}
    else:
        lines = journal.lines_of_runs([r.invocation for r in records]) if records else {}
    # the record line itself is not part of what the command printed
    return {k: [line for line in v if not line.startswith(RECORD_PREFIX)][-max_lines:] for k, v in lines.items()}
