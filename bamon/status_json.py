"""The `bamon status --json` document: the one place that maps a check's state to its keys.

The original BAMON's keys and words stay (`result` is Success | Failed | Unknown; `output` and
`error` are a string, or an array of lines for multi-line text, as its format_output_for_json
made them), with sane types; bamon's own keys (`status`, `failureReason`, …) come beside them.
docs/status.schema.json describes the document; `version` changes when its shape does.
The CLI (`status`, `now`) and the web API print the same document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bamon.cli.output import iso
from bamon.history.status import CheckStatus

# 1 was the original BAMON's (strings everywhere); 2 is this one.
VERSION = 2

# bamon's status word -> the word the original printed (its table column and JSON `result`)
WORDS = {"OK": "Success", "FAILED": "Failed", "UNKNOWN": "Unknown", "WARNING": "Warning",
         "RUNNING": "Running", "SKIPPED": "Skipped", "DISABLED": "Disabled"}


def result_word(c: CheckStatus) -> str:
    """The original's `result`: how the last run ended (a running or disabled check keeps it)."""
    if c.record is None:
        return "Unknown"
    if c.record.skipped:
        return "Skipped"  # recovery: not run (a dependency failing, circuit open, …), never Failed
    return "Success" if c.record.ok else "Failed"


def text_or_lines(lines: list[str] | tuple[str, ...]) -> str | list[str] | None:
    """One line as a string, several as an array of lines, nothing as null."""
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else list(lines)


def error_text(c: CheckStatus) -> str | None:
    """Why the last run failed, with the last thing the command said."""
    if c.record is None or c.record.ok or c.record.skipped:
        return None
    last = next((line for line in reversed(c.output) if line.strip()), "")
    return c.reason_text() + (f": {last}" if last else "")


def check(c: CheckStatus) -> dict[str, Any]:
    r = c.record
    return {
        "name": c.script.name,
        "enabled": c.script.enabled,
        "lastExecution": iso(r.started) if r else None,
        "result": result_word(c),
        "exitCode": r.exit_status if r else None,
        "duration": round(r.duration, 3) if r else None,
        "timeSince": round((datetime.now(UTC) - r.ended).total_seconds(), 1) if r else None,
        "nextExecution": iso(c.next_run),
        "output": text_or_lines(c.output),
        "error": error_text(c),
        "status": c.status,
        "failureReason": c.failure_reason,
        "unit": c.script.unit,
        "invocationId": r.invocation if r else None,
        "consecutiveFailures": r.consecutive_failures if r else 0,
        # recovery (bamon/recovery/): why the last run was skipped, its attempt, the circuit breaker
        "skipReason": c.skip_reason,
        "attempt": r.attempt if r else None,
        "circuit": _circuit(c),
    }


def _circuit(c: CheckStatus) -> dict[str, Any] | None:
    """{"state": "OPEN", "until": "…Z"} for checks with a circuit breaker, else null."""
    if c.circuit is None:
        return None
    until_us = c.circuit.until_us if c.circuit.state.value == "open" else 0
    return {"state": c.circuit.state.value.upper(),
            "until": iso(datetime.fromtimestamp(until_us / 1e6, tz=UTC)) if until_us else None}


def document(checks: list[CheckStatus]) -> dict[str, Any]:
    return {"version": VERSION, "scripts": [check(c) for c in checks]}
