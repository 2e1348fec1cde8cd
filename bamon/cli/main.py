"""The `bamon` command: global options, the table of commands, clean errors."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from bamon import __version__
from bamon.cli.context import Context
from bamon.cli.output import error
from bamon.cli.platform import require_systemd
from bamon.errors import BamonError
from bamon.paths import resolve

# One module per command (bamon/cli/<module>.py); each registers its parser(s) and sets `run`.
# The words each module registers are written here so that `bamon history …` imports history's
# module alone: importing all of them costs ~100 ms, which every command would otherwise pay.
# tests/unit/test_cli_table.py holds this table to what the modules really register.
COMMANDS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "list": ("list",),
    "add": ("add",),
    "remove": ("remove",),
    "toggle": ("enable", "disable"),
    "now": ("now",),
    "control": ("start", "stop", "restart"),
    "log": ("log",),
    "history": ("history",),
    "analytics": ("analytics",),
    "config_cmd": ("config",),
    "apply": ("apply",),
    "performance": ("performance",),
    "alerts": ("alerts",),
    "alert": ("alert",),
    "secret": ("secret",),
    "silence": ("silence",),
    "completions": ("completions",),
    "template": ("template",),
    "reset": ("reset",),  # recovery's circuit breaker
    "accounts": ("user", "token"),
    "metrics": ("metrics",),
    "fleet": ("fleet",),
    "security": ("security",),
    "audit_cmd": ("audit",),
    "scan": ("scan",),
    "compliance": ("compliance",),
}
_MODULE_OF = {word: module for module, words in COMMANDS.items() for word in words}
_GLOBAL_WITH_VALUE = ("--config",)  # the global options that take the next word as their value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        error(message, f"see `{self.prog} --help`")
        sys.exit(2)


def command_word(words: list[str]) -> str | None:
    """The command the words name, if they name one: the first word that is not a global option
    or its value (`bamon --config x.yaml history web` → history)."""
    taking_value = False
    for word in words:
        if taking_value:
            taking_value = False
        elif word in _GLOBAL_WITH_VALUE:
            taking_value = True
        elif not word.startswith("-"):
            return word if word in _MODULE_OF else None
    return None


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """bamon's parser: every command, or only `command`'s when the words name one (help, the
    manual pages and a mistyped command get all of them)."""
    p = _Parser(prog="bamon", description="Health checks on systemd timers: run, record, alert.")
    p.add_argument("-V", "--version", action="version", version=f"bamon {__version__}")
    p.add_argument("--user", action="store_true", help="your own checks, under your systemd user manager")
    p.add_argument("--config", metavar="PATH", help="another config.yaml (default /etc/bamon/config.yaml)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = [_MODULE_OF[command]] if command in _MODULE_OF else list(COMMANDS)
    for name in names:
        importlib.import_module(f"bamon.cli.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    # Everything after the first "--" is for the tool underneath (journalctl for `bamon log`).
    cut = words.index("--") if "--" in words else len(words)
    p = parser(command_word(words[:cut]))
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
        require_systemd(args)
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
