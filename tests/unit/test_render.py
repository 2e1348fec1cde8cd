"""units/render.py: the pure generator, by golden files and by the properties that matter.

Golden files live in tests/unit/golden/; after an intended change of the unit texts,
regenerate them with `BAMON_UPDATE_GOLDEN=1 python3 -m pytest tests/unit/test_render.py` and
review the diff. Otherwise the comparison is exact.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bamon.config.issues import ConfigIssue
from bamon.config.model import Config
from bamon.units import naming, phase
from bamon.units.render import (
    Generated,
    Target,
    config_error_unit,
    first_run_delay,
    generate,
    service_unit,
    timer_unit,
)

LoadConfig = Callable[..., Config]
GOLDEN = Path(__file__).parent / "golden"
SLICE_ENV = '"BAMON_SLICE=/sys/fs/cgroup/bamon.slice"'
INLINE_ENV = '"BAMON_INLINE=1"'  # the command is plain words: run-check runs it without a subshell
UPDATE = os.environ.get("BAMON_UPDATE_GOLDEN") == "1"
TARGET = Target(run_check=Path("/usr/lib/bamon/run-check"))
ETC = Path("/etc/bamon")

REPRESENTATIVE = """\
daemon:
  default_interval: 2min
  max_concurrent: 2
sandbox:
  timeout: 30
  max_cpu_time: 20
  max_file_size: 2048
  max_virtual_memory: 65536
  profile: strict
performance:
  load_threshold: 0.8
scripts:
  - name: health_check
    command: "curl -s -o /dev/null -w '%{http_code}' https://example.com"
    interval: 30
    description: "HTTP health of 100% of the site"
    retry_policy: {max_attempts: 4, backoff_multiplier: 3, delay: 5, max_delay: 30}
    dependencies: [disk_root, load]
    condition: 'test -f /etc/web-enabled && [ "$(cat /etc/mode)" != 100% ]'
    circuit_breaker: {failures: 5, cooldown: 10m}
  - name: disk_root
    command: |
      used=$(df --output=pcent / | tail -n 1 | tr -dc 0-9)
      echo "/ is ${used}% full"
      df -h / | awk 'NR==2 {print $5}'
      test "$used" -lt 90
    schedule: "*/5 * * * *"
    sandbox: minimal
    severity: critical
    tags: [disk, prod]
  - name: nightly.backup
    command: test -f /var/backups/ok
    schedule: "Mon..Fri *-*-* 02:00"
    user: nobody
    timeout: 2min
    environment:
      GREETING: 'héllo "world" $HOME 50%'
      RETRIES: 3
      VERBOSE: true
  - name: api-probe
    command: "echo default interval"
    user: dynamic
    enabled: false
