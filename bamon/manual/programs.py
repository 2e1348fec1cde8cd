"""A manual page for a helper program, made from its module's docstring.

Packages give every program in /usr/bin a page. bamon(1) and the unit pages cover bamon,
bamon-notify and bamon-generator; any other entry point that lands (the outbox drain, a web
service) gets this page from the docstring of the module its entry point names. Nothing is run:
these programs act when started (deliver alerts, bind ports), so --help is not a safe source.
"""

from __future__ import annotations

import importlib

from bamon import __version__
from bamon.manual.roff import header, literal, para


def docstring(entry: str) -> str:
    """The docstring of the module of setup.py's "module:function" entry."""
    module = importlib.import_module(entry.partition(":")[0])
    return (module.__doc__ or "").strip()


def render(program: str, doc: str, section: int = 8) -> str:
    first, _, rest = doc.partition("\n\n")
    summary = " ".join(first.split()).removeprefix(f"{program}:").strip().rstrip(".")
    summary = summary or f"a program of bamon {__version__}"
    body = "\n.PP\n".join(para(block) for block in rest.split("\n\n") if block.strip())
    return (header(program, section, __version__, "System Administration")
            + f".SH NAME\n{literal(program)} \\-\n{para(summary)}\n"
            + f".SH SYNOPSIS\n.B {literal(program)}\n"
            + (f".SH DESCRIPTION\n{body}\n" if body else "")
            + ".SH SEE ALSO\n.BR bamon (1)\n")
