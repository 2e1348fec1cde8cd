"""bamon list: the configured checks and how they are scheduled."""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import NOTHING_CONFIGURED, print_json, table
from bamon.config.model import Script
from bamon.config.timespec import format_span


def register(sub: Any) -> None:
    p = sub.add_parser("list", help="configured checks")
    group = p.add_mutually_exclusive_group()
    group.add_argument("-e", "--enabled-only", action="store_true")
    group.add_argument("-d", "--disabled-only", action="store_true")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def schedule_text(s: Script) -> str:
    return s.schedule if s.schedule else f"every {format_span(s.interval or 0)}"


def run(args: argparse.Namespace, ctx: Context) -> int:
    scripts = [s for s in ctx.config().scripts
               if not (args.enabled_only and not s.enabled) and not (args.disabled_only and s.enabled)]
    if args.json:
        print_json({"scripts": [{
            "name": s.name, "command": s.command, "enabled": s.enabled, "interval": s.interval,
            "schedule": s.schedule, "timeout": s.limits.timeout, "severity": s.severity,
            "tags": list(s.tags), "description": s.description, "sandbox": s.limits.profile,
            "unit": s.unit, "source": str(s.source),
        } for s in scripts]})
        return 0
    if not scripts:
        print("No scripts match." if ctx.config().scripts else NOTHING_CONFIGURED)
        return 0
    print(table(("NAME", "ENABLED", "SCHEDULE", "TIMEOUT", "SEVERITY", "COMMAND", "DESCRIPTION"),
                [(s.name, "yes" if s.enabled else "no", schedule_text(s), f"{s.limits.timeout}s",
                  s.severity, s.command, s.description) for s in scripts], squeeze="COMMAND"))
    return 0
