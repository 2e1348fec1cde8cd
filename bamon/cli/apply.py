"""bamon apply: write the units into systemd's unit directory and reload.

For installs that cannot place a generator (pip, Homebrew, snap): the same pure function as
the generator, written to /etc/systemd/system (user mode: ~/.config/systemd/user), with units
of removed scripts pruned. Where the generator is installed, apply only reloads systemd (which re-runs it).
"""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.units import naming
from bamon.units.render import Target, generate
from bamon.units.write import write_units


def register(sub: Any) -> None:
    p = sub.add_parser("apply", help="write units without the generator, then reload systemd")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if ctx.paths.generator_installed():
        ctx.systemd.daemon_reload()  # systemd re-runs bamon-generator: the same units
        print("bamon-generator is installed: reloaded systemd, which regenerated the units")
        return 0
    config = ctx.config()
    generated = generate(config, Target(user_mode=ctx.user_mode))
    removed = write_units(generated, ctx.paths.unit_dir, prune=True)
    ctx.systemd.daemon_reload()
    timers = [u for u in generated.wanted_by_target if u.endswith(".timer")]
    if timers and ctx.systemd.is_active(naming.TARGET):
        ctx.systemd.start(*timers, wait=False)
    print(f"wrote {len(generated.units)} units to {ctx.paths.unit_dir}"
          + (f", removed {len(removed)}" if removed else ""))
    return 0
