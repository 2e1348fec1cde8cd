"""The packaging tier: what the packages ship (manual pages, completions) and how they are built
(rpm, snap, Homebrew, the release workflows), checked with the real tools. No root, no container.

The tools come from dev/install-deps (mandoc, zsh, fish, rpm, rpmlint, ruby, node); a missing
one fails its test, never skips it. Helpers live in packaging_support.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from packaging_support import REPO  # noqa: E402


@pytest.fixture(scope="session")
def extras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated manual pages and completions, as package builds make them (dev/build-extras)."""
    out = tmp_path_factory.mktemp("extras")
    subprocess.run([str(REPO / "dev" / "build-extras"), str(out)], check=True,
                   env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    return out


@pytest.fixture
def bamon_bin(tmp_path: Path) -> Path:
    """A directory holding a `bamon` that runs this work tree, and a config with two checks."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    launcher = bindir / "bamon"
    launcher.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m bamon.cli.main "$@"\n')
    launcher.chmod(0o755)
    (tmp_path / "config.yaml").write_text(
        "scripts:\n  - {name: web_frontend, command: 'true'}\n  - {name: disk_root, command: 'true'}\n")
    return tmp_path
