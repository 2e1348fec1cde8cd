"""A yes/no check of data against schema.yaml, fast enough for the systemd generator.

Why it exists: importing jsonschema costs ~80 ms and validating 1,000 scripts ~45 ms, while
the generator's whole budget for 1,000 scripts is 250 ms. Almost every config is valid, so the
generator asks this module first and only calls jsonschema (for the precise, located messages)
when the answer is no. It understands just the keywords schema.yaml uses; any other keyword
makes it answer no, which is always safe. tests/unit/test_fastcheck.py checks that it agrees
with jsonschema on valid and broken configs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bamon.config.timespec import check_schedule, parse_span


@dataclass(frozen=True)
class Format:
    """A bamon format: the kinds of value it is about, and the check (raises ValueError)."""

    applies_to: tuple[type, ...]
    check: Callable[[Any], object]


FORMATS: dict[str, Format] = {
    "bamon-span": Format((int, str), parse_span),  # 30 or "30s"
    "bamon-schedule": Format((str,), check_schedule),
}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_ANNOTATIONS = {"description", "default", "title", "$schema", "$defs", "x-hint", "x-superseded", "x-example"}


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_format(name: str, value: Any) -> None:
    """Raise ValueError when `value` breaks format `name`; the one notion both validators share.

    As in JSON Schema, a format only constrains the kinds of value it is about: `schedule: 5`
    or `interval: 1.5` are wrong, but that is the `type` keyword's error to report, so the
    format passes them instead of choking on them (the functions expect int or str).
    """
    spec = FORMATS[name]
    if isinstance(value, spec.applies_to) and not isinstance(value, bool):
        spec.check(value)


def _format_ok(name: str, value: Any) -> bool:
    try:
        check_format(name, value)
    except (ValueError, KeyError):  # KeyError: a format this module does not know, so unsure
        return False
    return True


def _object_ok(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any]) -> bool:
    props = schema.get("properties", {})
    if any(key not in value for key in schema.get("required", ())):
        return False
    extra = schema.get("additionalProperties", True)
    names = schema.get("propertyNames")
    for key, item in value.items():
        if names is not None and not conforms(key, names, root):
            return False
        if key in props:
            if not conforms(item, props[key], root):
                return False
        elif extra is False or (isinstance(extra, dict) and not conforms(item, extra, root)):
            return False
    return True


def conforms(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """True when `value` is valid against `schema`; False when invalid or unsure."""
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("properties", "required", "additionalProperties",
                                                   "propertyNames"):
            continue
        if keyword == "type":
            kinds = [arg] if isinstance(arg, str) else arg
            if not any(_TYPES[k](value) for k in kinds):
                return False
        elif keyword == "$ref":
            if not arg.startswith("#/$defs/") or not conforms(value, root["$defs"][arg[8:]], root):
                return False
        elif not _KEYWORDS.get(keyword, _unsure)(value, arg, root):
            return False
    if isinstance(value, dict) and not _object_ok(value, schema, root):
        return False
    return True


def _unsure(value: Any, arg: Any, root: dict[str, Any]) -> bool:
    return False


_KEYWORDS: dict[str, Callable[[Any, Any, dict[str, Any]], bool]] = {
    "enum": lambda v, arg, root: any(v == a and type(v) is type(a) for a in arg),
    "pattern": lambda v, arg, root: not isinstance(v, str) or _regex(arg).search(v) is not None,
    "minimum": lambda v, arg, root: not _TYPES["number"](v) or v >= arg,
    "minLength": lambda v, arg, root: not isinstance(v, str) or len(v) >= arg,
    "format": lambda v, arg, root: _format_ok(arg, v),
    "not": lambda v, arg, root: not conforms(v, arg, root),
    "items": lambda v, arg, root: not isinstance(v, list) or all(conforms(i, arg, root) for i in v),
}
