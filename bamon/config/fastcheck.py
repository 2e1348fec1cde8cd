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


# The words IPAddressAllow=/IPAddressDeny= take besides addresses and prefixes (systemd.resource-control(5))
IP_WORDS = ("any", "localhost", "link-local", "multicast")


def check_ip_prefix(text: str) -> None:
    """An address, a prefix (10.0.0.0/8) or one of systemd's words; ValueError otherwise."""
    if text in IP_WORDS:
        return
    import ipaddress  # only configs with IP settings pay for it (the generator reads thousands)

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"not an IP address or prefix, nor one of {', '.join(IP_WORDS)}") from None


FORMATS: dict[str, Format] = {
    "bamon-span": Format((int, str), parse_span),  # 30 or "30s"
    "bamon-schedule": Format((str,), check_schedule),
    "bamon-ip-prefix": Format((str,), check_ip_prefix),
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


Check = Callable[[Any], bool]
_STRUCTURE = ("properties", "required", "additionalProperties", "propertyNames")
_compiled: dict[tuple[int, int], tuple[dict[str, Any], Check]] = {}


def conforms(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """True when `value` is valid against `schema`; False when invalid or unsure."""
    key = (id(schema), id(root))
    entry = _compiled.get(key)
    if entry is None or entry[0] is not schema:  # the schema itself is kept: ids stay unique
        entry = _compiled[key] = (schema, _compile(schema, root))
    return entry[1](value)


def _compile(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    """The schema as one closure: it is walked once per process, not once per value."""
    checks: list[Check] = []
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword in _STRUCTURE or keyword in ("then", "else"):
            continue
        if keyword == "if":  # with its then/else: the per-type settings of alerts.channels
            checks.append(_conditional(schema, root))
            continue
        factory = _KEYWORDS.get(keyword)
        if factory is None:
            return lambda value: False  # a keyword this module does not know: unsure
        checks.append(factory(arg, root))
    if any(k in schema for k in _STRUCTURE):
        checks.append(_object_check(schema, root))
    return lambda value: all(check(value) for check in checks)


def _object_check(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    props = {k: _compile(v, root) for k, v in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = _compile(extra, root) if isinstance(extra, dict) else None
    names = _compile(schema["propertyNames"], root) if "propertyNames" in schema else None

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True  # the type keyword's business
        if any(key not in value for key in required):
            return False
        for key, item in value.items():
            if names is not None and not names(key):
                return False
            prop = props.get(key)
            if prop is not None:
                if not prop(item):
                    return False
            elif extra is False or (extra_check is not None and not extra_check(item)):
                return False
        return True
    return check


def _conditional(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    test = _compile(schema["if"], root)
    then = _compile(schema["then"], root) if "then" in schema else None
    other = _compile(schema["else"], root) if "else" in schema else None

    def check(value: Any) -> bool:
        branch = then if test(value) else other
        return branch is None or branch(value)
    return check


def _type(arg: str | list[str], root: dict[str, Any]) -> Check:
    kinds = [_TYPES[k] for k in ([arg] if isinstance(arg, str) else arg)]
    return lambda v: any(kind(v) for kind in kinds)


def _ref(arg: str, root: dict[str, Any]) -> Check:
    if not arg.startswith("#/$defs/"):
        return lambda value: False
    target = root["$defs"][arg[8:]]
    return lambda value: conforms(value, target, root)


def _pattern(arg: str, root: dict[str, Any]) -> Check:
    regex = _regex(arg)
    return lambda v: not isinstance(v, str) or regex.search(v) is not None


def _not(arg: dict[str, Any], root: dict[str, Any]) -> Check:
    inner = _compile(arg, root)
    return lambda v: not inner(v)


def _items(arg: dict[str, Any], root: dict[str, Any]) -> Check:
    inner = _compile(arg, root)
    return lambda v: not isinstance(v, list) or all(inner(i) for i in v)


def _all(checks: list[Check]) -> Check:
    return lambda v: all(check(v) for check in checks)


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "type": _type,
    "$ref": _ref,
    "enum": lambda arg, root: lambda v: any(v == a and type(v) is type(a) for a in arg),
    "pattern": _pattern,
    "minimum": lambda arg, root: lambda v: not _TYPES["number"](v) or v >= arg,
    "maximum": lambda arg, root: lambda v: not _TYPES["number"](v) or v <= arg,
    "minLength": lambda arg, root: lambda v: not isinstance(v, str) or len(v) >= arg,
    "exclusiveMinimum": lambda arg, root: lambda v: not _TYPES["number"](v) or v > arg,
    "const": lambda arg, root: lambda v: v == arg and type(v) is type(arg),
    "allOf": lambda arg, root: _all([_compile(s, root) for s in arg]),
    "format": lambda arg, root: lambda v: _format_ok(arg, v),
    "not": _not,
    "items": _items,
}
