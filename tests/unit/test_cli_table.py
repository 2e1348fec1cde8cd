"""The command table in bamon/cli/main.py: it names, for each command module, the words that module
registers, so that one command imports only its own module. These tests hold the table to what
the modules really register, and show that a command parses the same with its parser alone."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import subprocess
import sys

import pytest

import bamon.cli
from bamon.cli.main import COMMANDS, command_word, parser


def _registered(module: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"bamon.cli.{module}").register(sub)
    return set(sub.choices)


@pytest.mark.parametrize("module", list(COMMANDS))
def test_each_module_registers_exactly_its_words(module: str) -> None:
    assert _registered(module) == set(COMMANDS[module])


def test_every_module_with_a_command_is_in_the_table() -> None:
    with_register = set()
    for info in pkgutil.iter_modules(bamon.cli.__path__):
        module = importlib.import_module(f"bamon.cli.{info.name}")
        # config_versions registers verbs under `config`, through config_cmd, not words of its own.
        if callable(getattr(module, "register", None)) and info.name != "config_versions":
            with_register.add(info.name)
    assert with_register == set(COMMANDS)


def test_no_word_is_registered_twice() -> None:
    words = [word for module_words in COMMANDS.values() for word in module_words]
    assert len(words) == len(set(words))


@pytest.mark.parametrize(("words", "command"), [
    (["history", "web", "--since", "7d"], "history"),
    (["--config", "x.yaml", "history", "web"], "history"),
    (["--config", "status", "list"], "list"),  # "status" is the config's path here
    (["--user", "stop", "-f"], "stop"),
    (["user", "add", "ann"], "user"),
    (["histroy", "web"], None),
    (["--help"], None),
    ([], None),
])
def test_the_command_word(words: list[str], command: str | None) -> None:
    assert command_word(words) == command


@pytest.mark.parametrize("argv", [
    ["history", "web", "--since", "7d", "--status", "FAILED", "--json"],
    ["status", "--json"],
    ["config", "rollback", "3"],
    ["stop", "-f"],
    ["token", "create", "--user", "ann", "--label", "ci"],
    ["silence", "add", "--tag", "db", "--for", "2h"],
])
def test_a_command_parses_the_same_with_its_parser_alone(argv: list[str]) -> None:
    alone = vars(parser(command_word(argv)).parse_args(argv))
    whole = vars(parser().parse_args(argv))
    assert alone == whole


def test_a_command_imports_no_other_command_module() -> None:
    code = ("import sys; from bamon.cli.main import parser; parser('history'); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('bamon.cli.'))))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    commands = {f"bamon.cli.{module}" for module in COMMANDS}
    assert loaded & commands == {"bamon.cli.history"}
