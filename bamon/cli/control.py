"""bamon start / stop / restart: all timers at once, through bamon.target.

The original BAMON's options are accepted: there is no daemon here (systemd's timers are it),
so `--daemon` is simply the only mode; `--config FILE` names the file the original's daemon
would have read, which systemd cannot be pointed at per start; `stop --force` also ends the
checks that are running at that moment.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import note
from bamon.systemd import Systemd
from bamon.units import naming

_HELP = {"start": "start all check timers", "stop": "stop all check timers",
         "restart": "restart all check timers"}


def register(sub: Any) -> None:
    for verb, helptext in _HELP.items():
        p = sub.add_parser(verb, help=helptext)
        if verb == "stop":
            p.add_argument("-f", "--force", action="store_true", help="also stop the checks running now")
        else:
            p.add_argument("-d", "--daemon", action="store_true",
                           help="accepted for the original BAMON: systemd's timers are always in the background")
            p.add_argument("-c", "--config", dest="legacy_config", metavar="FILE",
                           help="accepted for the original BAMON: systemd reads the configured location")
        p.set_defaults(run=run, verb=verb)


def _legacy_notes(args: argparse.Namespace, ctx: Context) -> None:
    if getattr(args, "daemon", False):
        note("--daemon: bamon has no daemon of its own; systemd's timers run the checks, always in the background")
    legacy = getattr(args, "legacy_config", None)
    if legacy and Path(legacy).resolve() != ctx.paths.config_file.resolve():
        note(f"--config {legacy}: systemd runs the checks of {ctx.paths.config_file}; "
             "copy the file there (or into scripts.d/) to use it")


def _start(args: argparse.Namespace, systemd: Systemd) -> None:
    if not systemd.is_enabled(naming.TARGET):
        systemd.enable(naming.TARGET)  # user mode and pip installs: keep it on after reboot
    systemd.start(naming.TARGET)


def _stop(args: argparse.Namespace, systemd: Systemd) -> None:
    systemd.stop(naming.TARGET)  # stops the timers; a run in progress finishes
    if args.force:
        running = [unit for unit, state in systemd.list_units(naming.UNIT_GLOB).items()
                   if unit.endswith(".service") and state.active in ("activating", "deactivating")]
        if running:
            systemd.stop(*running)


def _restart(args: argparse.Namespace, systemd: Systemd) -> None:
    systemd.restart(naming.TARGET)


_ACTIONS = {"start": _start, "stop": _stop, "restart": _restart}


def run(args: argparse.Namespace, ctx: Context) -> int:
    _legacy_notes(args, ctx)
    _ACTIONS[args.verb](args, ctx.systemd)
    state = "active" if ctx.systemd.is_active(naming.TARGET) else "inactive"
    print(f"{naming.TARGET}: {state}")
    return 0
