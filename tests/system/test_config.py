"""Config problems under systemd: a broken entry never takes the healthy ones down, and a broken
config is visible as a failing unit; every generated unit passes systemd-analyze verify."""

from __future__ import annotations

import json

from nspawn import Container
from support import bamon, unit_exists, wait_status

BROKEN = "name: broken_entry\ncommand: echo never\nintervall: 5\n"
SYNTAX = "name: [unterminated\n"
HEALTHY = "name: healthy_neighbour\ncommand: echo still-here\ninterval: 2s\n"


def test_one_broken_entry_does_not_stop_the_others(container: Container) -> None:
    container.path("/etc/bamon/scripts.d/broken_entry.yaml").write_text(BROKEN)
    container.path("/etc/bamon/scripts.d/syntax.yaml").write_text(SYNTAX)
    container.path("/etc/bamon/scripts.d/healthy_neighbour.yaml").write_text(HEALTHY)
    try:
        # What an operator does after editing by hand (same as daemon-reload + start bamon.target)
        bamon(container, "apply")
        wait_status(container, "healthy_neighbour", "OK", timeout=20)
        assert not unit_exists(container, "bamon-broken_entry.service")
        assert unit_exists(container, "bamon-disk_root.timer")

        # The problems are visible in systemd as a failed unit that printed them
        def failed() -> bool:
            state = container.run("systemctl is-failed bamon.config-error.service", check=False).stdout
            return state.strip() == "failed"
        container.wait_for(failed, 20, 0.5, "bamon.config-error.service to fail")
        journal = container.run("journalctl -u bamon.config-error --no-pager -o cat").stdout
        assert "broken_entry.yaml:3: intervall: unknown key 'intervall'" in journal
        assert "/etc/bamon/scripts.d/syntax.yaml:" in journal and "YAML syntax error" in journal

        result = container.run(["bamon", "config", "validate"], check=False)
        assert result.returncode == 1
        assert "/etc/bamon/scripts.d/broken_entry.yaml:3: intervall: unknown key 'intervall'" in result.stderr
        assert "hint: did you mean 'interval'?" in result.stderr
        report = json.loads(container.run(["bamon", "config", "validate", "--json"], check=False).stdout)
        assert report["valid"] is False and len([i for i in report["issues"] if i["severity"] == "error"]) == 2
    finally:
        container.run("rm -f /etc/bamon/scripts.d/broken_entry.yaml /etc/bamon/scripts.d/syntax.yaml "
                      "/etc/bamon/scripts.d/healthy_neighbour.yaml")
        bamon(container, "apply")
    assert not unit_exists(container, "bamon.config-error.service")
    assert container.run(["bamon", "config", "validate"]).returncode == 0


def test_unreadable_config_yields_a_failing_unit(container: Container) -> None:
    original = container.path("/etc/bamon/config.yaml").read_text()
    container.path("/etc/bamon/config.yaml").write_text("scripts: [\n")
    try:
        container.run("systemctl daemon-reload && systemctl start bamon.target")
        container.wait_for(lambda: container.run("systemctl is-failed bamon.config-error.service",
                                                 check=False).stdout.strip() == "failed", 20, 0.5, "config error")
        assert "YAML syntax error" in container.run("journalctl -u bamon.config-error -o cat --no-pager").stdout
    finally:
        container.path("/etc/bamon/config.yaml").write_text(original)
        bamon(container, "apply")


def test_generated_units_pass_systemd_analyze_verify(container: Container) -> None:
    for args in (["-c", "echo strict", "-i", "30s"],
                 ["-c", "echo minimal", "-s", "*/5 * * * *", "--sandbox", "minimal", "--user", "nobody"],
                 ["-c", "echo dyn", "-s", "Mon..Fri *-*-* 02:00", "--user", "dynamic", "-e", "A=%b $c"]):
        bamon(container, "add", f"verify_{args[1].split()[1]}", *args)
    units = container.run("ls /run/systemd/generator/bamon-*.service /run/systemd/generator/bamon-*.timer"
                          ).stdout.split()
    assert len(units) >= 6
    result = container.run(["systemd-analyze", "verify", "--man=no", "--recursive-errors=yes", *units], check=False)
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr and "Unknown lvalue" not in result.stderr
    score = container.run(["systemd-analyze", "security", "--offline=yes",
                           "/run/systemd/generator/bamon-verify_strict.service"], check=False).stdout
    assert "Overall exposure level" in score
    for name in ("strict", "minimal", "dyn"):
        bamon(container, "remove", "-f", f"verify_{name}")
