"""Everything the CLI prints: tables, JSON, times, and errors (one line plus a hint)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

from bamon.config.timespec import format_span

# what list, status and now say on an empty config (the original's words, and how to add one)
NOTHING_CONFIGURED = "No scripts configured. Add one with: bamon add NAME --command 'COMMAND'"

_COLORS = {"OK": "32", "FAILED": "31", "WARNING": "33", "RUNNING": "36", "UNKNOWN": "2", "DISABLED": "2"}


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def color_status(word: str, shown: str | None = None) -> str:
    """`shown` (default: the status word itself) in the colour of status `word`."""
    text = shown or word
    code = _COLORS.get(word)
    return f"\033[{code}m{text}\033[0m" if code and use_color() else text


_ESCAPE = "\033["


def _visible_len(text: str) -> int:
    return len(text) - (9 if text.startswith(_ESCAPE) else 0)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], squeeze: str | None = None) -> str:
    """A plain aligned table; the `squeeze` column is cut to fit the terminal width.

    Built column by column with str methods mapped over each column (no Python call per cell
    where a column holds no colour): `bamon history` prints a row for each of 43,200 runs.
    """
    cells = [[" ".join(str(c).split()) for c in r] for r in rows]  # one line per row
    columns = [list(c) for c in zip(*cells, strict=True)] if cells else [[] for _ in headers]
    if len(columns) != len(headers):
        raise ValueError(f"rows of {len(columns)} cells under {len(headers)} headers")
    # a column with an escape sequence anywhere gets the exact per-cell look (coloured cells)
    coloured = [_ESCAPE in "".join(column) for column in columns]
    widths = [max(len(h), max(map(_visible_len if tinted else len, column), default=0))
              for h, column, tinted in zip(headers, columns, coloured, strict=True)]
    if squeeze is not None and squeeze in headers:
        index = list(headers).index(squeeze)
        room = shutil.get_terminal_size((160, 24)).columns - (sum(widths) - widths[index]) - 2 * (len(headers) - 1)
        limit = max(room, 12)
        if widths[index] > limit:
            widths[index] = limit
            columns[index] = [c if len(c) <= limit else c[: limit - 1] + "…" for c in columns[index]]
    padded = [list(map(str.ljust, column, repeat(width))) if not tinted else
              [c.ljust(width + len(c) - _visible_len(c)) for c in column]
              for column, width, tinted in zip(columns, widths, coloured, strict=True)]
    head = "  ".join(h.ljust(w + len(h) - _visible_len(h)) for h, w in zip(headers, widths, strict=True))
    return "\n".join([head.rstrip(), *("  ".join(row).rstrip() for row in zip(*padded, strict=True))])


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return format_span((datetime.now(UTC) - moment).total_seconds()) + " ago"


def until(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    seconds = (moment - datetime.now(UTC)).total_seconds()
    return "now" if seconds < 1 else "in " + format_span(seconds)


def error(message: str, hint: str = "") -> None:
    """What is wrong (one line) and, on the next, what to do about it."""
    sys.stderr.write(f"bamon: error: {message}\n")
    if hint:
        sys.stderr.write(f"  hint: {hint}\n")


def note(message: str) -> None:
    sys.stderr.write(f"bamon: {message}\n")


def page(text: str) -> None:
    """Print `text`; on a terminal, through $PAGER (less -FRX: quits at once when it fits)."""
    if not sys.stdout.isatty() or text.count("\n") < shutil.get_terminal_size((80, 24)).lines - 1:
        print(text)
        return
    import shlex
    import subprocess

    pager = shlex.split(os.environ.get("PAGER") or "less -FRX")
    try:
        subprocess.run(pager, input=text + "\n", text=True, check=False)
    except OSError:  # no pager installed
        print(text)
