"""Template parameter types: what a value may be, and the shell text it becomes.

One table (KINDS): each type checks and normalises a value (from YAML, or a string from the
command line) and renders it as shell words. Every rendering goes through shlex.quote, so a
value is always exactly one word (or, for `args`, exactly its own words) in the command.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST = re.compile(rf"^(?=.{{1,253}}\Z){_LABEL}(\.{_LABEL})*\.?\Z")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("not text")
    return str(value)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    raise ValueError("not a whole number")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() and "." not in value else number
    raise ValueError("not a number")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("not true or false")


def _url(value: Any) -> str:
    text = _text(value)
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc or any(c.isspace() for c in text):
        raise ValueError("not a URL")
    return text


def _path(value: Any) -> str:
    text = _text(value)
    if not text.startswith("/") or "\0" in text:
        raise ValueError("not an absolute path")
    return text


def _host(value: Any) -> str:
    text = _text(value)
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        if _HOST.match(text):
            return text
    raise ValueError("not a host name or IP address")


def _port(value: Any) -> int:
    number = _int(value)
    if not 1 <= number <= 65535:
        raise ValueError("not a port number")
    return number


def _args(value: Any) -> list[str]:
    """A list of words, or one string split as the shell would (`--param args="-w 80 -c 90"`)."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"not a list of arguments ({exc})") from None
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    raise ValueError("not a list of arguments")


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return shlex.quote(str(value))


@dataclass(frozen=True)
class Kind:
    """A parameter type: how it is described, checked (raises ValueError) and rendered."""

    what: str  # "a whole number", for messages
    example: str  # for hints
    check: Callable[[Any], Any]
    render: Callable[[Any], str] = _word


KINDS: dict[str, Kind] = {
    "string": Kind("text", '"some text"', _text),
    "int": Kind("a whole number", "10", _int),
    "number": Kind("a number", "0.5", _number),
    "bool": Kind("true or false", "true", _bool),
    "url": Kind("a URL", "https://example.com/health", _url),
    "path": Kind("an absolute path", "/var/backups", _path),
    "host": Kind("a host name or IP address", "db.example.com", _host),
    "port": Kind("a port number (1-65535)", "443", _port),
    "args": Kind("a list of arguments", '["-w", "80", "-c", "90"]', _args,
                 lambda words: " ".join(shlex.quote(w) for w in words)),
}