"""
SCRIPTS_D = {"load": "name: load\ncommand: cat /proc/loadavg\ninterval: 1\nsandbox: minimal\n"}


def _relocated(config: Config, tmp: Path) -> Config:
    """The config as if it were in /etc/bamon, so unit texts do not depend on the tmp dir."""
    scripts = tuple(dataclasses.replace(s, source=ETC / s.source.relative_to(tmp)) for s in config.scripts)
    return dataclasses.replace(config, scripts=scripts, main_file=ETC / "config.yaml")


@pytest.fixture
def representative(load_config: LoadConfig, tmp_path: Path) -> Config:
    config = load_config(REPRESENTATIVE, SCRIPTS_D)
    assert config.errors == ()
    return _relocated(config, tmp_path)


def _compare_with_golden(generated: Generated, directory: Path) -> None:
    files = dict(generated.units)
    files["wanted_by_target.txt"] = "".join(f"{name}\n" for name in generated.wanted_by_target)
    if UPDATE:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.iterdir():
            stale.unlink()
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir()}
    assert sorted(files) == sorted(expected), "unit names differ from the golden files"
    for name, text in files.items():
        assert text == expected[name], f"{name} differs from {directory / name}"


def test_golden_representative(representative: Config) -> None:
    _compare_with_golden(generate(representative, TARGET), GOLDEN / "representative")


def test_golden_config_error() -> None:
    issues = [
        ConfigIssue("/etc/bamon/config.yaml", 7, "scripts[1].intervall", "unknown key 'intervall'",
                    "did you mean 'interval'?"),
        ConfigIssue("/etc/bamon/scripts.d/web.yaml", 2, "command", "YAML syntax error: it's \"broken\" at 100%"),
    ]
    text = config_error_unit(issues, ETC / "config.yaml")
    path = GOLDEN / "bamon.config-error.service"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_generate_is_pure_and_deterministic(representative: Config) -> None:
    assert generate(representative, TARGET) == generate(representative, TARGET)


# --- properties of the generated units ---------------------------------------------------------------


def _settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_every_unit_starts_with_the_generated_marker(representative: Config) -> None:
    for name, text in generate(representative, TARGET).units.items():
        assert text.startswith("# Generated by bamon"), name
        assert text.endswith("\n")


def test_disabled_script_has_a_service_but_no_timer(representative: Config) -> None:
    generated = generate(representative, TARGET)
    assert "bamon-api-probe.service" in generated.units
    assert "bamon-api-probe.timer" not in generated.units
    assert "bamon-api-probe.timer" not in generated.wanted_by_target
    assert generated.wanted_by_target == [
        "bamon-health_check.timer", "bamon-disk_root.timer", "bamon-nightly.backup.timer", "bamon-load.timer"]


def test_service_basics(representative: Config) -> None:
    script = representative.script("health_check")
    assert script is not None
    s = _settings(service_unit(script, TARGET))
    assert s["Type"] == ["oneshot"]
    assert s["Slice"] == [naming.SLICE]
    assert s["OnFailure"] == ["bamon.notify@%N.service"]
    assert s["SourcePath"] == ["/etc/bamon/config.yaml"]
    assert s["LogExtraFields"] == ["BAMON_CHECK=health_check"]
    assert s["SyslogIdentifier"] == ["bamon-health_check"]
    assert s["StateDirectory"] == ["bamon/checks/health_check"]
    assert s["Description"] == ["bamon check health_check: HTTP health of 100%% of the site"]
    assert s["StartLimitIntervalSec"] == ["0"]
    assert "RuntimeMaxSec" not in s  # ignored for oneshot: TimeoutStartSec= is the one


def test_limits_map_to_systemd_settings(representative: Config) -> None:
    health, disk, backup = (representative.script(n) for n in ("health_check", "disk_root", "nightly.backup"))
    assert health and disk and backup
    s = _settings(service_unit(health, TARGET))
    assert (s["TimeoutStartSec"], s["LimitCPU"], s["LimitFSIZE"], s["LimitAS"], s["MemoryMax"]) == (
        ["170s"], ["20"], ["2048K"], ["65536K"], ["65536K"])  # 4 attempts × 30 s + 5 + 15 + 30 s of retry delays
    assert _settings(service_unit(backup, TARGET))["TimeoutStartSec"] == ["120s"]


MOUNT_NAMESPACE = ("PrivateTmp", "PrivateMounts", "ProtectSystem", "ProtectKernelModules", "PrivateDevices")
BALANCED_KEYS = ("SystemCallFilter", "RestrictNamespaces", "SystemCallArchitectures", "MemoryDenyWriteExecute",
                 "CapabilityBoundingSet", "RestrictAddressFamilies", "RestrictSUIDSGID", "LockPersonality")


def test_strict_and_minimal_profiles(representative: Config) -> None:
    strict = _settings(service_unit(representative.script("health_check"), TARGET))  # type: ignore[arg-type]
    minimal = _settings(service_unit(representative.script("disk_root"), TARGET))  # type: ignore[arg-type]
    assert strict["ProtectSystem"] == ["strict"] and strict["PrivateTmp"] == ["yes"]
    # measured expensive, and redundant for a check without capabilities (hardening.py says why)
    for key in ("ProtectKernelTunables", "ProtectControlGroups", "ProtectKernelLogs", "ProtectHome",
                "ProtectClock", "ProtectHostname", "RestrictRealtime"):
        assert key not in strict, key
    for key in MOUNT_NAMESPACE + BALANCED_KEYS:
        assert key in strict and key not in minimal, key
    for settings in (strict, minimal):
        assert settings["NoNewPrivileges"] == ["yes"]
        for key in ("TimeoutStartSec", "LimitCPU", "LimitFSIZE", "MemoryMax"):
            assert key in settings


def test_strict_in_user_mode_drops_nothing_it_cannot(representative: Config) -> None:
    """A user manager cannot drop capabilities: such a unit would fail with 218/CAPABILITIES."""
    script = representative.script("health_check")
    system = _settings(service_unit(script, TARGET))  # type: ignore[arg-type]
    user = _settings(service_unit(script, Target(user_mode=True, run_check=TARGET.run_check)))  # type: ignore[arg-type]
    for key in ("CapabilityBoundingSet", "PrivateDevices", "User"):
        assert key in system and key not in user, key
    assert user["ProtectSystem"] == ["strict"] and user["SystemCallFilter"][0].startswith("~@clock")


def test_state_directory_only_where_it_is_needed(load_config: LoadConfig) -> None:
    """StateDirectory= costs PID 1 ~0.8 ms a start: minimal checks of the manager's user go without."""
    config = load_config("""\
        scripts:
          - {name: fast, command: x, sandbox: minimal}
          - {name: fast_nobody, command: x, sandbox: minimal, user: nobody}
          - {name: sandboxed, command: x}
        """)
    units = {s.name: _settings(service_unit(s, TARGET)) for s in config.scripts}
    assert units["fast"]["Environment"] == [SLICE_ENV, INLINE_ENV, '"STATE_DIRECTORY=%S/bamon/checks/fast"']
    assert "StateDirectory" not in units["fast"]
    assert units["fast_nobody"]["StateDirectory"] == ["bamon/checks/fast_nobody"]
    assert units["sandboxed"]["StateDirectory"] == ["bamon/checks/sandboxed"]


