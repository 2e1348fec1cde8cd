"""bamon log: the checks' journal, through journalctl (anything after -- is passed on)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from bamon.cli.context import Context
from bamon.errors import BamonError
from bamon.units import naming

# syslog priorities by name, as journalctl knows them
LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "warn": 4,
          "notice": 5, "info": 6, "debug": 7}


def register(sub: Any) -> None:
    p = sub.add_parser("log", help="output and events of the checks (journalctl)")
    p.add_argument("name", nargs="?", help="only this check")
    p.add_argument("-n", "--lines", type=int, default=None, help="show the last N entries")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new entries")
    p.add_argument("-l", "--level", help="comma-separated levels, e.g. err,warning")
    p.add_argument("-s", "--since", help='e.g. "1h ago", "today", "2026-01-01 10:00"')
    p.add_argument("-u", "--until")
    p.add_argument("-g", "--grep", metavar="PATTERN", help="only entries whose message matches")
    p.add_argument("-r", "--reverse", action="store_true", help="newest first")
    p.add_argument("-o", "--output", choices=["text", "json"], default="text")
    p.add_argument("--info", action="store_true", help="where the logs are kept and how much space they take")
    p.set_defaults(run=run, accepts_passthrough=True)  # `bamon log … -- JOURNALCTL-ARGS`


def command(args: argparse.Namespace, ctx: Context) -> list[str]:
    """The journalctl command line for these options."""
    argv = ctx.journal.base_command()
    if args.info:
        return argv + ["--disk-usage"]
    if args.name and ctx.user_mode:
        # journald often cannot tell which user unit a line came from (systemd 252), but the
        # unit's syslog identifier is always there: the output and the run records
        argv += ["-t", f"bamon-{ctx.script(args.name).name}"]
    elif args.name:
        unit = naming.service(ctx.script(args.name).name)
        # the check's own unit, plus the notifier that recorded its failures
        argv += ["-u", unit, "-u", f"{naming.NOTIFY_TEMPLATE}{unit.removesuffix('.service')}.service"]
    else:
        argv += ["-u", naming.UNIT_GLOB]
    argv += [f"--lines={args.lines}"] if args.lines is not None else []
    argv += ["--follow"] if args.follow else []
    argv += [f"--since={args.since}"] if args.since else []
    argv += [f"--until={args.until}"] if args.until else []
    argv += [f"--grep={args.grep}"] if args.grep else []
    argv += ["--reverse"] if args.reverse else []
    argv += ["-o", "json"] if args.output == "json" else ["-o", "short-iso"]
    if args.level:
        try:
            argv += [f"PRIORITY={LEVELS[level.strip().lower()]}" for level in args.level.split(",")]
        except KeyError as exc:
            raise BamonError(f"unknown level {exc.args[0]!r}", "levels: " + ", ".join(LEVELS)) from None
    return argv + list(args.passthrough)


def run(args: argparse.Namespace, ctx: Context) -> int:
    argv = command(args, ctx)
    sys.stdout.flush()
    if args.follow:
        os.execvp(argv[0], argv)  # hand the terminal to journalctl; Ctrl-C ends it cleanly
    return subprocess.run(argv, check=False).returncode
