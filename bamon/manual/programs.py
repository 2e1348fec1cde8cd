"""A manual page for a helper program, made from its own --help (as help2man would).

Packages give every program in /usr/bin a page. bamon(1) and the unit pages cover bamon,
bamon-notify and bamon-generator; any other entry point that lands (a web service, a helper)
gets this page, so a new program never ships undocumented and the page never drifts from it.
"""

from __future__ import annotations

import contextlib
import importlib
import io

from bamon import __version__
from bamon.manual.roff import header, literal, text


def program_help(entry: str, program: str) -> str:
    """What `program --help` prints, entry being setup.py's "module:function"."""
    module, _, function = entry.partition(":")
    main = getattr(importlib.import_module(module), function)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        import sys

        saved, sys.argv = sys.argv, [program, "--help"]
        try:
            main()
        finally:
            sys.argv = saved
    return out.getvalue()


def render(program: str, helptext: str, section: int = 8) -> str:
    lines = helptext.strip().splitlines()
    usage = next((line for line in lines if line.startswith("usage:")), program)
    summary = next((line.strip() for line in lines[1:] if line.strip() and not line.startswith(" ")), "")
    summary = summary.rstrip(".") or f"a program of bamon {__version__}"
    body = "\n".join(text(line) if line.strip() else "" for line in lines)
    return (header(program, section, __version__, "System Administration")
            + f".SH NAME\n{literal(program)} \\- {text(summary[:1].lower() + summary[1:])}\n"
            + f".SH SYNOPSIS\n{text(usage.removeprefix('usage: '))}\n"
            + f".SH DESCRIPTION\n.nf\n{body}\n.fi\n"
            + ".SH SEE ALSO\n.BR bamon (1)\n")
