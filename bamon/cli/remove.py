"""bamon remove NAME: stop the check, delete its entry, its units and its state."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

from bamon import audit
from bamon.cli.context import Context
from bamon.config.write import edit_script, locked
from bamon.errors import BamonError
from bamon.notify import escalation


def register(sub: Any) -> None:
    p = sub.add_parser("remove", help="remove a check")
    p.add_argument("name")
    p.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    with locked(ctx.paths):
        script = ctx.script(args.name)
        if not args.force:
            if not sys.stdin.isatty():
                raise BamonError(f"not removing {args.name} without confirmation", "pass -f to remove it")
            if input(f"Remove {args.name} ({script.source})? [y/N] ").strip().lower() not in ("y", "yes"):
                print("nothing removed")
                return 1
        if ctx.live:
            ctx.systemd.stop(script.timer, script.unit)
        before, _ = edit_script(script.source, script.name, ctx.config().main_file, lambda entry: False)
        audit.record(ctx.journal, "remove", script.name, before=before)
        ctx.reload()
        if ctx.live:  # the units and state of this name belong to the config systemd runs
            ctx.systemd.reset_failed(script.unit)
            for base in ctx.paths.check_state_dirs:
                shutil.rmtree(base / script.name, ignore_errors=True)
            escalation.forget(ctx.systemd, script.name, ctx.paths.alert_state_dir)  # its alert state too
    print(f"removed {args.name}")
    return 0
