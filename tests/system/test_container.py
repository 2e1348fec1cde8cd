"""Smoke test of the nspawn harness itself; bamon is not involved."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from nspawn import BASE_ENV, CommandError, Container


@pytest.fixture(scope="module")
def box(system_host: None) -> Iterator[Container]:
    with Container() as container:
        yield container


def test_boots_to_running(box: Container) -> None:
    state = box.run(["systemctl", "is-system-running"], check=False).stdout.strip()
    assert state in ("running", "degraded"), box.run("systemctl --failed").stdout


def test_environment_is_clean(box: Container) -> None:
    out = box.run('echo "$PATH $HOME $EXTRA"', env={"EXTRA": "x"}).stdout
    assert out == f"{BASE_ENV['PATH']} /root x\n"


def test_run_as_user(box: Container) -> None:
    assert box.run(["id", "-un"], user="nobody").stdout == "nobody\n"
    assert box.run("id -u", user="nobody").stdout == "65534\n"


def test_input(box: Container) -> None:
    assert box.run(["cat"], input="hello\n").stdout == "hello\n"


def test_failure_message(box: Container) -> None:
    with pytest.raises(CommandError) as failure:
        box.run("echo to-out; echo to-err >&2; exit 3")
    assert failure.value.returncode == 3
    message = str(failure.value)
    for part in ("exit 3", "exited 3", "to-out", "to-err"):
        assert part in message


def test_timeout_kills_command_inside(box: Container) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        box.run(["sleep", "4242"], timeout=1)
    assert box.run(["pgrep", "-f", "sleep 4242"], check=False).returncode == 1


def test_copy_in(box: Container, tmp_path: Path) -> None:
    src = tmp_path / "hello.txt"
    src.write_text("copied\n")
    box.copy_in(src, "/etc/bamon-harness/hello.txt")
    assert box.run(["cat", "/etc/bamon-harness/hello.txt"]).stdout == "copied\n"


def test_transient_unit(box: Container) -> None:
    box.run(["systemd-run", "--wait", "-p", "RuntimeMaxSec=5", "/bin/true"])


def test_install_local_deb_offline(box: Container, tmp_path: Path) -> None:
    # Depends on preinstalled packages only: apt must not need the network.
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN/control").write_text(
        "Package: harness-probe\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: bamon tests <tests@example.invalid>\n"
        "Depends: python3-yaml, python3-systemd, python3-ruamel.yaml\n"
        "Description: harness smoke-test package\n"
    )
    (pkg / "usr/share/harness-probe").mkdir(parents=True)
    (pkg / "usr/share/harness-probe/marker").write_text("ok\n")
    deb = tmp_path / "harness-probe_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--build", str(pkg), str(deb)], check=True)
    box.install_deb(deb)
    status = box.run(["dpkg-query", "-W", "-f", "${Status}", "harness-probe"])
    assert status.stdout == "install ok installed"
    assert box.run(["cat", "/usr/share/harness-probe/marker"]).stdout == "ok\n"