def test_every_hardening_option_is_commented(representative: Config) -> None:
    lines = service_unit(representative.script("health_check"), TARGET).splitlines()  # type: ignore[arg-type]
    for index, line in enumerate(lines):
        if line.split("=", 1)[0] in MOUNT_NAMESPACE + BALANCED_KEYS + ("NoNewPrivileges",):
            assert lines[index - 1].startswith("# "), line


def test_user_and_dynamic_user(representative: Config) -> None:
    default = _settings(service_unit(representative.script("health_check"), TARGET))  # type: ignore[arg-type]
    root = _settings(service_unit(representative.script("disk_root"), TARGET))  # type: ignore[arg-type]
    nobody = _settings(service_unit(representative.script("nightly.backup"), TARGET))  # type: ignore[arg-type]
    dynamic = _settings(service_unit(representative.script("api-probe"), TARGET))  # type: ignore[arg-type]
    assert default["User"] == ["bamon"] and "DynamicUser" not in default  # strict and balanced: bamon
    assert "User" not in root and "DynamicUser" not in root  # minimal: root
    assert nobody["User"] == ["nobody"] and "DynamicUser" not in nobody
    assert dynamic["DynamicUser"] == ["yes"] and "User" not in dynamic


def test_environment_is_quoted(representative: Config) -> None:
    env = _settings(service_unit(representative.script("nightly.backup"), TARGET))["Environment"]  # type: ignore[arg-type]
    assert env == [SLICE_ENV, INLINE_ENV, '"GREETING=héllo \\"world\\" $HOME 50%%"', '"RETRIES=3"', '"VERBOSE=true"']


def test_only_plain_words_run_without_a_subshell(load_config: LoadConfig) -> None:
    """BAMON_INLINE=1 (bamon/units/shell.py): run-check runs these commands in its own shell."""
    config = load_config("""\
        scripts:
          - {name: plain, command: curl -fsS http://localhost/health}
          - {name: shell, command: "curl -fsS http://localhost/health || exit 2"}
        """)
    env = {s.name: _settings(service_unit(s, TARGET))["Environment"] for s in config.scripts}
    assert INLINE_ENV in env["plain"] and INLINE_ENV not in env["shell"]


def test_every_check_names_its_slices_cgroup_in_both_modes(representative: Config) -> None:
    """run-check reads the run's CPU time in BAMON_SLICE/bamon-NAME.service/cpu.stat."""
    script = representative.script("health_check")
    assert SLICE_ENV in _settings(service_unit(script, TARGET))["Environment"]  # type: ignore[arg-type]
    user = _settings(service_unit(script, Target(user_mode=True, run_check=TARGET.run_check)))  # type: ignore[arg-type]
    assert '"BAMON_SLICE=/sys/fs/cgroup/user.slice/user-%U.slice/user@%U.service/bamon.slice"' in user["Environment"]


