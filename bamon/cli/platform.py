"""Which commands work where there is no systemd (macOS with Homebrew), and a clear refusal of the rest.

bamon schedules, runs and reads checks through systemd and journald. Without them a few commands
still do their whole job; every other one stops with one line naming those that work, instead of
failing somewhere inside with a missing systemctl.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from bamon.errors import BamonError


@dataclass(frozen=True)
class Portable:
    path: tuple[str, ...]  # the command words: ("config", "validate")
    why: str
    flag: str | None = None  # the option (argparse dest) it needs to run without systemd

    @property
    def usage(self) -> str:
        return " ".join(("bamon", *self.path, *([f"--{self.flag}"] if self.flag else [])))


# Commands named here and not (yet) in the parser are left out of the manual and of messages.
PORTABLE = (
    Portable(("config", "validate"), "checks the configuration and reports every problem"),
    Portable(("config", "show"), "prints the effective configuration"),
    Portable(("now",), "runs the checks directly, without systemd, and prints the results", "local"),
    Portable(("template",), "lists, shows and creates check templates"),
    Portable(("alert", "test"), "sends a test alert through a configured channel"),
    Portable(("completions",), "prints shell completions"),
    Portable(("scan",), "scans the checks' commands and scripts (shellcheck, risky patterns, permissions)"),
    Portable(("fleet", "status"), "reads every host's checks from Prometheus"),
)


def has_systemd() -> bool:
    """False where systemd cannot exist at all. (Linux without systemd as init still has the
    tools, and `bamon --user`, `apply` and the tests' fakes rely on reaching them.)"""
    return sys.platform != "darwin"


def command_path(args: argparse.Namespace) -> tuple[str, ...]:
    words = (getattr(args, "command", None), getattr(args, "verb", None))
    return tuple(w for w in words if isinstance(w, str))


def works_without_systemd(args: argparse.Namespace) -> bool:
    path = command_path(args)
    return any(path[:len(p.path)] == p.path and (p.flag is None or getattr(args, p.flag, False))
               for p in PORTABLE)


def require_systemd(args: argparse.Namespace) -> None:
    """Raise a clear error when this command needs systemd and there is none."""
    if has_systemd() or works_without_systemd(args):
        return
    from bamon.cli.tree import bamon_tree  # the whole parser: the one that ran knows one command

    known = {c.path for c in bamon_tree().walk()}
    usable = ", ".join(p.usage for p in PORTABLE if p.path in known)
    raise BamonError(f"`bamon {' '.join(command_path(args))}` needs systemd, which this system does not have",
                     f"without systemd these work: {usable}")
