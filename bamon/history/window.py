"""The time span a history or analytics question covers: --since/--until and retention.

Accepted: a span back from now ("7d", "12h", "30min", "1w"), a date or time
("2026-11-20", "2026-11-20 10:00", "2026-11-20T10:00:00+01:00"), "today", "yesterday", "now".
Times without a zone are local time, as journalctl reads them.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from bamon.config.timespec import parse_span
from bamon.errors import BamonError
from bamon.journal import Journal

_HINT = "use a span back from now (7d, 12h, 30min) or a date/time (2026-11-20, '2026-11-20 10:00')"
DAY_S = 86400


def moment(text: str, now: float | None = None) -> float:
    """Seconds since the epoch for `text`; BamonError when it is none of the accepted forms."""
    now = time.time() if now is None else now
    word = text.strip().lower()
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight.timestamp(), "yesterday": (midnight - timedelta(days=1)).timestamp()}
    if word in named:
        return named[word]
    try:
        return now - parse_span(word.removesuffix(" ago"))
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise BamonError(f"cannot read {text!r} as a time", _HINT) from None


def window(since: str | None, until: str | None, retention_days: int, default_since: str,
           now: float | None = None) -> tuple[int, int | None, str | None]:
    """(since_us, until_us, note): since is never further back than the retention allows."""
    now = time.time() if now is None else now
    start = moment(since or default_since, now)
    end = moment(until, now) if until else None
    if end is not None and end < start:
        raise BamonError(f"--until {until} is before --since {since or default_since}", "swap them")
    oldest = now - retention_days * DAY_S
    note = None
    if start < oldest:
        note = f"history_retention_days is {retention_days}: looking back {retention_days} days only"
        start = oldest
    return int(start * 1e6), None if end is None else int(end * 1e6), note


def journal_gap(journal: Journal, since_us: int) -> str | None:
    """A sentence when the journal starts after `since`: those runs are gone, not missing."""
    oldest = journal.oldest_us()
    if oldest is None or since_us >= oldest - 60_000_000:
        return None
    at = datetime.fromtimestamp(oldest / 1e6).strftime("%Y-%m-%d %H:%M")
    return (f"the journal starts at {at}: older runs are gone (journald's retention, a vacuum, or a "
            "journal kept in memory; see `bamon config validate`)")
