"""Why a run was skipped, in words: run-check writes a short token (no spaces, so the record
stays key=value), readers turn it into the sentence an operator reads.

    dependency:database_check  → "dependency database_check failing"
    circuit-open:1764249900000000 → "circuit open until 14:05"
    load:1.93/1.60             → "load 1.93 above 1.60 (performance.load_threshold × CPUs)"
"""

from __future__ import annotations

from collections.abc import Callable

from bamon.recovery import breaker


def _until(value: str) -> str:
    return breaker.describe(breaker.Circuit(breaker.State.OPEN, int(value))) if value.isdigit() else "circuit open"


def _load(value: str) -> str:
    load, _, limit = value.partition("/")
    shown = f"{int(limit) / 100:.2f}" if limit.isdigit() else limit
    return f"load {load} above {shown} (performance.load_threshold × CPUs)"


_WORDS: dict[str, Callable[[str], str]] = {
    "dependency": lambda name: f"dependency {name} failing",
    "condition": lambda _: "condition not met",
    "circuit-open": _until,
    "load": _load,
    "concurrency": lambda n: f"{n} checks already running (daemon.max_concurrent)",
}


def describe(token: str) -> str:
    kind, _, value = token.partition(":")
    words = _WORDS.get(kind)
    return words(value) if words else token