def test_interval_timer(representative: Config) -> None:
    """30 s divides a minute: the check runs on its grid, at its own phase."""
    script = representative.script("health_check")
    assert script is not None
    s = _settings(timer_unit(script))
    # the first run: the grid alone would wait up to an interval after boot
    delay = int(s["OnBootSec"][0].removesuffix("s"))
    assert delay == first_run_delay(script) and 1 <= delay <= 10
    assert "OnActiveSec" not in s  # it would fire again on every daemon-reload
    grid = phase.grid("health_check", 30)
    assert grid is not None and s["OnCalendar"] == [grid.calendar()]
    assert s["AccuracySec"] == ["100ms"]  # tenths of a second apart stay apart
    assert s["PartOf"] == ["bamon.target"]
    assert "OnUnitActiveSec" not in s and "Persistent" not in s  # a missed round is not caught up


def test_interval_without_a_calendar_form_counts_from_the_last_start(load_config: LoadConfig) -> None:
    (script,) = load_config("scripts:\n  - {name: odd, command: x, interval: 90}\n").scripts
    s = _settings(timer_unit(script))
    assert s["OnUnitActiveSec"] == ["90s"] and s["AccuracySec"] == ["1s"]
    assert "OnCalendar" not in s and s["OnBootSec"] == [f"{first_run_delay(script)}s"]


def test_calendar_timer(representative: Config) -> None:
    cron, calendar = representative.script("disk_root"), representative.script("nightly.backup")
    assert cron and calendar
    s = _settings(timer_unit(cron))
    assert s["OnCalendar"] == ["*-*-* *:00/5:00"]
    assert s["Persistent"] == ["true"]
    assert s["AccuracySec"] == ["1s"]
    assert "OnUnitActiveSec" not in s and "OnBootSec" not in s
    assert _settings(timer_unit(calendar))["OnCalendar"] == ["Mon..Fri *-*-* 02:00"]


def test_first_run_delay_is_spread_between_1_and_10_seconds(load_config: LoadConfig) -> None:
    names = [f"check{i}" for i in range(200)]
    config = load_config("scripts:\n" + "".join(f"  - {{name: {n}, command: x, interval: 60}}\n" for n in names))
    delays = [first_run_delay(s) for s in config.scripts]
    assert min(delays) >= 1 and max(delays) <= 10
    assert len(set(delays)) == 10  # spread over the whole range
    assert delays == [first_run_delay(s) for s in config.scripts]  # stable across runs


def test_first_run_delay_never_exceeds_a_short_interval(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n" + "".join(f"  - {{name: c{i}, command: x, interval: 3}}\n" for i in range(50)))
    assert {first_run_delay(s) for s in config.scripts} <= {1, 2, 3}
    one = load_config("scripts:\n  - {name: fast, command: x, interval: 1}\n")
    assert first_run_delay(one.scripts[0]) == 1


def test_config_error_unit_appears_exactly_with_fatal_issues(load_config: LoadConfig) -> None:
    clean = generate(load_config("scripts:\n  - {name: a, command: x}\n"), TARGET)
    assert naming.CONFIG_ERROR not in clean.units

    notes_only = generate(load_config("daemon: {log_file: /var/log/bamon.log}\nscripts:\n  - {name: a, command: x}\n"),
                          TARGET)
    assert naming.CONFIG_ERROR not in notes_only.units

    broken = generate(load_config("scripts:\n  - {name: a, command: x}\n  - {name: b, comand: x}\n"), TARGET)
    assert naming.CONFIG_ERROR in broken.units
    assert naming.CONFIG_ERROR in broken.wanted_by_target
    assert "bamon-a.service" in broken.units and "bamon-b.service" not in broken.units


def test_config_error_unit_fails_and_names_the_problems(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  - {name: b, comand: x}\n")
    text = generate(config, TARGET).units[naming.CONFIG_ERROR]
    s = _settings(text)
    assert s["Type"] == ["oneshot"]
    assert s["OnFailure"] == ["bamon.notify@%N.service"]
    assert s["SourcePath"] == [str(config.main_file)]
    assert re.search(r"exit 1", s["ExecStart"][0])
    assert "unknown key 'comand'" in s["ExecStart"][0]
    assert "did you mean 'command'?" in s["ExecStart"][0]

