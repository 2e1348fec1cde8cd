"""The .deb: lintian has nothing to say beyond the overrides (each with its reason); it ships the
generated manual pages, the completions and every unit in units/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from packaging_support import REPO, need


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("BAMON_DEB")
    if given:
        return Path(given)
    proc = subprocess.run([str(REPO / "dev" / "build-deb"), str(tmp_path_factory.mktemp("deb"))],
                          capture_output=True, text=True, check=True, timeout=900)
    return Path(proc.stdout.strip().splitlines()[-1])


def test_lintian_clean(deb: Path) -> None:
    proc = subprocess.run([need("lintian"), "--pedantic", "-I", "--fail-on", "error,warning",
                           str(deb)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_ships_pages_completions_and_units(deb: Path) -> None:
    files = set(subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True)
                .stdout.split())
    wanted = {"./usr/share/man/man1/bamon.1.gz", "./usr/share/man/man5/bamon.yaml.5.gz",
              "./usr/share/man/man8/bamon-generator.8.gz", "./usr/share/man/man8/bamon.notify@.service.8.gz",
              "./usr/share/bash-completion/completions/bamon", "./usr/share/zsh/vendor-completions/_bamon",
              "./usr/share/fish/vendor_completions.d/bamon.fish",
              *(f"./{d}/{unit.name}" for d in ("lib/systemd/system", "usr/lib/systemd/user")
                for unit in (REPO / "units").iterdir())}
    assert wanted <= files, sorted(wanted - files)
