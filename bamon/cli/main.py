"""The `bamon` command: global options, the table of commands, clean errors."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from bamon import __version__
from bamon.cli import (
    accounts,
    add,
    alert,
    alerts,
    analytics,
    apply,
    audit_cmd,
    completions,
    compliance,
    config_cmd,
    control,
    fleet,
    history,
    log,
    metrics,
    now,
    performance,
    remove,
    reset,
    scan,
    secret,
    security,
    silence,
    status,
    template,
    toggle,
)
from bamon.cli import list as list_cmd
from bamon.cli.context import Context
from bamon.cli.output import error
from bamon.cli.platform import require_systemd
from bamon.errors import BamonError
from bamon.paths import resolve

# One module per command; each registers its parser(s) and sets `run`.
COMMANDS = (status, list_cmd, add, remove, toggle, now, control, log, history, analytics, config_cmd, apply,
            performance,
            alerts, alert, secret, silence, completions,
            template,
            reset,  # reset: recovery's circuit breaker
            accounts,
            metrics,
            fleet,
            security, audit_cmd, scan, compliance)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        error(message, f"see `{self.prog} --help`")
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bamon", description="Health checks on systemd timers: run, record, alert.")
    p.add_argument("-V", "--version", action="version", version=f"bamon {__version__}")
    p.add_argument("--user", action="store_true", help="your own checks, under your systemd user manager")
    p.add_argument("--config", metavar="PATH", help="another config.yaml (default /etc/bamon/config.yaml)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    words = sys.argv[1:] if argv is None else argv
    # Everything after the first "--" is for the tool underneath (journalctl for `bamon log`).
    cut = words.index("--") if "--" in words else len(words)
    # Options no parser declares are for commands that take free --NAME VALUE pairs
    # (`bamon template create --url …`: the template declares them); any other command refuses them.
    args, extra = p.parse_known_args(words[:cut])
    args.extra = extra
    if extra and not getattr(args, "accepts_options", False):
        p.error(f"unrecognized arguments: {' '.join(args.extra)}")
    args.passthrough = words[cut + 1:]
    if args.passthrough and not getattr(args, "accepts_passthrough", False):
        p.error(f"unexpected arguments after --: {' '.join(args.passthrough)}")
    if not getattr(args, "run", None):
        p.print_help()
        return 2
    try:
        require_systemd(args, p)
        return int(args.run(args, Context(resolve(args.user, args.config))))
    except BamonError as exc:
        error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0  # `bamon status | head`
    except PermissionError as exc:
        error(f"permission denied: {exc.filename or exc}",
              "run as root (sudo bamon …), or use --user for your own checks")
        return 1


if __name__ == "__main__":
    sys.exit(main())
