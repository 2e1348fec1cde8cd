"""The manual pages: lint-clean, rendered by man, and complete (the drift test).

The drift test walks the parser and schema.yaml on its own, not through the page generator, so a
command, option or key the generator missed is caught.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging_support import need

from bamon.cli.main import parser
from bamon.config.schema import schema

PAGES = ("bamon.1", "bamon.yaml.5", "bamon-generator.8", "bamon.notify@.service.8")


def _plain(page: Path) -> str:
    """The page as man shows it, without formatting."""
    env = {**os.environ, "MANWIDTH": "200", "MAN_KEEP_FORMATTING": "", "LC_ALL": "C.UTF-8"}
    out = subprocess.run([need("man"), "-l", str(page)], capture_output=True, text=True, check=True, env=env)
    return out.stdout.replace("\u2010", "-").replace("\u2212", "-")


def test_every_page_is_mandoc_lint_clean(extras: Path) -> None:
    pages = [p for p in (extras / "man").iterdir() if not p.read_text().startswith(".so ")]
    assert {p.name for p in pages} >= set(PAGES)
    for page in pages:
        proc = subprocess.run([need("mandoc"), "-Tlint", "-W", "all", str(page)], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(), proc.stdout + proc.stderr


def _commands(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(command words, option string) for every option of every command, and (words, "") per command."""
    yield path, ""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))
        for flag in action.option_strings:
            if flag not in ("-h", "--help") or not path:  # every command's -h is listed once, at the top
                yield path, flag


def test_every_command_and_option_is_in_bamon_1(extras: Path) -> None:
    page = _plain(extras / "man" / "bamon.1")
    sections = page.split("\n   bamon ")  # each command's subsection starts with its name
    for words, flag in _commands(parser()):
        if not words:
            assert not flag or flag in page.split("COMMANDS")[0], flag
            continue
        name = " ".join(words)
        section = next((s for s in sections if s.split("\n")[0].strip() == name), None)
        assert section is not None, f"`bamon {name}` has no section in bamon(1)"
        assert not flag or flag in section, f"`bamon {name} {flag}` missing from bamon(1)"


def _keys(node: Any) -> Iterator[str]:
    """Every property name anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def test_every_config_key_is_in_bamon_yaml_5(extras: Path) -> None:
    page = _plain(extras / "man" / "bamon.yaml.5")
    # each key is a tagged paragraph: its dotted path at the start of an indented line
    tags = [line.split()[0] for line in page.splitlines()
            if line.startswith("       ") and not line.startswith("        ") and line.strip()]
    entries = {part.removesuffix("[]") for tag in tags for part in tag.split(".")}
    missing = sorted(set(_keys(schema())) - entries)
    assert not missing, f"config keys missing from bamon.yaml(5): {missing}"


def test_bamon_1_points_to_the_other_pages(extras: Path) -> None:
    see_also = _plain(extras / "man" / "bamon.1").split("SEE ALSO")[1]
    for name in PAGES[1:]:
        page, section = name.rsplit(".", 1)
        assert f"{page}({section})" in see_also


def test_any_other_program_gets_a_page_from_its_docstring(tmp_path: Path) -> None:
    """A program that lands later (a web service, a helper) is documented from its module's docstring."""
    import sys

    subprocess.run([sys.executable, "-m", "bamon.manual", str(tmp_path), "bamon-other=bamon.cli.main:main"],
                   check=True, capture_output=True)
    page = tmp_path / "bamon-other.8"
    lint = subprocess.run([need("mandoc"), "-Tlint", "-W", "all", str(page)], capture_output=True, text=True)
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout
    assert "bamon-other - " in _plain(page) and "global options" in _plain(page)
