"""Sparklines: recent durations and outcomes in one line of a terminal.

Only for terminals (the CLI decides): piped output stays plain text without them.
"""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
# one mark per run: OK low and quiet, trouble tall, so failures stand out in a row of OKs
OUTCOMES = {"OK": "▁", "WARNING": "▅", "FAILED": "█", "UNKNOWN": "▃"}


def durations(values: Sequence[float], width: int = 40) -> str:
    """The last `width` values as bars from the lowest (▁) to the highest (█)."""
    last = list(values[-width:])
    if not last:
        return ""
    low, high = min(last), max(last)
    span = high - low
    return "".join(BARS[0 if span == 0 else min(int((v - low) / span * len(BARS)), len(BARS) - 1)] for v in last)


def outcomes(statuses: Sequence[str], width: int = 40) -> str:
    """The last `width` statuses, one mark each (see OUTCOMES)."""
    return "".join(OUTCOMES.get(s, "?") for s in statuses[-width:])
