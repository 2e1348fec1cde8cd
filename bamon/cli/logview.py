"""How `bamon log` prints journal entries: search with context, text or JSON lines, colour.

Works on a stream, so --follow, --search and --before/--after combine: context before a match
is a small ring of the last entries, context after is a countdown.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bamon.cli.output import iso
from bamon.journal import field
from bamon.units import naming

# journald priority -> the original's level word, and its colour on a terminal
_LEVEL = {0: "ERROR", 1: "ERROR", 2: "ERROR", 3: "ERROR", 4: "WARN", 5: "INFO", 6: "INFO", 7: "DEBUG"}
_COLOR = {"ERROR": "31", "WARN": "33", "INFO": "32", "DEBUG": "36"}
SEPARATOR = "--"  # between groups of context that are not adjacent, as grep prints it


@dataclass(frozen=True)
class View:
    matcher: Any = None  # a compiled pattern, or None: every entry
    before: int = 0
    after: int = 0
    json: bool = False
    color: bool = False


@dataclass(frozen=True)
class Line:
    timestamp: datetime
    level: str
    script: str
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {"timestamp": iso(self.timestamp), "level": self.level, "script": self.script,
                "message": self.message}


def line(entry: dict[str, Any]) -> Line:
    priority = field(entry, "PRIORITY", "6")
    usec = field(entry, "__REALTIME_TIMESTAMP", "0")
    unit = field(entry, "UNIT") or field(entry, "_SYSTEMD_UNIT") or field(entry, "USER_UNIT")
    identifier = field(entry, "SYSLOG_IDENTIFIER")
    script = (field(entry, "BAMON_CHECK") or naming.script_of(unit) or naming.script_of(identifier)
              or identifier or "bamon")
    return Line(timestamp=datetime.fromtimestamp(int(usec) / 1e6 if usec.isdigit() else 0, tz=UTC),
                level=_LEVEL.get(int(priority) if priority.isdigit() else 6, "INFO"),
                script=script, message=field(entry, "MESSAGE"))


def select(lines: Iterable[Line], view: View) -> Iterator[Line | None]:
    """The lines to print; None where a separator goes between non-adjacent context groups."""
    if view.matcher is None:
        yield from lines
        return
    ring: deque[tuple[int, Line]] = deque(maxlen=view.before)  # candidates for context before
    last_printed, countdown = -1, 0
    for index, item in enumerate(lines):
        if view.matcher.search(item.message):
            for number, shown in [*ring, (index, item)]:
                if last_printed >= 0 and number > last_printed + 1 and (view.before or view.after):
                    yield None
                yield shown
                last_printed = number
            ring.clear()
            countdown = view.after
        elif countdown:
            countdown -= 1
            yield item
            last_printed = index
        else:
            ring.append((index, item))


def render(item: Line | None, view: View) -> str:
    if item is None:
        return SEPARATOR
    if view.json:
        return json.dumps(item.as_dict(), ensure_ascii=False)
    stamp = item.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    level = f"{item.level:<5}"
    if view.color:
        level = f"\033[{_COLOR[item.level]}m{level}\033[0m"
    return f"{stamp} {level} [{item.script}] {item.message}"


def show(entries: Iterable[dict[str, Any]], view: View, last: int | None) -> None:
    """Print the selection; `last` keeps only the last N (None: print as they come, for --follow)."""
    chosen = select((line(e) for e in entries), view)
    if last is not None:
        kept = list(chosen)[-last:] if last > 0 else []
        chosen = iter(kept[1:] if kept and kept[0] is None else kept)
    out = sys.stdout
    for item in chosen:
        if view.json and item is None:
            continue  # JSON lines have no separators
        out.write(render(item, view) + "\n")
        out.flush()
