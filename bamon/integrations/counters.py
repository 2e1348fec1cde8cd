"""Runs and failures counters per check, counted from the run records in journald.

The `last` file of a check only knows the latest run, so the counters are kept here: each
update reads the run records logged since the previous one (one pass over a short window of
the journal) and counts those that started after the newest run already counted for that check.
Counting by start time makes an update idempotent: two writers reading the same state add the
same runs, and a record sent twice for one run (a correction from the notifier) counts once.
The state is one small JSON file, written atomically.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bamon.atomic import atomic_write
from bamon.history.records import RECORD_PREFIX, from_entry
from bamon.history.runs import status_of
from bamon.journal import Journal

# Records are logged when a run ends, and a correction a little later: read back this far
# before the previous update so nothing logged around it is missed.
OVERLAP_S = 120.0
# A first update counts the runs of the last day at most, not the whole retained history.
FIRST_WINDOW_S = 86400.0
_START = "start_usec="
# What a failure is, as status and history say it: a Nagios check's WARNING (exit 1) is not
# one; its UNKNOWN (exit 3) is, as every plain check's non-zero exit (FAILED).
FAILED = frozenset({"FAILED", "UNKNOWN"})


@dataclass
class Tally:
    runs: int = 0
    failures: int = 0
    newest_start_us: int = 0


@dataclass
class Counters:
    updated: float = 0.0  # UNIX time of the last update; 0 = never
    checks: dict[str, Tally] = field(default_factory=dict)
    # In memory only, for a reader that updates again and again (the web service): where the
    # previous update stopped reading the journal, and when the whole window was last read.
    cursor: str | None = field(default=None, compare=False)
    window_read: float = field(default=0.0, compare=False)

    @classmethod
    def load(cls, path: Path) -> Counters:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(float(data["updated"]), {name: Tally(*map(int, values))
                                                for name, values in data["checks"].items()})
        except (OSError, ValueError, KeyError, TypeError):
            return cls()  # missing or damaged: counting starts again (Prometheus sees a reset)

    def save(self, path: Path) -> None:
        data = {"updated": self.updated,
                "checks": {n: [t.runs, t.failures, t.newest_start_us] for n, t in sorted(self.checks.items())}}
        atomic_write(path, json.dumps(data, separators=(",", ":")), durable=False)

    def update(self, journal: Journal, now: float | None = None, formats: Mapping[str, str] | None = None) -> None:
        """Count the run records logged since the previous update. `formats` gives each check's
        output_format (plain where it is not named): a Nagios check's WARNING is not a failure."""
        formats = formats or {}
        now = time.time() if now is None else now
        since = self.updated - OVERLAP_S if self.updated else now - FIRST_WINDOW_S
        # Past the previous update's last entry only (a scrape every few seconds read the same
        # 2 minutes of 1,000 checks' logging, ~6,000 entries, each time); the whole window once
        # per OVERLAP_S still, for what the journal's order could put before that entry (another
        # source's entries, a clock set back): counted a little later, never twice.
        after = self.cursor if now - self.window_read < OVERLAP_S else None
        if after is None:
            self.window_read = now
        entries, self.cursor = journal.starting_with(RECORD_PREFIX, ("SYSLOG_IDENTIFIER",),
                                                     since_us=int(since * 1e6), after=after)
        for entry in entries:
            known = self.checks.get(entry.get("SYSLOG_IDENTIFIER", "").removeprefix("bamon-"))
            if known is not None and (start := _start_us(entry.get("MESSAGE", ""))) is not None \
                    and start <= known.newest_start_us:
                continue  # counted by an earlier update (each window overlaps the one before)
            record = from_entry(entry)
            if record is None or not record.check:
                continue
            tally = self.checks.setdefault(record.check, Tally())
            if record.start_us > tally.newest_start_us:
                # a skipped run (dependency failing, load, max_concurrent, breaker open) ran no
                # command: neither a run nor a failure
                tally.runs += 0 if record.skipped else 1
                tally.failures += int(status_of(record, formats.get(record.check, "plain")) in FAILED)
                tally.newest_start_us = record.start_us
        self.updated = now


@dataclass
class Kept:
    """The counters of a reader that asks again and again (the web service's /metrics): each
    call goes on from the previous one's, and reads the file again only when it changed.

    The file is read only for what bamon.metrics.service wrote since: while its inode, mtime and
    size are those of the last read, the counters kept here started from that content (or from
    newer ones) and have only moved on, so parsing it again could not change them.
    """

    path: Path
    counters: Counters | None = None
    read: tuple[int, int, int] | None = None  # (inode, mtime ns, size) of the file last read; None: none

    def current(self) -> Counters:
        try:
            info = os.stat(self.path)
            seen: tuple[int, int, int] | None = (info.st_ino, info.st_mtime_ns, info.st_size)
        except OSError:
            seen = None
        if self.counters is None or seen != self.read:
            loaded = Counters.load(self.path)
            self.read = seen
            if self.counters is None or not self.counters.updated > loaded.updated:
                self.counters = loaded  # the file is as new or newer: bamon.metrics.service ran
        return self.counters


def may_write(path: Path) -> bool:
    """Whether `path` could be written: the web service's user may not write bamon's state
    (read-only to it), and serialising 1,000 tallies only to fail cost ~1 ms a scrape."""
    directory = path.parent
    while not directory.is_dir() and directory != directory.parent:
        directory = directory.parent  # atomic_write creates the missing ones
    return os.access(directory, os.W_OK)


def _start_us(message: str) -> int | None:
    """The start_usec= of a record line without parsing all of it (a whole record costs ~3 µs,
    and each window read again holds the 2,000 records of 1,000 checks counted before).
    None unless the field is there exactly once, as a field of its own: other lines are left to
    the parser (which takes the last of two)."""
    if message.count(_START) != 1:
        return None
    before, _, after = message.partition(_START)
    digits = after.partition(" ")[0]
    return int(digits) if before.endswith(" ") and digits.isascii() and digits.isdigit() else None
