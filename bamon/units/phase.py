"""When an interval check runs: at a fixed phase of its own on the UTC grid of its interval.

Why not only `OnUnitActiveSec=`: it counts from the last start, so checks whose timers start
together (a boot long past OnBootSec=, `bamon start`, an upgrade, `bamon apply` of many checks)
run together for good — 1,000 checks every minute all fire in the same second, and with
`daemon.max_concurrent` most of them wait in the queue at every round. An interval that divides
a minute, an hour or a day evenly can run on a calendar instead: every `interval` seconds of UTC
time, offset by a phase taken from the check's name. That is the same on every host and after
every reload, spreads the checks evenly over their interval, and puts a bunch (a boot, a
restart) back in place by itself at the next round. Other intervals (90 s, 7 min) keep
OnUnitActiveSec=.

The phase is in tenths of a second: timers at one instant are started by systemd in one go, and
1,000 checks a minute are ~17 a second. The generator (render.py) writes the calendar, `bamon
status` computes the next run from the same numbers (no systemd query per check).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Grid:
    interval: int  # seconds
    phase: int  # tenths of a second after each multiple of `interval` since the epoch (UTC)

    def calendar(self) -> str:
        """The OnCalendar= expression: one field repeats by the interval, the finer ones hold the phase."""
        whole, tenth = divmod(self.phase, 10)
        sec = f"{whole % MINUTE:02d}" + (f".{tenth}" if tenth else "")
        minute, hour = whole // MINUTE % 60, whole // HOUR
        if self.interval <= MINUTE:
            step = f"/{self.interval}" if self.interval < MINUTE else ""
            return f"*-*-* *:*:{sec}{step} UTC"
        if self.interval <= HOUR:
            step = f"/{self.interval // MINUTE}" if self.interval < HOUR else ""
            return f"*-*-* *:{minute:02d}{step}:{sec} UTC"
        step = f"/{self.interval // HOUR}" if self.interval < DAY else ""
        return f"*-*-* {hour:02d}{step}:{minute:02d}:{sec} UTC"

    def next_at(self, now: float) -> float:
        """The first grid point at or after `now` (seconds since the epoch)."""
        offset = self.phase / 10
        return math.ceil((now - offset) / self.interval) * self.interval + offset


def _fits(interval: int, unit: int, whole: int) -> bool:
    """Is `interval` a whole number of `unit`s that divides `whole` (one calendar field's range)?"""
    return interval % unit == 0 and whole % interval == 0


def grid(name: str, interval: int | None) -> Grid | None:
    """The grid of an interval check, or None when its interval has no calendar form."""
    if not interval or not (_fits(interval, 1, MINUTE) or _fits(interval, MINUTE, HOUR) or _fits(interval, HOUR, DAY)):
        return None
    # a real hash: crc32 is linear, and names that differ in one letter (web1, web2) often
    # landed on the same tenth
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
    return Grid(interval, digest % (interval * 10))
