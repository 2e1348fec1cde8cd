"""Fixtures for the system tier: bamon installed from its .deb into a booted
Debian 12 container (see nspawn.py).

This tier never skips: on a host that cannot run it (not root, tools
missing, boot failure) every test that needs a container errors out loudly.
Everything collected under tests/system gets the ``system`` marker, so
``pytest -m "not system"`` leaves the tier out on purpose.

Set BAMON_DEB=/path/to/bamon_X_all.deb to test a prebuilt package instead of
building one from the work tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# nspawn.py is a plain module beside this file, whatever import mode pytest
# uses for the tests.
sys.path.insert(0, str(HERE))
from nspawn import Container, ContainerError, check_host  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "system: system test; needs root and systemd-nspawn, boots a container",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def system_host() -> None:
    """Fail (never skip) when this host cannot run the system tier."""
    try:
        check_host()
    except ContainerError as exc:
        pytest.fail(str(exc), pytrace=False)


def _copy_work_tree(dest: Path) -> None:
    """Copy the tracked and the untracked-but-not-ignored files to dest."""
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    for name in sorted(set(os.fsdecode(n) for n in listing.split(b"\0") if n)):
        src, dst = REPO / name, dest / name
        if not os.path.lexists(src):
            continue  # tracked but deleted in the work tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)


def build_deb(workdir: Path) -> Path:
    """Build bamon's .deb from a clean copy of the work tree."""
    src = workdir / "bamon"
    _copy_work_tree(src)
    log = workdir / "dpkg-buildpackage.log"
    with log.open("w") as out:
        proc = subprocess.run(
            ["dpkg-buildpackage", "-us", "-uc", "-b"],
            cwd=src,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=900,
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        pytest.fail(
            f"dpkg-buildpackage failed ({proc.returncode}); {log}:\n{tail}",
            pytrace=False,
        )
    debs = sorted(workdir.glob("bamon_*_all.deb"))
    if len(debs) != 1:
        pytest.fail(f"expected one bamon_*_all.deb in {workdir}, got {debs}")
    return debs[0]


@pytest.fixture(scope="session")
def bamon_deb(system_host: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$BAMON_DEB if set, else a .deb freshly built from the work tree."""
    given = os.environ.get("BAMON_DEB")
    if given:
        path = Path(given).resolve()
        if not path.is_file():
            pytest.fail(f"BAMON_DEB={given} is not a file", pytrace=False)
        return path
    return build_deb(tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="session")
def container(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    """One booted container with bamon installed, shared by the whole tier."""
    box = Container()
    try:
        box.boot()
    except (ContainerError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"cannot boot the test container: {exc}", pytrace=False)
    try:
        box.install_deb(bamon_deb)
        yield box
    finally:
        box.shutdown()
