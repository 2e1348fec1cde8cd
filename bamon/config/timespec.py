"""Time values in the config: spans ("30s", "5min") and schedules (OnCalendar or cron).

Spans become whole seconds. Schedules become systemd OnCalendar expressions: a 5-field cron line
is translated field by field; anything else is passed to systemd as written (the CLI checks it
with `systemd-analyze calendar` before saving it).
"""

from __future__ import annotations

import re

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_SPAN_PART = re.compile(r"\s*(\d+)\s*([a-z]*)")


def parse_span(value: int | str) -> int:
    """Seconds in `value`: an int, "90", "30s", "5min", "1h 30min". Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("a span cannot be true/false")
    if isinstance(value, int):
        if value < 1:
            raise ValueError("a span must be at least 1 second")
        return value
    text = value.strip().lower()
    if not text:
        raise ValueError("empty span")
    total, pos = 0, 0
    while pos < len(text):
        match = _SPAN_PART.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read {value!r} as a span")
        number, unit = match.groups()
        if unit not in _UNITS and unit != "":
            raise ValueError(f"unknown unit {unit!r} in {value!r}")
        total += int(number) * _UNITS.get(unit, 1)
        pos = match.end()
        while pos < len(text) and text[pos] == " ":
            pos += 1
    if total < 1:
        raise ValueError("a span must be at least 1 second")
    return total


def format_span(seconds: float) -> str:
    """A short human span: 45s, 5min, 1h 30min, 2d 3h."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


# --- cron ------------------------------------------------------------------------------------

_CRON_FIELDS = (  # name, lowest, highest
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DAYS = "sun mon tue wed thu fri sat".split()
_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CRON_CHARS = re.compile(r"^[0-9A-Za-z*,/-]+$")
_CRON_NICKNAMES = {
    "@yearly": "yearly", "@annually": "yearly", "@monthly": "monthly", "@weekly": "weekly",
    "@daily": "daily", "@midnight": "daily", "@hourly": "hourly",
}


def looks_like_cron(text: str) -> bool:
    """True for "*/5 * * * *"-style lines and @daily-style nicknames."""
    fields = text.split()
    if len(fields) == 1 and fields[0].lower() in _CRON_NICKNAMES:
        return True
    return len(fields) == 5 and all(_CRON_CHARS.match(f) for f in fields) and ":" not in text


def _cron_value(token: str, index: int) -> int:
    names = _MONTHS if index == 3 else _DAYS if index == 4 else []
    if token.lower() in names:
        return names.index(token.lower()) + (1 if index == 3 else 0)
    if not token.isdigit():
        raise ValueError(f"{token!r} is not a number in the cron {_CRON_FIELDS[index][0]} field")
    return int(token)


def _cron_field(field: str, index: int) -> list[int] | None:
    """The sorted values a cron field allows, or None for "every"."""
    name, low, high = _CRON_FIELDS[index]
    if field == "*":
        return None
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step {step_text!r} in the cron {name} field")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _cron_value(a, index), _cron_value(b, index)
        else:
            first = _cron_value(base, index)
            last = high if step else first
        if not (low <= first <= high and low <= last <= high and first <= last):
            raise ValueError(f"{part!r} is out of range {low}-{high} in the cron {name} field")
        values.update(range(first, last + 1, step or 1))
    if index == 4 and 7 in values:  # cron allows both 0 and 7 for Sunday
        values.discard(7)
        values.add(0)
    return sorted(values)


def cron_to_oncalendar(line: str) -> str:
    """Translate a 5-field cron line (or @nickname) to an equivalent OnCalendar expression."""
    text = line.strip()
    if text.lower() in _CRON_NICKNAMES:
        return _CRON_NICKNAMES[text.lower()]
    fields = [_cron_field(f, i) for i, f in enumerate(text.split())]
    dom, dow = fields[2], fields[4]
    if dom is not None and dow is not None:
        # cron runs when EITHER matches; OnCalendar needs both: there is no faithful translation.
        raise ValueError("cron lines restricting both day of month and day of week are not supported")

    def join(index: int) -> str:
        # A lone step keeps its form (cron */5 is OnCalendar 00/5): enumerated, `bamon list`
        # showed `*/1` as sixty comma-separated minutes.
        step = _cron_step(raw[index], index)
        values = fields[index]
        return step or ("*" if values is None else ",".join(f"{v:02d}" for v in values))

    raw = text.split()
    weekday = "" if dow is None else ",".join(_SYSTEMD_DAYS[d] for d in dow) + " "
    return f"{weekday}*-{join(3)}-{join(2)} {join(1)}:{join(0)}:00"


_STEP = re.compile(r"^(\*|\d+)/(\d+)$")


def _cron_step(field: str, index: int) -> str | None:
    """The OnCalendar repetition ("00/5", "*") for a cron field that is one step ("*/5", "10/20")."""
    match = _STEP.match(field)
    if match is None or index == 4:  # weekdays have no repetition in OnCalendar: listed by name
        return None
    start = _CRON_FIELDS[index][1] if match[1] == "*" else int(match[1])
    step = int(match[2])
    return "*" if match[1] == "*" and step == 1 else f"{start:02d}/{step}"


def to_oncalendar(schedule: str) -> str:
    """The OnCalendar expression for a configured schedule (cron translated, else as written)."""
    return cron_to_oncalendar(schedule) if looks_like_cron(schedule) else schedule.strip()


def check_schedule(schedule: str) -> str:
    """Quick syntax check without systemd; returns the OnCalendar form or raises ValueError."""
    text = schedule.strip()
    if not text:
        raise ValueError("empty schedule")
    if any(ch in text for ch in "\n\r\t%"):
        raise ValueError("a schedule cannot contain newlines, tabs or %")
    return to_oncalendar(text)
