"""Writing man(7) source: escaping text so roff prints it as written."""

from __future__ import annotations

import os
import re
import textwrap
from datetime import UTC, datetime


def text(value: str) -> str:
    """Running text: backslashes printed as such, no line taken for a request."""
    escaped = value.replace("\\", "\\e")
    # A line starting with . or ' would be read as a request.
    return re.sub(r"(?m)^([.'])", r"\\&\1", escaped)


def para(value: str) -> str:
    """A paragraph of running text, wrapped so every source line stays under 80 bytes (72
    characters leave room for the odd multi-byte one, and for the escapes text() adds)."""
    return text(textwrap.fill(" ".join(value.split()), 72, break_on_hyphens=False))


def sentence(value: str) -> str:
    """Capitalised and closed with a full stop: help strings are written as fragments."""
    value = value.strip()
    if not value:
        return value
    value = value[0].upper() + value[1:]
    return value if value.endswith((".", "!", "?")) else value + "."


def literal(value: str) -> str:
    """A command, option or file name: hyphens are real minus signs (copy-paste safe)."""
    return text(value).replace("-", "\\-")


def bold(value: str) -> str:
    return f"\\fB{literal(value)}\\fR"


def italic(value: str) -> str:
    return f"\\fI{literal(value)}\\fR"


def quoted(value: str) -> str:
    """An argument of a macro such as .SS: in double quotes, inner quotes doubled."""
    return '"' + value.replace('"', '""') + '"'


def page_date() -> str:
    """The page's date: the build's (SOURCE_DATE_EPOCH, as Debian and rpm set it) for reproducible pages."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%d")


def header(name: str, section: int, version: str, manual: str) -> str:
    return f'.TH {name.upper()} {section} {page_date()} "bamon {version}" "{manual}"\n'
