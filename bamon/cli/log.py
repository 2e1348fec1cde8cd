"""bamon log: the checks' journal, with the original BAMON's options on top of journalctl.

journalctl selects (which units, --since/--until, levels as PRIORITY= matches, and anything
after `--`); bamon/cli/logview.py searches, adds context lines and prints text or JSON lines.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from typing import Any

from bamon.cli import central
from bamon.cli.context import Context
from bamon.cli.logview import View, show
from bamon.cli.output import use_color
from bamon.errors import BamonError
from bamon.units import naming

# The original's levels, as journald priorities; syslog's own names are accepted as well.
LEVELS = {"ERROR": (0, 1, 2, 3), "WARN": (4,), "INFO": (5, 6), "DEBUG": (7,)}
ALIASES = {"EMERG": "ERROR", "ALERT": "ERROR", "CRIT": "ERROR", "ERR": "ERROR", "WARNING": "WARN",
           "NOTICE": "INFO"}
# '1h', '2d', '30min' in the original mean "that long ago"; journalctl writes it "-1h".
_RELATIVE = re.compile(r"^\d+\s*[a-z]+$")


def register(sub: Any) -> None:
    p = sub.add_parser("log", help="output and events of the checks (journald)")
    p.add_argument("name", nargs="?", help="only this check")
    p.add_argument("-n", "--lines", type=int, default=50, help="the last N entries (default 50; 0: none)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new entries")
    p.add_argument("-l", "--level", help="ERROR, WARN, INFO, DEBUG (comma-separated)")
    p.add_argument("-s", "--since", help="1h, 2d, 'yesterday', '2026-01-31 12:00'")
    p.add_argument("-u", "--until", help="same forms as --since")
    p.add_argument("-g", "--search", "--grep", dest="search", metavar="PATTERN",
                   help="only entries containing PATTERN (case-insensitive unless it has capitals)")
    p.add_argument("-r", "--regex", action="store_true", help="PATTERN is a regular expression")
    p.add_argument("-b", "--before", type=int, default=0, metavar="N", help="N entries before each match")
    p.add_argument("-a", "--after", type=int, default=0, metavar="N", help="N entries after each match")
    p.add_argument("-i", "--info", action="store_true", help="where the logs are kept, their size, retention")
    p.add_argument("-o", "--format", "--output", dest="format", choices=["text", "json"], default="text",
                   help="text, or JSON lines with timestamp, level, script, message")
    p.add_argument("--no-color", action="store_true", help="no colours (they are only used on a terminal)")
    p.add_argument("--reverse", action="store_true", help="newest first")
    central.add_options(p)
    p.set_defaults(run=run, accepts_passthrough=True)  # `bamon log … -- JOURNALCTL-ARGS`


def priorities(levels: str) -> list[int]:
    """ERROR,WARN -> [0, 1, 2, 3, 4]; an unknown level is an error."""
    found: list[int] = []
    for word in (w.strip().upper() for w in levels.split(",") if w.strip()):
        name = ALIASES.get(word, word)
        if name not in LEVELS:
            raise BamonError(f"unknown level {word!r}", "levels: " + ", ".join(LEVELS) + " (comma-separated)")
        found += LEVELS[name]
    return sorted(set(found))


def when(text: str) -> str:
    return f"-{text.replace(' ', '')}" if _RELATIVE.match(text.strip()) else text


def sources(args: argparse.Namespace, ctx: Context, remote: bool = False) -> list[str]:
    """journalctl matches for the checks asked for."""
    if args.name and ctx.journal.user_mode:
        # journald often cannot tell which user unit a line came from (systemd 252), but the
        # unit's syslog identifier is always there: the output and the run records
        return ["-t", f"bamon-{central.check(ctx, args.name, remote)[0]}"]
    if args.name:
        unit = naming.service(central.check(ctx, args.name, remote)[0])
        # the check's own unit, plus the notifier that recorded its failures
        return ["-u", unit, "-u", f"{naming.NOTIFY_TEMPLATE}{unit.removesuffix('.service')}.service"]
    return ["-u", naming.UNIT_GLOB]


def journalctl_args(args: argparse.Namespace, ctx: Context, remote: bool = False) -> list[str]:
    argv = sources(args, ctx, remote)
    argv += [f"--since={when(args.since)}"] if args.since else []
    argv += [f"--until={when(args.until)}"] if args.until else []
    # a search keeps the whole range: the last N are counted after it, context needs neighbours
    argv += [f"--lines={args.lines}"] if args.search is None or args.follow else []
    argv += ["--follow"] if args.follow else []
    argv += ["--reverse"] if args.reverse else []
    argv += list(args.passthrough)
    return argv + (sorted({f"PRIORITY={p}" for p in priorities(args.level)}) if args.level else [])


def _matcher(args: argparse.Namespace) -> re.Pattern[str] | None:
    if args.search is None:
        return None
    pattern = args.search if args.regex else re.escape(args.search)
    flags = 0 if any(ch.isupper() for ch in args.search) else re.IGNORECASE  # journalctl's smart case
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise BamonError(f"--search {args.search!r} is not a regular expression: {exc}",
                         "drop --regex to search for the text as written") from None


def info(ctx: Context) -> int:
    usage = subprocess.run([*ctx.journal.base_command(), "--disk-usage"], capture_output=True, text=True,
                           check=False)
    if ctx.journal.directory is not None:
        print(f"Location: the journal files in {ctx.journal.directory}")
        print(f"Size: {(usage.stdout or usage.stderr).strip() or 'unknown'}")
        return 0
    scope = "your user journal" if ctx.user_mode else "the system journal"
    print(f"Location: journald, {scope} (/var/log/journal, or /run/log/journal when not persistent)")
    print(f"Size: {(usage.stdout or usage.stderr).strip() or 'unknown'}")
    print(f"Retention: bamon reads {ctx.config().daemon.history_retention_days} days of history "
          "(daemon.history_retention_days); journald's own limits: SystemMaxUse=, MaxRetentionSec= "
          "in journald.conf")
    print(f"Read them directly: journalctl {'--user ' if ctx.user_mode else ''}-u '{naming.UNIT_GLOB}'")
    return 0


def run(args: argparse.Namespace, ctx: Context) -> int:
    remote = central.use(args, ctx)
    if args.info:
        return info(ctx)
    for option in ("lines", "before", "after"):
        if getattr(args, option) < 0:
            raise BamonError(f"--{option} cannot be negative", f"for example: --{option} 5")
    if args.lines == 0 and not args.follow:
        return 0  # the original printed nothing for --lines 0
    view = View(matcher=_matcher(args), before=args.before, after=args.after,
                json=args.format == "json", color=use_color() and not args.no_color)
    show(ctx.journal.stream(journalctl_args(args, ctx, remote)), view, None if args.follow else args.lines)
    return 0
