"""bamon apply: write the units into systemd's unit directory and reload.

For installs that cannot place a generator (pip, Homebrew, snap): the same pure function as
the generator, written to /etc/systemd/system (user mode: ~/.config/systemd/user), with units
of removed scripts pruned. Where the generator is installed, apply only reloads systemd (which re-runs it).
"""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context


def register(sub: Any) -> None:
    p = sub.add_parser("apply", help="write units without the generator, then reload systemd")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    ctx.reload()
    how = ("bamon-generator regenerated them" if ctx.paths.generator_installed()
           else f"units written to {ctx.paths.unit_dir}")
    print(f"applied {len(ctx.config().scripts)} check(s): {how}")
    return 0
