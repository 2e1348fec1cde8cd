"""Persisted alert state: one small JSON file per check under the state directory.

What the notifier must remember between its short lives (and across reboots): whether a
failure episode is open, when it began, and per rule what was sent when. Several notifiers can
run at once for one check (a failure and an escalation timer firing together), so every
read-modify-write holds an exclusive fcntl lock on a lock file beside the state, and the new
state replaces the old by rename (a crash leaves the old or the new file, never half of one).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bamon.atomic import atomic_write


@contextmanager
def locked_json(path: Path, default: Any) -> Iterator[dict[str, Any]]:
    """Hold `path`'s lock; yield its data (or `default`); write it back if it changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = default  # never written, or unreadable: start over rather than stop alerting
        before = json.dumps(data, sort_keys=True)
        holder = {"data": data}
        yield holder
        if json.dumps(holder["data"], sort_keys=True) != before:
            # durable: after a power cut the state must not forget what was sent (no re-alerting)
            atomic_write(path, json.dumps(holder["data"], sort_keys=True, indent=1) + "\n", durable=True)
            os.chmod(path, 0o600)


@dataclass
class RuleState:
    """What one rule did for one check."""

    sent_at: float = 0.0  # when it last sent a failure alert (any episode): cooldown
    episode: str = ""  # the episode (dedup key) it alerted about: state change only
    step: int = 0  # escalation step reached in that episode
    channels: list[str] = field(default_factory=list)  # who was told: they hear "recovered"
    severity: str = ""


@dataclass
class CheckState:
    """The alert state of one check."""

    episode: str = ""  # dedup key of the open failure episode; "" when the check is fine
    started: float = 0.0
    failures: int = 0
    rules: dict[str, RuleState] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckState:
        rules = {name: RuleState(**value) for name, value in (data.get("rules") or {}).items()}
        return cls(episode=data.get("episode", ""), started=data.get("started", 0.0),
                   failures=data.get("failures", 0), rules=rules)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def check_state(state_dir: Path, check: str) -> Iterator[CheckState]:
    """The check's alert state, locked for the duration of the block and saved after it."""
    with locked_json(state_dir / f"{check}.json", {}) as holder:
        state = CheckState.from_json(holder["data"])
        yield state
        holder["data"] = state.to_json()
