"""Upgrading from bamon 0.1 with apt: its own units move to bamon.<role> names cleanly.

0.1 named its units bamon-notify@.service and bamon-config-error.service, so `bamon add web`
was refused as reserved. The upgrade must leave no trace of the old names in systemd, keep the
checks and their state, and free every check name.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, installed
from nspawn import Container
from support import bamon, status, unit_exists, wait_status

# The last commit of the 0.1 series (bamon/__init__.py says 0.1.0 there).
RELEASE_0_1 = "a76f4e2"


@pytest.fixture(scope="module")
def deb_0_1(system_host: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bamon 0.1's .deb, built from the project's own history with its own build script."""
    work = tmp_path_factory.mktemp("release-0.1")
    src = work / "src"
    try:
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO), str(src)], check=True,
                       capture_output=True, text=True)
        subprocess.run(["git", "-C", str(src), "checkout", "-q", RELEASE_0_1], check=True,
                       capture_output=True, text=True)
        built = subprocess.run([str(src / "dev" / "build-deb"), str(work / "dist")], check=True,
                               capture_output=True, text=True, timeout=900)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"cannot build bamon 0.1 from commit {RELEASE_0_1} (a full clone is needed): "
                    f"{exc.stderr[-2000:]}", pytrace=False)
    return Path(built.stdout.strip().splitlines()[-1])


@pytest.fixture
def old_box(system_host: None, deb_0_1: Path) -> Iterator[Container]:
    yield from installed(Container(), deb_0_1, "a container with bamon 0.1")


def _units(box: Container, pattern: str) -> str:
    return box.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", pattern]).stdout.strip()


def test_upgrade_from_0_1_moves_bamons_own_units(old_box: Container, bamon_deb: Path) -> None:
    box = old_box
    assert box.run("dpkg-query -W -f='${Version}' bamon").stdout.strip() == "0.1.0"
    bamon(box, "add", "broken", "-c", "echo failing; exit 3", "-i", "2s")
    bamon(box, "add", "steady", "-c", "true", "-i", "1h")  # runs once, not again during the test
    box.path("/etc/bamon/scripts.d/typo.yaml").write_text("name: typo\ncommand: 'true'\nintervall: 5\n")
    bamon(box, "apply")
    box.wait_for(lambda: "bamon-notify@bamon-broken.service" in _units(box, "bamon-notify@*"), 30, 0.5,
                 "0.1's notifier to run")
    box.wait_for(lambda: box.run("systemctl is-failed bamon-config-error.service", check=False)
                 .stdout.strip() == "failed", 20, 0.5, "0.1's config-error unit")
    failures_before = status(box, "broken")["consecutiveFailures"]
    assert failures_before >= 1
    wait_status(box, "steady", "OK", timeout=30)
    assert box.run(["bamon", "add", "web", "-c", "true"], check=False).returncode != 0  # 0.1: "reserved"

    # The operator's scripts and the checks' state: the upgrade keeps every byte and file of them.
    # (config.yaml is a conffile: dpkg keeps an edited one, asking first when 0.2 changed it.)
    kept = "sha256sum /etc/bamon/scripts.d/*.yaml"
    before = box.run(kept).stdout
    state_before = set(box.run("cd /var/lib/bamon && find . -type f").stdout.split())
    started = "systemctl show -p ActiveEnterTimestampMonotonic --value bamon-broken.timer bamon.target"
    started_before = box.run(started).stdout

    box.install_deb(bamon_deb)

    assert box.run(kept).stdout == before
    assert state_before <= set(box.run("cd /var/lib/bamon && find . -type f").stdout.split())
    # Each check's `failing` file, which dependents look at (0.1 kept none), made from its `last`
    # with the owner of its directory: empty for the check that passed; the failing check's own
    # runs keep its count from here on.
    size, owner = box.run("stat -c '%s %U' /var/lib/bamon/checks/steady/failing").stdout.split()
    assert size == "0" and owner == box.run("stat -c %U /var/lib/bamon/checks/steady").stdout.strip()
    assert box.run("cat /var/lib/bamon/checks/broken/failing").stdout.strip().isdigit()
    # and restarts nothing: the target and the check timers keep running from before
    assert box.run(started).stdout == started_before

    # Nothing of the old names is left in systemd; the new ones took over
    assert _units(box, "bamon-notify@*") == ""
    assert not unit_exists(box, "bamon-config-error.service")
    box.wait_for(lambda: box.run("systemctl is-failed bamon.config-error.service", check=False)
                 .stdout.strip() == "failed", 30, 0.5, "bamon.config-error.service to fail")
    assert "intervall" in box.run("journalctl -u bamon.config-error.service -o cat --no-pager").stdout
    # The failing check is still monitored, its count goes on, and the new notifier handles it
    box.wait_for(lambda: status(box, "broken")["consecutiveFailures"] > failures_before, 30, 0.5,
                 "the failing check to keep running")
    box.wait_for(lambda: "bamon.notify@bamon-broken.service" in _units(box, "bamon.notify@*"), 30, 0.5,
                 "the renamed notifier to run")
    # Names 0.1 reserved are free
    for name in ("web", "notify", "config-error"):
        bamon(box, "add", name, "-c", f"echo {name}-ok", "-i", "2s")
    for name in ("web", "notify", "config-error"):
        entry = wait_status(box, name, "OK", timeout=30, with_output=True)
        assert f"{name}-ok" in str(entry["output"])


def test_upgrade_from_0_1_says_which_checks_stop_running_as_root(old_box: Container, bamon_deb: Path) -> None:
    """0.1 ran every check as root; 0.2's default runs them as bamon. The operator is told, and
    one line of config brings root back. Existing state directories change owner with the user."""
    box = old_box
    bamon(box, "add", "reads_shadow", "-c", "head -c 0 /etc/shadow && echo read", "-i", "2s")
    bamon(box, "add", "plain", "-c", "echo plain", "-i", "2s")
    wait_status(box, "reads_shadow", "OK", timeout=30)
    wait_status(box, "plain", "OK", timeout=30)
    assert box.run("stat -c %U /var/lib/bamon/checks/plain/last").stdout.strip() == "root"

    upgrade = box.install_deb(bamon_deb)

    told = upgrade.stdout + upgrade.stderr
    assert "now run as the unprivileged user 'bamon'" in told and "sandbox: {user: root}" in told
    assert "reads_shadow (balanced)" in told.split("runs as bamon:")[1].splitlines()[0]
    assert "reads_shadow" in box.run("journalctl -t bamon-upgrade -o cat --no-pager").stdout
    # As told: the check that needed root fails now, the others go on, as bamon, with their state
    box.wait_for(lambda: status(box, "reads_shadow")["status"] == "FAILED", 30, 0.5, "reads_shadow to fail as bamon")
    box.wait_for(lambda: box.run("stat -c %U /var/lib/bamon/checks/plain/last").stdout.strip() == "bamon", 30, 0.5,
                 "plain's state file to be rewritten by bamon")
    # every 2 s: the look may fall inside a run (RUNNING), so wait for one that ended
    wait_status(box, "plain", "OK", timeout=30)
    # The one line that keeps 0.1's behaviour for every check
    config = box.path("/etc/bamon/config.yaml")
    config.write_text(config.read_text().replace("sandbox:\n", "sandbox:\n  user: root\n", 1))
    bamon(box, "apply")
    box.wait_for(lambda: status(box, "reads_shadow")["status"] == "OK", 30, 0.5, "reads_shadow as root again")
