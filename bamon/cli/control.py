"""bamon start / stop / restart: all timers at once, through bamon.target."""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.units import naming


def register(sub: Any) -> None:
    for verb, helptext in (("start", "start all check timers"), ("stop", "stop all check timers"),
                           ("restart", "restart all check timers")):
        p = sub.add_parser(verb, help=helptext)
        p.set_defaults(run=run, verb=verb)


def run(args: argparse.Namespace, ctx: Context) -> int:
    systemd = ctx.systemd
    if args.verb == "stop":
        systemd.stop(naming.TARGET)
    elif args.verb == "restart":
        systemd.restart(naming.TARGET)
    else:
        if not systemd.is_enabled(naming.TARGET):
            systemd.enable(naming.TARGET)  # user mode and pip installs: keep it on after reboot
        systemd.start(naming.TARGET)
    state = "active" if systemd.is_active(naming.TARGET) else "inactive"
    print(f"{naming.TARGET}: {state}")
    return 0
