"""Quoting text for unit files so that systemd hands it over byte for byte.

systemd processes an ExecStart= argument in three steps: it unquotes "…" (with C escapes),
expands specifiers (%x), and at run time expands $VAR. We therefore escape in all three
layers; Environment= values skip the $ layer (systemd does not expand variables there).
"""

from __future__ import annotations

import re

_TRAILING = re.compile(r"[\s\\]+$")  # whitespace and backslashes at the end of a line
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _c_quote(text: str) -> str:
    out = []
    for ch in text:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def exec_arg(text: str) -> str:
    """One ExecStart= argument that reaches the program exactly as `text`."""
    return '"' + _c_quote(text).replace("%", "%%").replace("$", "$$") + '"'


def env_assignment(name: str, value: str) -> str:
    """An Environment= value: "NAME=value" with value passed through unchanged."""
    return '"' + _c_quote(f"{name}={value}").replace("%", "%%") + '"'


def plain(text: str) -> str:
    """Free text for Description= and similar: one line, specifiers disarmed.

    Backslashes at the end are dropped: systemd reads a line ending in one as continued on the
    next line of the unit file, and Description= has no escape that would keep it literal.
    """
    return _TRAILING.sub("", " ".join(text.split())).replace("%", "%%")
