"""bamon add NAME -c COMMAND: a new check, validated, written to scripts.d/, live at once.

`--template T --param k=v` makes the command from a template instead (bamon template create
is the same with the template first); both go through manage.add.
"""

from __future__ import annotations

import argparse
from typing import Any

from bamon import manage
from bamon.cli import scan
from bamon.cli.context import Context
from bamon.errors import BamonError


def register(sub: Any) -> None:
    p = sub.add_parser("add", help="add a check")
    p.add_argument("name")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("-c", "--command", help="the shell command (exit 0 = OK)")
    how.add_argument("--template", metavar="TEMPLATE", help="make the command from a template (bamon template list)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a template parameter (repeatable)")
    options(p)
    p.set_defaults(run=run)


def options(p: argparse.ArgumentParser) -> None:
    """The settings of a new check, shared with `bamon template create`."""
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
    p.add_argument("--output-format", choices=["plain", "nagios"],
                   help="nagios for Nagios plugins: exit 1 is WARNING, perfdata are metrics")


def _number_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def pairs(values: list[str] | None, option: str, example: str) -> dict[str, str]:
    """NAME=VALUE arguments as a mapping, or a clear error naming the option."""
    split = [v.split("=", 1) for v in values or ()]
    if any(len(p) != 2 or not p[0] for p in split):
        raise BamonError(f"{option} takes NAME=VALUE", f"for example: {option} {example}")
    return dict((p[0], p[1]) for p in split)


def entry(args: argparse.Namespace, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The YAML mapping for the new script, with only the keys the operator gave."""
    template = getattr(args, "template", None)
    data: dict[str, Any] = {"name": args.name}
    if template:
        data.update(template=template, params={**pairs(getattr(args, "param", None), "--param", "url=https://…"),
                                               **(params or {})})
    else:
        data["command"] = args.command
    optional = {
        "interval": _number_or_text(args.interval) if args.interval else None,
        "schedule": args.schedule, "description": args.description,
        "timeout": _number_or_text(args.timeout) if args.timeout else None,
        "severity": args.severity, "tags": args.tags, "user": args.run_as, "sandbox": args.sandbox,
        "output_format": args.output_format, "network": args.network,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if args.env:
        data["environment"] = pairs(args.env, "--env", "API_URL=http://localhost:8080")
    if args.disabled:
        data["enabled"] = False
    return data


def run(args: argparse.Namespace, ctx: Context) -> int:
    change = manage.add(ctx, entry(args))
    print(f"added {args.name} ({change.path})")
    scan.warn(ctx, ctx.script(args.name))  # added all the same: a warning, not a refusal (manage.add loaded it)
    return 0
