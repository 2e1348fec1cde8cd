"""Fixtures for the fleet tier: a simulated fleet of Debian 12 hosts (fleetsim.py), booted once
for the whole tier, torn down at its end (and by atexit handlers if pytest dies).

Like the system tier it never skips: a host that cannot build the layer, the bridge or boot the
containers fails every test loudly. Everything here gets the ``fleet`` marker.

BAMON_DEB=/path/to/bamon_X_all.deb tests a prebuilt package; otherwise one is built from the
work tree (the system tier's fixture, shared).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fleetsim import SYSTEM, Fleet  # noqa: E402
from nspawn import ContainerError  # noqa: E402

# The system tier's fixtures for the host check and the .deb, under a name of their own: both
# tiers' conftest modules are called "conftest".
_spec = importlib.util.spec_from_file_location("system_conftest", SYSTEM / "conftest.py")
assert _spec is not None and _spec.loader is not None
system_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(system_conftest)
system_host = system_conftest.system_host
bamon_deb = system_conftest.bamon_deb


TIMINGS: dict[str, float] = {}  # the bring-up's, for the terminal summary


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.write_line("fleet bring-up: " + ", ".join(f"{k} {v:.0f} s" for k, v in TIMINGS.items()))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fleet: fleet test; needs root, boots a simulated fleet of containers")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.fleet)


@pytest.fixture(scope="session")
def fleet(system_host: None, bamon_deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The fleet: HOSTS hosts on a bridge of the tier's own, the monitor's servers and container."""
    sim = Fleet(bamon_deb, tmp_path_factory.mktemp("fleet"))
    try:
        sim.__enter__()
    except (ContainerError, subprocess.CalledProcessError, OSError, TimeoutError) as exc:
        pytest.fail(f"cannot bring the simulated fleet up: {exc}", pytrace=False)
    TIMINGS.update(sim.timings)
    try:
        yield sim
    finally:
        sim.close()
