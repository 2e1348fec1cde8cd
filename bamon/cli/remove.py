"""bamon remove NAME: stop the check, delete its entry, its units and its state."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bamon import manage
from bamon.cli.context import Context
from bamon.errors import BamonError


def register(sub: Any) -> None:
    p = sub.add_parser("remove", help="remove a check")
    p.add_argument("name")
    p.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    def confirm(source: str) -> bool:
        if args.force:
            return True
        if not sys.stdin.isatty():
            raise BamonError(f"not removing {args.name} without confirmation", "pass -f to remove it")
        return input(f"Remove {args.name} ({source})? [y/N] ").strip().lower() in ("y", "yes")

    if manage.remove(ctx, args.name, confirm=confirm) is None:
        print("nothing removed")
        return 1
    print(f"removed {args.name}")
    return 0
