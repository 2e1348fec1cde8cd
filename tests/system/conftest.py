"""Fixtures for the system tier: bamon installed from its .deb into a booted
Debian 12 container (see nspawn.py).

This tier never skips: on a host that cannot run it (not root, tools
missing, boot failure) every test that needs a container errors out loudly.
Everything collected under tests/system gets the ``system`` marker, so
``pytest -m "not system"`` leaves the tier out on purpose.

Set BAMON_DEB=/path/to/bamon_X_all.deb to test a prebuilt package instead of
building one from the work tree.

Fixtures: ``container`` (Debian 12, bamon installed, shared by the tier),
``own_container`` (Debian 12, one per test, for tests that take bamon apart) and
``debian13`` (Debian 13 "trixie": systemd 257, Python 3.13; bamon installed from the
same .deb; booted once, shared by every test that asks for it).
"""

from __future__ import annotations

import os
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


def build_deb(workdir: Path) -> Path:
    """Build bamon's .deb from the work tree with the project's own script (dev/build-deb)."""
    proc = subprocess.run([str(REPO / "dev" / "build-deb"), str(workdir)], capture_output=True,
                          text=True, check=False, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"dev/build-deb failed ({proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    return Path(proc.stdout.strip().splitlines()[-1])


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


def installed(box: Container, deb: Path, what: str) -> Iterator[Container]:
    """Boot box (failing the test, never skipping, if it cannot), install deb, yield it, shut it down."""
    try:
        box.boot()
    except (ContainerError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"cannot boot {what}: {exc}", pytrace=False)
    try:
        box.install_deb(deb)
        yield box
    finally:
        box.shutdown()


@pytest.fixture(scope="session")
def container(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    """One booted container with bamon installed, shared by the whole tier."""
    yield from installed(Container(), bamon_deb, "the test container")


@pytest.fixture
def own_container(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    """A container of the test's own, with bamon installed: for tests that take bamon apart."""
    yield from installed(Container(), bamon_deb, "a container of the test's own")


@pytest.fixture(scope="session")
def debian13(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    """A booted Debian 13 (trixie) with bamon installed from the same .deb, shared by the session.

    Its rootfs is cached beside Debian 12's (nspawn.ensure_rootfs, keyed by suite and recipe)
    and also holds man-db, so `man bamon` works there. Tests that use it leave bamon installed
    and remove the checks they add: other tests (upgrade, recovery) share it.
    """
    yield from installed(Container(suite="trixie"), bamon_deb, "the Debian 13 test container")


@pytest.fixture(params=["debian12", "debian13"])
def each_debian(request: pytest.FixtureRequest) -> Container:
    """The shared Debian 12 container, then the shared Debian 13 one: for what differs between
    systemd 252 and 257 (property formats, timer and retry behaviour)."""
    result: Container = request.getfixturevalue("container" if request.param == "debian12" else "debian13")
    return result
