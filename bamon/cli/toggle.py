"""bamon enable NAME / bamon disable NAME: keep the check, start or stop its timer."""

from __future__ import annotations

import argparse
from typing import Any

from bamon import manage
from bamon.cli.context import Context


def register(sub: Any) -> None:
    for verb, helptext in (("enable", "give a check its timer again"), ("disable", "stop scheduling a check")):
        p = sub.add_parser(verb, help=helptext)
        p.add_argument("name")
        p.set_defaults(run=run, enabled=verb == "enable")


def run(args: argparse.Namespace, ctx: Context) -> int:
    verb = "enable" if args.enabled else "disable"
    if manage.set_enabled(ctx, args.name, args.enabled) is None:
        print(f"{args.name} is already {verb}d")
    else:
        print(f"{verb}d {args.name}")
    return 0
