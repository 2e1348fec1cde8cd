"""`bamon --user`: a user's own checks under the systemd user manager (lingering user)."""

from __future__ import annotations

from nspawn import Container
from support import wait_status

USER = "alice"


def as_user(box: Container, script: str, check: bool = True) -> str:
    return box.run(f"export XDG_RUNTIME_DIR=/run/user/$(id -u); cd; {script}", user=USER, check=check).stdout


def test_user_mode_runs_checks_under_the_user_manager(container: Container) -> None:
    container.run(f"id {USER} >/dev/null 2>&1 || useradd -m {USER}; loginctl enable-linger {USER}")
    container.wait_for(lambda: container.run(f"test -S /run/user/$(id -u {USER})/systemd/private",
                                             check=False).returncode == 0, 30, 0.5, "the user manager")
    as_user(container, "bamon --user config reset --yes")
    as_user(container, "bamon --user add mine -c 'echo hello from $USER' -i 2s")
    assert "bamon.target: active" in as_user(container, "bamon --user start")
    entry = wait_status(container, "mine", "OK", timeout=30, user=USER, with_output=True)
    assert entry["output"] == f"hello from {USER}"
    assert "bamon-mine.timer" in as_user(container, "systemctl --user list-timers --no-pager")
    # by the unit's syslog identifier: journald does not always attach the user unit to short runs' lines
    assert f"hello from {USER}" in as_user(container, "journalctl --user -t bamon-mine --no-pager -o cat")
    assert f"hello from {USER}" in as_user(container, "bamon --user log mine -n 20")
    # the system's checks are not the user's
    assert "disk_root" not in as_user(container, "bamon --user list")
    as_user(container, "bamon --user remove -f mine")
    assert "bamon-mine" not in as_user(container, "systemctl --user list-timers --all --no-pager")
