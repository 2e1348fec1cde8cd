"""Quoting text for unit files so that systemd hands it over byte for byte.

systemd processes an ExecStart= argument in three steps: it unquotes "…" (with C escapes),
expands specifiers (%x), and at run time expands $VAR. We therefore escape in all three
layers; Environment= values skip the $ layer (systemd does not expand variables there).
"""

from __future__ import annotations

import re

_TRAILING = re.compile(r"[\s\\]+$")  # whitespace and backslashes at the end of a line
# C escapes for what cannot stand literally inside "…" (str.translate tables: the generator
# quotes 1,000 commands, and a per-character Python loop alone would cost ~40 ms of its budget).
_C_QUOTE: dict[int, str] = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]}
_C_QUOTE.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r"})
_ENV = {**_C_QUOTE, ord("%"): "%%"}  # + the specifier layer
_EXEC = {**_ENV, ord("$"): "$$"}  # + the variable layer


def exec_arg(text: str) -> str:
    """One ExecStart= argument that reaches the program exactly as `text`."""
    return '"' + text.translate(_EXEC) + '"'


def env_assignment(name: str, value: str) -> str:
    """An Environment= value: "NAME=value" with value passed through unchanged."""
    return '"' + f"{name}={value}".translate(_ENV) + '"'


def plain(text: str) -> str:
    """Free text for Description= and similar: one line, specifiers disarmed.

    Backslashes at the end are dropped: systemd reads a line ending in one as continued on the
    next line of the unit file, and Description= has no escape that would keep it literal.
    """
    return _TRAILING.sub("", " ".join(text.split())).replace("%", "%%")
