"""Custom metrics in a run's output: Nagios performance data and BAMON_METRIC lines.

Parsed at read time from the output lines journald holds, never in run-check: a successful run
stays bash builtins only, and a grammar fix applies to all history at once.

Nagios perfdata (Nagios Plugin Development Guidelines, "Performance data"):

    TEXT | 'label'=value[UOM];[warn];[crit];[min];[max] label2=…      first line
    LONG TEXT …                                                       more lines
    LONG TEXT | more perfdata                                         a later "|" line
    more perfdata                                                     every line after it

Labels with spaces are quoted with '…' ('' is a quote inside); value is [-0-9.]+ or U
(undetermined); UOM is one of s ms us % B KB MB GB TB c (or none); trailing empty fields
may be left out. Plain scripts print `BAMON_METRIC name=value [unit]` lines instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

UNITS = ("s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c", "")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(rf"^(?P<value>{_NUMBER}|U)(?P<uom>[A-Za-z%]*)$")
_THRESHOLD = re.compile(rf"^@?(?:~|{_NUMBER})?(?::(?:{_NUMBER})?)?$")
_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")
_METRIC_LINE = "BAMON_METRIC"


@dataclass(frozen=True)
class Metric:
    label: str
    value: float | None  # None for U (undetermined)
    unit: str = ""
    warn: str = ""  # Nagios ranges as written ("10", "10:", "@5:10", "~:3")
    crit: str = ""
    min: float | None = None
    max: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "value": self.value, "unit": self.unit, "warn": self.warn or None,
                "crit": self.crit or None, "min": self.min, "max": self.max}


def range_limit(text: str) -> float | None:
    """The number a Nagios range alerts beyond: "90" → 90, "~:90" → 90, "10:" → 10, "@5:9" → 9."""
    body = text.lstrip("@")
    start, _, end = body.partition(":") if ":" in body else ("", "", body)
    for part in (end, start):
        if part and part != "~":
            try:
                return float(part)
            except ValueError:
                return None
    return None


def _split_perfdata(text: str) -> tuple[list[str], str]:
    """Space-separated items; a quoted label may hold spaces ('' is a quote)."""
    items, current, quoted, i = [], "", False, 0
    while i < len(text):
        char = text[i]
        if char == "'":
            if quoted and text[i + 1:i + 2] == "'":
                current += "''"
                i += 2
                continue
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                items.append(current)
            current = ""
        else:
            current += char
        i += 1
    if quoted:
        return items, f"unclosed quote in {current!r}"
    if current:
        items.append(current)
    return items, ""


def _optional_float(text: str) -> float | None:
    return float(text) if text and re.fullmatch(_NUMBER, text) else None


def parse_item(item: str) -> Metric:
    """One `'label'=value[UOM];warn;crit;min;max`; ValueError says what breaks the grammar."""
    label, eq, rest = item.rpartition("=") if item.startswith("'") else item.partition("=")
    if not eq or not label:
        raise ValueError(f"{item!r} is not label=value")
    if label.startswith("'"):
        if len(label) < 2 or not label.endswith("'"):
            raise ValueError(f"badly quoted label in {item!r}")
        label = label[1:-1].replace("''", "'")
    elif "'" in label:
        raise ValueError(f"a quote inside the unquoted label {label!r}")
    fields = rest.split(";")
    if len(fields) > 5:
        raise ValueError(f"{item!r} has more than 5 fields (value;warn;crit;min;max)")
    fields += [""] * (5 - len(fields))
    match = _VALUE.match(fields[0])
    if not match:
        raise ValueError(f"{fields[0]!r} in {item!r} is not a number with a unit")
    unit = match["uom"]
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} in {item!r} (known: {', '.join(u for u in UNITS if u)})")
    for name, text in (("warn", fields[1]), ("crit", fields[2])):
        if not _THRESHOLD.match(text):
            raise ValueError(f"{name} {text!r} in {item!r} is not a Nagios range")
    for name, text in (("min", fields[3]), ("max", fields[4])):
        if text and _optional_float(text) is None:
            raise ValueError(f"{name} {text!r} in {item!r} is not a number")
    value = None if match["value"] == "U" else float(match["value"])
    return Metric(label, value, unit, fields[1], fields[2], _optional_float(fields[3]), _optional_float(fields[4]))


def perfdata_text(lines: Iterable[str]) -> str:
    """The perfdata part of a plugin's output (first line after "|", a later "|" line and all after)."""
    parts: list[str] = []
    in_long_perf = False
    for index, line in enumerate(lines):
        if in_long_perf:
            parts.append(line)
        elif "|" in line:
            parts.append(line.split("|", 1)[1])
            in_long_perf = index > 0  # after the first line, perfdata runs to the end
    return " ".join(parts)


def parse_perfdata(lines: Iterable[str]) -> tuple[list[Metric], list[str]]:
    """Metrics in Nagios plugin output, and one problem per item that breaks the grammar."""
    items, problem = _split_perfdata(perfdata_text(lines))
    metrics, problems = [], [problem] if problem else []
    for item in items:
        try:
            metrics.append(parse_item(item))
        except ValueError as exc:
            problems.append(str(exc))
    return metrics, problems


def parse_metric_line(line: str) -> Metric:
    """`BAMON_METRIC name=value [unit]`; ValueError says what is wrong."""
    body = line[len(_METRIC_LINE):].strip()
    name, eq, rest = body.partition("=")
    if not eq:
        raise ValueError(f"{line!r}: expected BAMON_METRIC name=value [unit]")
    if not _NAME.match(name):
        spaces = " " in name.strip() or not name.strip()
        why = "has spaces" if spaces else "has characters other than A-Z a-z 0-9 _ . : / -"
        raise ValueError(f"metric name {name!r} {why} (in {line!r})")
    words = rest.split()
    if not words or len(words) > 2 or not re.fullmatch(_NUMBER, words[0]):
        raise ValueError(f"{line!r}: the value must be a number, optionally followed by one unit word")
    return Metric(name, float(words[0]), words[1] if len(words) > 1 else "")


def parse_metrics(lines: list[str], nagios: bool) -> tuple[list[Metric], list[str]]:
    """All metrics of one run's output: BAMON_METRIC lines always, perfdata for Nagios checks."""
    metrics, problems = parse_perfdata(
        [line for line in lines if not line.startswith(_METRIC_LINE)]) if nagios else ([], [])
    for line in lines:
        if line.startswith(_METRIC_LINE + " "):
            try:
                metrics.append(parse_metric_line(line))
            except ValueError as exc:
                problems.append(str(exc))
    return metrics, problems
