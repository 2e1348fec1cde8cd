"""bamon add NAME -c COMMAND: a new check, validated, written to scripts.d/, live at once."""

from __future__ import annotations

import argparse
from typing import Any

from bamon import audit
from bamon.cli.context import Context
from bamon.config.timespec import check_schedule
from bamon.config.write import add_script, locked
from bamon.errors import BamonError


def register(sub: Any) -> None:
    p = sub.add_parser("add", help="add a check")
    p.add_argument("name")
    p.add_argument("-c", "--command", required=True, help="the shell command (exit 0 = OK)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("-i", "--interval", help='seconds or a span: 30, "5min"')
    when.add_argument("-s", "--schedule", help='OnCalendar ("Mon..Fri *-*-* 02:00") or cron ("*/5 * * * *")')
    p.add_argument("-d", "--description")
    p.add_argument("-t", "--timeout", help="seconds or a span (default: sandbox.timeout)")
    p.add_argument("--severity", choices=["info", "warning", "critical"])
    p.add_argument("--tag", action="append", dest="tags", help="a label (repeatable)")
    p.add_argument("--user", dest="run_as", metavar="USER", help="run the command as USER, or dynamic")
    p.add_argument("--sandbox", choices=["minimal", "balanced", "strict"])
    p.add_argument("--network", choices=["any", "localhost", "none"], help="what network the check may use")
    p.add_argument("-e", "--env", action="append", metavar="NAME=VALUE", help="environment (repeatable)")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--enabled", action="store_true", help="schedule it at once (the default)")
    state.add_argument("--disabled", action="store_true", help="add it without a timer")
    p.set_defaults(run=run)


def _number_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def entry(args: argparse.Namespace) -> dict[str, Any]:
    """The YAML mapping for the new script, with only the keys the operator gave."""
    data: dict[str, Any] = {"name": args.name, "command": args.command}
    optional = {
        "interval": _number_or_text(args.interval) if args.interval else None,
        "schedule": args.schedule, "description": args.description,
        "timeout": _number_or_text(args.timeout) if args.timeout else None,
        "severity": args.severity, "tags": args.tags, "user": args.run_as, "sandbox": args.sandbox,
        "network": args.network,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if args.env:
        pairs = [e.split("=", 1) for e in args.env]
        if any(len(p) != 2 for p in pairs):
            raise BamonError("--env takes NAME=VALUE", "for example: --env API_URL=http://localhost:8080")
        data["environment"] = dict(pairs)
    if args.disabled:
        data["enabled"] = False
    return data


def run(args: argparse.Namespace, ctx: Context) -> int:
    data = entry(args)
    if args.schedule:
        problems = ctx.systemd.calendar_errors([_oncalendar(args.schedule)])
        if problems:
            raise BamonError(f"schedule {args.schedule!r}: {next(iter(problems.values()))}",
                             'use an OnCalendar expression such as "Mon..Fri *-*-* 02:00" or cron "*/5 * * * *"')
    with locked(ctx.paths):
        existing = ctx.config(fresh=True).script(args.name)
        if existing is not None:
            raise BamonError(f"a script named {args.name!r} already exists",
                             f"it is defined in {existing.source}; remove it first or pick another name")
        path, text = add_script(ctx.paths, data)
        audit.record(ctx.journal, "add", args.name, after=text)
        ctx.reload()
    print(f"added {args.name} ({path})")
    return 0


def _oncalendar(schedule: str) -> str:
    try:
        return check_schedule(schedule)
    except ValueError as exc:
        raise BamonError(f"schedule {schedule!r}: {exc}", "see man systemd.time for OnCalendar syntax") from None
