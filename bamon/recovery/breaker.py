"""The circuit breaker's state machine and its file, `circuit` in the check's state directory.

    CLOSED ──N consecutive failed runs──▶ OPEN ──cooldown over──▶ HALF-OPEN ──success──▶ CLOSED
                                            ▲                         │
                                            └──────── failure ────────┘

The file is one line, "STATE UNTIL_US" (µs since the epoch), in the check's persistent state
directory: an open circuit stays open across reboots. A closed circuit is an empty file (or none),
so that every run of a check with a breaker tells "closed" by one stat, without reading ("closed
0", as earlier builds wrote, reads closed too, and run-check empties it on a success). Two
writers share it: run-check (bash builtins, every run) skips while OPEN, moves to HALF-OPEN when
the cooldown is over and to CLOSED on a success; the OnFailure= notifier (failure path only)
applies `after_failure` and opens it. This module is the reference both follow, unit-tested; keep
run-check in step.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bamon.atomic import atomic_write
from bamon.recovery.policy import Breaker


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True)
class Circuit:
    state: State = State.CLOSED
    until_us: int = 0  # OPEN: no run before this

    def line(self) -> str:
        """"open 1795…" — also the audit trail's before/after of `bamon reset`."""
        return f"{self.state.value} {self.until_us}\n"

    def file_text(self) -> str:
        return "" if self.state is State.CLOSED else self.line()

    def to_json(self) -> dict[str, object]:
        """`status --json`'s "circuit": state and, while open, until when (ISO 8601 by the caller)."""
        return {"state": self.state.value.upper(), "untilUsec": self.until_us or None}


CLOSED = Circuit()


def parse(text: str) -> Circuit:
    parts = text.split()
    try:
        return Circuit(State(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        return CLOSED


def read(path: Path) -> Circuit:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except OSError:
        return CLOSED


def write(path: Path, circuit: Circuit) -> None:
    """Atomically, and owned like the directory (the check's User= must rewrite it)."""
    atomic_write(path, circuit.file_text(), durable=True)
    owner = path.parent.stat()
    os.chown(path, owner.st_uid, owner.st_gid)


def describe(circuit: Circuit) -> str:
    """"circuit open until 14:05" (local time), "circuit half-open", "circuit closed"."""
    if circuit.state is State.OPEN:
        return "circuit open until " + datetime.fromtimestamp(circuit.until_us / 1e6).strftime("%H:%M")
    return f"circuit {circuit.state.value}"


def before_run(circuit: Circuit, now_us: int) -> tuple[Circuit, bool]:
    """(the circuit after the decision, whether to run). What run-check does before a run."""
    if circuit.state is State.OPEN and now_us < circuit.until_us:
        return circuit, False
    if circuit.state is State.OPEN:
        return Circuit(State.HALF_OPEN, 0), True  # the one trial run
    return circuit, True


def after_success(circuit: Circuit) -> Circuit:
    return CLOSED


def after_failure(circuit: Circuit, breaker: Breaker, consecutive_failures: int, now_us: int) -> Circuit:
    """A failed trial opens it again; otherwise N failed runs in a row open it. An open circuit
    stays as it is (a run started by hand while it is open does not extend the cooldown)."""
    if circuit.state is State.OPEN:
        return circuit
    if circuit.state is State.HALF_OPEN or consecutive_failures >= breaker.failures:
        return Circuit(State.OPEN, now_us + breaker.cooldown * 1_000_000)
    return circuit
