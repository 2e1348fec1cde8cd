"""`bamon --user`: a user's own checks under the systemd user manager (lingering user), and their
alerts: the secret in a 0600 file (systemd-creds cannot serve a user manager on systemd 252), the
user's notifier, and the user's outbox holding an alert until the receiver is back."""

from __future__ import annotations

import json
import shlex
import textwrap
from typing import Any

from alert_receiver import PORTS, Receiver, free_port
from nspawn import Container
from support import wait_status

USER = "alice"
TOKEN = "u5er-t0ken-9f3e1c"  # the secret part of the webhook URL: it must show nowhere


def as_user(box: Container, script: str, check: bool = True) -> str:
    return box.run(f"export XDG_RUNTIME_DIR=/run/user/$(id -u); cd; {script}", user=USER, check=check).stdout


def user_manager(container: Container) -> None:
    container.run(f"id {USER} >/dev/null 2>&1 || useradd -m {USER}; loginctl enable-linger {USER}")
    container.wait_for(lambda: container.run(f"test -S /run/user/$(id -u {USER})/systemd/private",
                                             check=False).returncode == 0, 30, 0.5, "the user manager")


def test_user_mode_runs_checks_under_the_user_manager(container: Container) -> None:
    user_manager(container)
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


def user_outbox(box: Container) -> list[dict[str, Any]]:
    waiting: list[dict[str, Any]] = json.loads(as_user(box, "bamon --user alerts --json"))["outbox"]
    return [w for w in waiting if w["check"] == "mine_broken"]


def test_a_users_alert_uses_a_file_secret_and_waits_in_the_users_outbox(container: Container) -> None:
    user_manager(container)
    port = free_port(PORTS)  # nobody listens there yet: the receiver is down
    url = f"http://127.0.0.1:{port}/{TOKEN}"
    stored = as_user(container, f"printf %s {shlex.quote(url)} | bamon --user secret set hook")
    assert "a 0600 file" in stored, stored
    assert as_user(container, "stat -c %a ~/.config/bamon/credentials/hook").strip() == "600"
    as_user(container, "bamon --user config reset --yes")
    channel = textwrap.dedent("""
        alerts:
          channels:
            - {name: hook, type: webhook, url: "${secret:hook}", retries: 0, timeout: 2}
        """)
    as_user(container, f"printf %s {shlex.quote(channel)} >> ~/.config/bamon/config.yaml")
    as_user(container, "bamon --user config validate")
    as_user(container, "bamon --user add mine_broken -c 'echo the user check broke; exit 2' -i 1h")
    as_user(container, "bamon --user start")
    try:
        # the user's notifier could not deliver: the alert waits in the user's outbox
        waiting = container.wait_for(lambda: user_outbox(container) or None, 60, 0.5, "the alert in the user's outbox")
        assert [w["channel"] for w in waiting] == ["hook"], waiting
        assert "connection refused" in waiting[0]["last_answer"]
        receiver = Receiver(range(port, port + 1))
        try:
            # the user's bamon.outbox.timer retries it (the first retry is due 15 s after spooling)
            def arrived() -> list[Any]:
                return [r for r in receiver.at(f"/{TOKEN}") if r.body["check"] == "mine_broken"]
            container.wait_for(lambda: arrived() or None, 90, 0.5, "the alert once the receiver is back")
            assert arrived()[0].body["kind"] == "failure"
            container.wait_for(lambda: user_outbox(container) == [] or None, 30, 0.5, "an empty user outbox")
        finally:
            receiver.close()
        report = json.loads(as_user(container, "bamon --user alerts --json"))["alerts"]
        (hook,) = [c for a in report if a["check"] == "mine_broken" for c in a["channels"] if c["channel"] == "hook"]
        assert hook["outcome"] == "delivered" and hook["via"] == "outbox"
        # the secret URL shows in none of the places a user or an admin looks (each read is
        # checked to hold what it should, so an empty answer cannot pass)
        for place, holds in (("journalctl --user -o export --no-pager", "mine_broken"),
                             ("bamon --user config show", "${secret:hook}"),
                             ("systemctl --user cat bamon.notify@.service bamon.outbox.service", "ExecStart="),
                             ("ps -eo args", "systemd --user")):
            seen = as_user(container, place)
            assert holds in seen and TOKEN not in seen, place
    finally:
        as_user(container, "bamon --user remove -f mine_broken; bamon --user secret remove hook", check=False)
