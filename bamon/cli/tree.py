"""The command tree of the `bamon` argument parser, as plain data.

The manual page (bamon.manual) and the shell completions (bamon.cli.completion) are generated
from this walk, so neither can drift from what the parser accepts. It reads argparse's public
`_actions` structure, the one place argparse keeps it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

# Arguments whose value is the name of a configured check, so completion offers check names:
# any argument stored as `name`, except in commands (and below) where a name is something else:
# `add` names a new check, `secret` a secret.
CHECK_NAME_DESTS = frozenset({"name", "names"})
OTHER_NAMES = (("add",), ("secret",))


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]  # ("-n", "--name"); empty for a positional
    dest: str
    metavar: str | None  # None: a switch that takes no value
    help: str
    choices: tuple[str, ...] = ()
    check_name: bool = False  # its value is a configured check's name
    required: bool = False
    repeatable: bool = False

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # () for bamon itself, ("config", "show") for `bamon config show`
    help: str
    options: tuple[Option, ...]
    positionals: tuple[Option, ...]
    subcommands: tuple[Command, ...] = field(default=())

    @property
    def name(self) -> str:
        return " ".join(("bamon", *self.path))

    def walk(self) -> list[Command]:
        """This command and every command below it, depth first."""
        return [self, *(c for sub in self.subcommands for c in sub.walk())]


def _metavar(action: argparse.Action) -> str | None:
    if action.nargs == 0:
        return None
    if isinstance(action.metavar, str):
        return action.metavar
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest.upper()


def _option(action: argparse.Action, path: tuple[str, ...]) -> Option:
    is_check = action.dest in CHECK_NAME_DESTS and not any(path[:len(p)] == p for p in OTHER_NAMES)
    return Option(
        flags=tuple(action.option_strings),
        dest=action.dest,
        metavar=_metavar(action),
        help=" ".join((action.help or "").split()) if action.help != argparse.SUPPRESS else "",
        choices=tuple(str(c) for c in action.choices) if action.choices is not None else (),
        check_name=is_check,
        required=bool(action.required),
        repeatable=isinstance(action, (argparse._AppendAction, argparse._CountAction)),
    )


def command_tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), helptext: str = "") -> Command:
    """The Command for parser and, recursively, for each of its subcommands."""
    options: list[Option] = []
    positionals: list[Option] = []
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias of a command already listed
                    continue
                seen.add(id(sub))
                subcommands.append(command_tree(sub, (*path, name), helps.get(name, "")))
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            options.append(_option(action, path))
        else:
            positionals.append(_option(action, path))
    return Command(path, helptext or parser.description or "", tuple(options), tuple(positionals),
                   tuple(subcommands))


def bamon_tree() -> Command:
    """The tree of the real `bamon` parser."""
    from bamon.cli.main import parser  # here: main imports this module's users

    return command_tree(parser())
