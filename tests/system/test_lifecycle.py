"""Adding, disabling, enabling and removing checks, as systemd sees it; locking; auditing."""

from __future__ import annotations

import json
import subprocess

from nspawn import Container
from support import bamon, status, unit_exists, wait_status

AUDIT_ID = "f84e75758ce842fcaa04acb843d014d6"


def timers(box: Container) -> str:
    return box.run("systemctl list-timers --all --no-pager --plain 'bamon-*'").stdout


def test_disabled_check_has_a_service_but_no_timer(container: Container) -> None:
    bamon(container, "add", "sleepy", "-c", "echo zzz", "-i", "5s", "--disabled")
    assert unit_exists(container, "bamon-sleepy.service")
    assert not unit_exists(container, "bamon-sleepy.timer")
    assert "bamon-sleepy.timer" not in timers(container)
    assert status(container, "sleepy")["status"] == "DISABLED"

    bamon(container, "enable", "sleepy")
    assert "bamon-sleepy.timer" in timers(container)
    wait_status(container, "sleepy", "OK", timeout=20)

    bamon(container, "disable", "sleepy")
    assert not unit_exists(container, "bamon-sleepy.timer")
    # other tests of the shared container leave disabled checks of their own
    disabled = json.loads(bamon(container, "list", "--json", "--disabled-only"))["scripts"]
    assert "sleepy" in [s["name"] for s in disabled] and all(not s["enabled"] for s in disabled)
    bamon(container, "remove", "-f", "sleepy")


def test_remove_takes_units_and_state_away(container: Container) -> None:
    bamon(container, "add", "doomed", "-c", "echo bye", "-i", "2s")
    wait_status(container, "doomed", "OK", timeout=20)
    assert container.run("test -e /var/lib/bamon/checks/doomed/last", check=False).returncode == 0
    bamon(container, "remove", "-f", "doomed")
    assert not unit_exists(container, "bamon-doomed.service")
    assert not unit_exists(container, "bamon-doomed.timer")
    assert "doomed" not in timers(container)
    assert container.run("test -e /var/lib/bamon/checks/doomed", check=False).returncode != 0
    assert container.run("test -e /etc/bamon/scripts.d/doomed.yaml", check=False).returncode != 0
    gone = container.run(["bamon", "remove", "-f", "doomed"], check=False)
    assert gone.returncode == 1 and "no script named 'doomed'" in gone.stderr and "Traceback" not in gone.stderr


def test_concurrent_adds_both_land(container: Container) -> None:
    script = " & ".join(f"bamon add para{i} -c 'echo {i}' -i 1h" for i in range(4)) + " & wait"
    container.run(script)
    names = {s["name"] for s in json.loads(bamon(container, "list", "--json"))["scripts"]}
    assert {f"para{i}" for i in range(4)} <= names
    for i in range(4):
        assert unit_exists(container, f"bamon-para{i}.timer")
        bamon(container, "remove", "-f", f"para{i}")


def test_every_change_is_audited_with_who_and_before_after(container: Container) -> None:
    bamon(container, "add", "audited", "-c", "echo audit-me", "--disabled")
    bamon(container, "remove", "-f", "audited")
    out = container.run(["journalctl", "-o", "json", f"MESSAGE_ID={AUDIT_ID}", "BAMON_CHECK=audited"]).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["BAMON_AUDIT_ACTION"] for r in records] == ["add", "remove"]
    assert records[0]["BAMON_AUDIT_USER"] == "root" and "echo audit-me" in records[0]["BAMON_AUDIT_AFTER"]
    assert "echo audit-me" in records[1]["BAMON_AUDIT_BEFORE"]


def test_start_stop_restart_act_on_all_timers(container: Container) -> None:
    assert "bamon.target: inactive" in bamon(container, "stop")
    assert "bamon-disk_root.timer" not in container.run("systemctl list-timers --no-pager 'bamon-*'").stdout
    assert "bamon.target: active" in bamon(container, "start")
    assert "bamon-disk_root.timer" in container.run("systemctl list-timers --no-pager 'bamon-*'").stdout
    assert "bamon.target: active" in bamon(container, "restart")


def test_read_commands_need_no_root(container: Container) -> None:
    container.run("id reader >/dev/null 2>&1 || useradd -m -G systemd-journal reader")
    out = bamon(container, "status", "--json", user="reader")
    assert {"disk_root", "memory_available", "load_average"} <= {s["name"] for s in json.loads(out)["scripts"]}
    assert "OK" in bamon(container, "history", "disk_root", user="reader")
    denied = container.run(["bamon", "add", "nope", "-c", "true"], user="reader", check=False)
    assert denied.returncode == 1 and "Traceback" not in denied.stderr
    assert "permission denied" in denied.stderr and "hint:" in denied.stderr


def test_errors_are_one_line_plus_hint_without_traceback(container: Container) -> None:
    cases = [
        ["bamon", "add", "bad name", "-c", "true"],
        ["bamon", "add", "x1", "-c", "true", "-i", "5 fortnights"],
        ["bamon", "add", "x2", "-c", "true", "-s", "every tuesday-ish"],
        ["bamon", "status", "-n", "no_such_check"],
        ["bamon", "frobnicate"],
    ]
    for argv in cases:
        result = container.run(argv, check=False)
        assert result.returncode != 0, argv
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("bamon: error: "), (argv, result.stderr)
        assert lines[1].lstrip().startswith("hint: "), (argv, result.stderr)
        assert "Traceback" not in result.stderr


def test_log_passes_options_to_journalctl(container: Container) -> None:
    out = bamon(container, "log", "disk_root", "-n", "3", "-o", "json", "--", "--no-hostname")
    entries = [json.loads(line) for line in out.splitlines()]
    assert 1 <= len(entries) <= 3
    assert all(set(e) == {"timestamp", "level", "script", "message"} for e in entries)
    assert {e["script"] for e in entries} == {"disk_root"}
    errors_only = container.run(["bamon", "log", "-l", "ERROR", "-n", "50", "-o", "json"]).stdout
    assert all(json.loads(line)["level"] == "ERROR" for line in errors_only.splitlines())
    try:
        container.run(["bamon", "log", "-f", "disk_root"], timeout=2)
    except subprocess.TimeoutExpired:
        pass  # -f keeps following, like journalctl -f
    else:
        raise AssertionError("bamon log -f returned instead of following")
