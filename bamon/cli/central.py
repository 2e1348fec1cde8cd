"""--journal-dir DIR and --host H for `bamon history` and `bamon log`: read a central journal.

systemd-journal-upload on every host sends its journal to systemd-journal-remote on a log host,
which keeps it as journal files in a directory (docs/fleet.md). There the checks are not in
the local config: a check is named as it is on its host, and read as bamon reads it there
(the local config's settings of a check of the same name are used when there is one).
"""

from __future__ import annotations

import argparse
import functools
import re
from pathlib import Path
from typing import Any

from bamon.cli.context import Context
from bamon.config import schema
from bamon.config.model import Config, Script
from bamon.errors import BamonError


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    """A check's name as the schema allows it (scripts: name). Compiled on first use: reading the
    schema costs ~10 ms that `bamon history` without --journal-dir should not pay."""
    return re.compile(schema.script_schema()["properties"]["name"]["pattern"])


def add_options(p: Any) -> None:
    p.add_argument("--journal-dir", metavar="DIR", type=Path,
                   help="read the journal files in DIR (systemd-journal-remote's, e.g. /var/log/journal/remote) "
                        "instead of this machine's journal")
    p.add_argument("--host", metavar="HOST", help="only the entries of this host (its hostname: _HOSTNAME=)")


def use(args: argparse.Namespace, ctx: Context) -> bool:
    """Point ctx.journal at the directory and host asked for; True when one was asked for."""
    if args.journal_dir is None and args.host is None:
        return False
    if args.journal_dir is not None and not args.journal_dir.is_dir():
        raise BamonError(f"--journal-dir {args.journal_dir}: no such directory",
                         "systemd-journal-remote writes to /var/log/journal/remote unless told otherwise")
    ctx.journal_dir, ctx.journal_host = args.journal_dir, args.host
    return True


def check(ctx: Context, name: str, central: bool) -> tuple[str, str]:
    """(name, output format) of the check to read: the local config's, or for a central
    journal any well-formed name (read as plain output unless the local config says otherwise)."""
    if not central:
        own = ctx.script(name)
        return own.name, own.output_format
    local = _config(ctx)
    script: Script | None = local.script(name) if local is not None else None
    if script is not None:
        return script.name, script.output_format
    if not _name_pattern().match(name):
        raise BamonError(f"{name!r} is not a check name", "names are letters, digits, '.', '_' and '-', up to 64")
    return name, "plain"


def retention_days(ctx: Context) -> int:
    """daemon.history_retention_days of the local config, or its default where there is none."""
    local = _config(ctx)
    if local is not None:
        return local.daemon.history_retention_days
    return int(schema.defaults(schema.section("daemon"))["history_retention_days"])


def _config(ctx: Context) -> Config | None:
    try:
        return ctx.config()
    except BamonError:  # a log host needs no bamon config of its own
        return None
