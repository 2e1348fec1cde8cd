"""Silences: "do not send alerts about this check (or tag) until then", kept in one locked file.

A silenced alert is still decided and recorded (alert.decision reason=silenced), just not sent.
Expired silences are dropped whenever the file is touched (by `bamon silence` or a notifier),
so nothing has to run to clean them up.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from bamon.notify.state import locked_json


@dataclass(frozen=True)
class Silence:
    id: str
    until: float  # UNIX time
    created: float
    check: str = ""  # exactly one of check / tag
    tag: str = ""
    reason: str = ""
    by: str = ""

    def covers(self, check: str, tags: Iterable[str], now: float) -> bool:
        return now < self.until and (self.check == check if self.check else self.tag in tags)

    @property
    def target(self) -> str:
        return self.check or f"tag:{self.tag}"


def _live(data: list[dict[str, object]], now: float) -> list[Silence]:
    silences = []
    for item in data if isinstance(data, list) else []:
        try:
            silence = Silence(**item)  # type: ignore[arg-type]
        except TypeError:
            continue  # written by a newer bamon or by hand: skip it rather than fail alerting
        if silence.until > now:
            silences.append(silence)
    return silences


def _update(path: Path, change: list[Silence] | None = None, remove: str = "") -> list[Silence]:
    now = time.time()
    with locked_json(path, []) as holder:
        silences = [s for s in _live(holder["data"], now) if s.id != remove] + (change or [])
        holder["data"] = [asdict(s) for s in silences]
    return silences


def active(path: Path) -> list[Silence]:
    """The silences in force now (expired ones are removed from the file on the way)."""
    return _update(path)


def add(path: Path, *, check: str = "", tag: str = "", seconds: int, reason: str = "", by: str = "") -> Silence:
    now = time.time()
    silence = Silence(id=secrets.token_hex(4), until=now + seconds, created=now, check=check, tag=tag,
                      reason=reason, by=by)
    _update(path, [silence])
    return silence


def remove(path: Path, silence_id: str) -> bool:
    """Remove one silence; False when there was none with that id."""
    before = {s.id for s in active(path)}
    return silence_id in before and silence_id not in {s.id for s in _update(path, remove=silence_id)}


def matching(silences: Iterable[Silence], check: str, tags: Iterable[str], now: float | None = None) -> Silence | None:
    moment = time.time() if now is None else now
    tag_set = set(tags)
    return next((s for s in silences if s.covers(check, tag_set, moment)), None)
