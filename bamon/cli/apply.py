"""bamon apply: write the units into systemd's unit directory and reload.

For installs that cannot place a generator (pip, Homebrew, snap): the same pure function as
the generator, written to /etc/systemd/system (user mode: ~/.config/systemd/user), with units
of removed scripts pruned. Where the generator is installed, apply only reloads systemd (which re-runs it).
"""

from __future__ import annotations

import argparse
import pwd
from typing import Any

from bamon import manage
from bamon.cli.context import Context
from bamon.cli.output import note
from bamon.units import hardening


def register(sub: Any) -> None:
    p = sub.add_parser("apply", help="write units without the generator, then reload systemd")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    # hand edits are kept as a version; invalid entries are skipped as at boot (`bamon config
    # reload` refuses invalid files instead); timers of removed checks are stopped
    applied = manage.reload_files(ctx, manage.Actor(via="apply"), strict=False)
    for unit in applied.stopped:
        note(f"stopped {unit}: its check is gone or disabled")
    how = ("bamon-generator regenerated them" if ctx.paths.generator_installed()
           else f"units written to {ctx.paths.unit_dir}")
    print(f"applied {len(ctx.config().scripts)} check(s): {how}")
    _missing_users(ctx)
    return 0


def _missing_users(ctx: Context) -> None:
    """Checks of a user that does not exist fail at every start (status 217/USER): say so now.

    The packages create `bamon` (sysusers.d); a pip install has to do it once by hand.
    """
    config = ctx.config()
    users = {hardening.run_as(s, ctx.user_mode) for s in config.scripts} - {None, "root", "dynamic"}
    for user in sorted(u for u in users if u is not None):
        try:
            pwd.getpwnam(user)
        except KeyError:
            hint = (" (create it: useradd --system --no-create-home --shell /usr/sbin/nologin"
                    " --groups systemd-journal,adm bamon)" if user == hardening.CHECK_USER else "")
            note(f"user {user!r} does not exist: the checks that run as it will fail{hint}")
