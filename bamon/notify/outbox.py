"""The outbox: alerts a channel could not take yet, one JSON file per (alert, channel).

New items land in outbox/new, which bamon.outbox.path watches (DirectoryNotEmpty=); the drain
moves them to outbox/wait, so the path unit does not fire again for items that are only waiting
for their backoff. bamon.outbox.timer is re-armed by the drain while anything waits. Files are
written atomically (temporary name, rename); one drain at a time (flock on a lock file beside
the directory, never inside: that would keep it non-empty).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bamon.atomic import atomic_write
from bamon.notify.alert import Alert, Delivery

FIRST_RETRY = 15.0  # seconds; doubled per failed attempt
MAX_BACKOFF = 3600.0
EXPIRY = 24 * 3600.0  # an alert older than this is given up (and that is recorded)


@dataclass(frozen=True)
class Item:
    alert: dict[str, Any]  # Alert.to_json()
    channel: str
    attempts: int
    first: float  # when it was spooled
    due: float  # not retried before this UNIX time
    detail: str  # the last answer

    @property
    def id(self) -> str:
        return f"{self.alert['id']}.{self.channel}"

    def to_alert(self) -> Alert:
        return Alert.from_json(self.alert)


def backoff(attempts: int, retry_after: float | None) -> float:
    step = min(MAX_BACKOFF, FIRST_RETRY * 2 ** max(0, attempts - 1))
    return float(max(step, retry_after or 0.0))


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.new = directory / "new"
        self.wait = directory / "wait"
        self.broken = directory / "broken"  # unreadable items, moved aside
        self.lock_file = directory.parent / "outbox.lock"

    def spool(self, alert: Alert, delivery: Delivery, now: float | None = None) -> Item:
        now = time.time() if now is None else now
        item = Item(alert.to_json(), delivery.channel, delivery.attempts, now,
                    now + backoff(1, delivery.retry_after), delivery.detail)
        self._write(self.new, item)
        return item

    def _write(self, directory: Path, item: Item) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        # 0600: an alert carries the tail of the check's output
        atomic_write(directory / f"{item.id}.json", json.dumps(asdict(item)), durable=True, mode=0o600)

    def items(self) -> list[tuple[Path, Item]]:
        """Everything waiting (new and wait), oldest first; unreadable files are skipped."""
        found = []
        for directory in (self.new, self.wait):
            for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
                try:
                    found.append((path, Item(**json.loads(path.read_text(encoding="utf-8")))))
                except OSError:
                    continue  # gone meanwhile, or not ours to read (`bamon alerts` as a user)
                except (ValueError, TypeError):
                    self._quarantine(path)
        return sorted(found, key=lambda pair: pair[1].first)

    def _quarantine(self, path: Path) -> None:
        # Out of new/ (the path unit would fire for it forever), kept for a human to look at.
        with contextlib.suppress(OSError):  # a reader without write access just skips it
            self.broken.mkdir(exist_ok=True)
            path.rename(self.broken / path.name)

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def reschedule(self, path: Path, item: Item, delivery: Delivery, now: float) -> Item:
        attempts = item.attempts + delivery.attempts
        later = Item(item.alert, item.channel, attempts, item.first,
                     now + backoff(attempts, delivery.retry_after), delivery.detail)
        self._write(self.wait, later)
        if path.parent != self.wait:
            path.unlink(missing_ok=True)
        return later

    def settle(self, path: Path) -> None:
        """The item is done with (delivered, permanent, expired)."""
        path.unlink(missing_ok=True)

    def park(self, path: Path, item: Item) -> None:
        """Move a new item to wait/ untouched (not due yet)."""
        if path.parent != self.wait:
            self._write(self.wait, item)
            path.unlink(missing_ok=True)
