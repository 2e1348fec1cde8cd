"""bamon enable NAME / bamon disable NAME: keep the check, start or stop its timer."""

from __future__ import annotations

import argparse
from typing import Any

from bamon import audit
from bamon.cli.context import Context
from bamon.config.write import edit_script, locked


def register(sub: Any) -> None:
    for verb, helptext in (("enable", "give a check its timer again"), ("disable", "stop scheduling a check")):
        p = sub.add_parser(verb, help=helptext)
        p.add_argument("name")
        p.set_defaults(run=run, enabled=verb == "enable")


def run(args: argparse.Namespace, ctx: Context) -> int:
    verb = "enable" if args.enabled else "disable"
    with locked(ctx.paths):
        script = ctx.script(args.name)
        if script.enabled == args.enabled:
            print(f"{args.name} is already {verb}d")
            return 0

        def change(entry: Any) -> bool:
            if args.enabled and "enabled" in entry:
                del entry["enabled"]  # true is the default: keep the entry minimal
            else:
                entry["enabled"] = args.enabled
            return True

        if not args.enabled and ctx.live:
            ctx.systemd.stop(script.timer)
        before, after = edit_script(script.source, script.name, ctx.config().main_file, change)
        audit.record(ctx.journal, verb, script.name, before=before, after=after)
        ctx.reload()
    print(f"{verb}d {args.name}")
    return 0
