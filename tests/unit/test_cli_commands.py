"""The bamon CLI (bamon.cli.main.main) against a tmp --config; no systemd needed.

systemctl/systemd-analyze go to the fake runner and audit records to the journal sink (see
conftest.py). Every command either succeeds or prints one error line plus a hint and exits
non-zero; argparse errors exit 2; stderr never shows a traceback.
"""

from __future__ import annotations

import difflib
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from bamon.config.model import load
from bamon.journal import AUDIT_ID

if TYPE_CHECKING:
    from conftest import CliResult, FakeRunner, JournalSink

Cli = Callable[..., "CliResult"]
WriteConfig = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]

CONFIG = """\
# bamon config for the CLI tests
daemon:
  default_interval: 60  # seconds
  log_file: /var/log/bamon.log
scripts:
  # the web check
  - name: web_check
    command: "curl -s -o /dev/null -w '%{http_code}' http://localhost:1/"   # inline comment
    interval: 30
    description: HTTP health
  # a disabled one
  - name: disk_check
    command: "df -h / | awk 'NR==2 {print $5}'"
    schedule: "*/5 * * * *"
    enabled: false
"""


@pytest.fixture
def config(write_config: WriteConfig) -> Path:
    return write_config(CONFIG)


def _one_error(result: CliResult, code: int = 1) -> tuple[str, str]:
    """(message, hint) of a clean failure: exactly `bamon: error: …` plus `  hint: …`."""
    assert result.code == code, result
    lines = [line for line in result.err.splitlines() if not line.startswith("bamon: --config")]
    assert len(lines) == 2, result.err
    assert lines[0].startswith("bamon: error: ") and lines[1].startswith("  hint: "), result.err
    return lines[0].removeprefix("bamon: error: "), lines[1].removeprefix("  hint: ")


# --- config validate / show ---------------------------------------------------------------------------


def test_validate_ok(cli: Cli, config: Path) -> None:
    result = cli("--config", str(config), "config", "validate")
    assert result.code == 0
    assert result.out == "config OK: 2 script(s) in 1 file(s)\n"
    assert result.err.splitlines() == [
        f"{config}:4: daemon.log_file: accepted but has no effect (note)",
        "  hint: journald keeps every run's output: journalctl -u 'bamon-*' or bamon log",
    ]


def test_validate_reports_every_problem(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("""\
        scripts:
          - name: good
            command: "true"
          - name: typo
            command: "true"
            intervall: 30
          - name: bad
            command: "true"
            severity: urgent
        """, scripts_d={"broken": "name: [unclosed\n"})
    result = cli("--config", str(config), "config", "validate")
    assert result.code == 1
    broken = config.parent / "scripts.d" / "broken.yaml"
    assert result.err.splitlines() == [
        f"{broken}:2: YAML syntax error: did not find expected ',' or ']'",
        "  hint: fix the indentation or quoting near that line",
        f"{config}:6: scripts[1].intervall: unknown key 'intervall'",
        "  hint: did you mean 'interval'?",
        f"{config}:9: scripts[2].severity: 'urgent' is not one of: info, warning, critical",
        "  hint: info, warning or critical",
    ]
    assert "3 problem(s)" in result.out and "1 valid script(s) are still monitored" in result.out


def test_validate_json(cli: Cli, config: Path) -> None:
    config.write_text(CONFIG.replace("interval: 30", "interval: soon"))
    result = cli("--config", str(config), "config", "validate", "--json")
    assert result.code == 1
    document = json.loads(result.out)
    assert document["valid"] is False and document["scripts"] == 1
    error = next(i for i in document["issues"] if i["severity"] == "error")
    assert error == {"file": str(config), "line": 9, "path": "scripts[0].interval", "severity": "error",
                     "message": error["message"], "hint": 'use seconds (30) or a span such as "30s", "5min", "1h"'}


def test_validate_checks_schedules_with_systemd_analyze(cli: Cli, config: Path, runner: FakeRunner) -> None:
    runner.on(["systemd-analyze", "calendar"], "Failed to parse calendar specification", returncode=1)
    result = cli("--config", str(config), "config", "validate")
    assert result.code == 1
    assert "disk_check.schedule" in result.err and "Failed to parse calendar specification" in result.err
    assert ["systemd-analyze", "calendar", "--iterations=1", "*-*-* *:00/5:00"] in (
        runner.calls)


def test_validate_a_value_left_empty_is_an_error_not_a_crash(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts:\n  - name: a\n    command: x\n    interval:\n")
    result = cli("--config", str(config), "config", "validate")
    assert result.code == 1
    assert f"{config}:4: scripts[0].interval:" in result.err


def test_show_json_has_defaults_and_converted_values(cli: Cli, config: Path) -> None:
    result = cli("--config", str(config), "config", "show", "--json")
    assert result.code == 0
    document = json.loads(result.out)
    assert document["daemon"] == {"default_interval": 60, "max_concurrent": 10, "history_retention_days": 30,
                                  "output_format": "plain"}
    assert document["sandbox"]["timeout"] == 30 and document["sandbox"]["profile"] == "balanced"
    web, disk = document["scripts"]
    assert web == {"name": "web_check", "command": "curl -s -o /dev/null -w '%{http_code}' http://localhost:1/",
                   "interval": 30, "timeout": 30, "enabled": True, "description": "HTTP health",
                   "severity": "warning", "tags": [], "sandbox": "balanced", "network": "any",
                   "source": str(config)}
    assert disk["schedule"] == "*-*-* *:00/5:00" and "interval" not in disk


def test_show_yaml_reads_back(cli: Cli, config: Path) -> None:
    result = cli("--config", str(config), "config", "show")
    assert result.code == 0
    assert yaml.safe_load(result.out)["scripts"][0]["name"] == "web_check"


# --- list ---------------------------------------------------------------------------------------------


def test_list_json(cli: Cli, config: Path) -> None:
    result = cli("--config", str(config), "list", "--json")
    assert result.code == 0
    scripts = json.loads(result.out)["scripts"]
    assert [(s["name"], s["enabled"], s["interval"], s["unit"]) for s in scripts] == [
        ("web_check", True, 30, "bamon-web_check.service"), ("disk_check", False, None, "bamon-disk_check.service")]
    enabled = json.loads(cli("--config", str(config), "list", "-e", "--json").out)["scripts"]
    disabled = json.loads(cli("--config", str(config), "list", "--disabled-only", "--json").out)["scripts"]
    assert [s["name"] for s in enabled] == ["web_check"]
    assert [s["name"] for s in disabled] == ["disk_check"]


def test_list_table(cli: Cli, config: Path) -> None:
    lines = cli("--config", str(config), "list").out.splitlines()
    assert lines[0].split() == ["NAME", "ENABLED", "SCHEDULE", "TIMEOUT", "SEVERITY", "COMMAND", "DESCRIPTION"]
    assert lines[1].startswith("web_check") and "every 30s" in lines[1]


def test_missing_config_is_one_error(cli: Cli, tmp_path: Path) -> None:
    message, hint = _one_error(cli("--config", str(tmp_path / "nowhere" / "config.yaml"), "list"))
    assert message == f"no configuration at {tmp_path / 'nowhere' / 'config.yaml'}"
    assert "bamon config reset" in hint


# --- now --local ----------------------------------------------------------------------------------------


def test_now_local(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("""\
        scripts:
          - {name: fine, command: "echo all good"}
          - {name: broken, command: "echo bad >&2; exit 3"}
          - {name: paused, command: "exit 9", enabled: false}
          - {name: env, command: 'echo "$GREETING"', environment: {GREETING: "hi there"}}
        """)
    result = cli("--config", str(config), "now", "--local", "--json")
    assert result.code == 1
    runs = {r["name"]: r for r in json.loads(result.out)["scripts"]}
    assert set(runs) == {"fine", "broken", "env"}  # disabled checks only run when named
    assert (runs["fine"]["status"], runs["fine"]["exitCode"], runs["fine"]["output"]) == ("OK", 0, "all good")
    assert runs["broken"]["status"] == "FAILED" and runs["broken"]["exitCode"] == 3
    assert runs["broken"]["failureReason"] == "exit-code" and runs["broken"]["output"] == "bad"
    assert runs["env"]["output"] == "hi there"
    assert cli("--config", str(config), "now", "--local", "-n", "fine").code == 0
    assert cli("--config", str(config), "now", "--local", "-n", "paused").code == 1


def test_now_local_honours_the_timeout(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts:\n  - {name: slow, command: 'sleep 5; echo done', timeout: 1}\n")
    started = time.monotonic()
    result = cli("--config", str(config), "now", "--local", "--json")
    assert time.monotonic() - started < 4
    assert result.code == 1
    (run,) = json.loads(result.out)["scripts"]
    assert (run["status"], run["failureReason"], run["exitCode"]) == ("FAILED", "timeout", None)
    assert run["error"] == "Timeout after 1s" and run["output"] is None


def _running(pid: int) -> bool:
    """Is `pid` alive (a zombie waiting for a reaper counts as gone)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_now_local_timeout_ends_what_the_command_started(cli: Cli, write_config: WriteConfig, tmp_path: Path) -> None:
    """Like the unit's cgroup under systemd: not only bash goes, its children and pipelines too."""
    pids = tmp_path / "pids"
    config = write_config(f"scripts:\n  - {{name: slow, command: 'sleep 30 & echo $! > {pids}; sleep 30 | cat',"
                          " timeout: 1}\n")
    started = time.monotonic()
    result = cli("--config", str(config), "now", "--local", "--json")
    assert time.monotonic() - started < 4
    (run,) = json.loads(result.out)["scripts"]
    assert (run["status"], run["failureReason"]) == ("FAILED", "timeout")
    background = int(pids.read_text())
    deadline = time.monotonic() + 2
    while _running(background) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(background)


@pytest.mark.parametrize(("concurrency", "at_least", "below"), [(2, 1.2, 2.4), (4, 0.0, 1.2)])
def test_now_local_honours_max_concurrent(cli: Cli, write_config: WriteConfig, concurrency: int,
                                          at_least: float, below: float) -> None:
    config = write_config(f"daemon: {{max_concurrent: {concurrency}}}\nscripts:\n"
                          + "".join(f"  - {{name: s{i}, command: 'sleep 0.6'}}\n" for i in range(4)))
    started = time.monotonic()
    result = cli("--config", str(config), "now", "--local")
    elapsed = time.monotonic() - started
    assert result.code == 0
    assert at_least <= elapsed < below


def test_now_unknown_name(cli: Cli, config: Path) -> None:
    message, hint = _one_error(cli("--config", str(config), "now", "--local", "-n", "web_chek"))
    assert (message, hint) == ("no script named 'web_chek'", "did you mean 'web_check'?")


def test_now_with_another_config_never_starts_the_live_units(cli: Cli, config: Path, runner: FakeRunner) -> None:
    """A --config file is not what systemd runs: its names may match live units."""
    message, hint = _one_error(cli("--config", str(config), "now", "-n", "web_check"))
    assert "systemd does not run" in message and "--local" in hint
    assert not any("start" in call for call in runner.calls)


# --- config reset ----------------------------------------------------------------------------------------


def test_reset_writes_a_default_that_validates(cli: Cli, tmp_path: Path, sink: JournalSink) -> None:
    config = tmp_path / "fresh" / "config.yaml"
    result = cli("--config", str(config), "config", "reset", "--yes")
    assert result.code == 0 and config.exists()
    loaded = load(config, None)
    assert loaded.issues == () and loaded.scripts == ()
    assert cli("--config", str(config), "config", "validate").code == 0
    assert [e["BAMON_AUDIT_ACTION"] for e in sink.entries] == ["config-reset"]


@pytest.mark.parametrize("flag", ["--yes", "--force", "-f", "-y"])
def test_reset_keeps_a_timestamped_backup(cli: Cli, config: Path, flag: str) -> None:
    before = config.read_text()
    result = cli("--config", str(config), "config", "reset", flag)
    assert result.code == 0
    (backup,) = config.parent.glob("config.yaml.backup.*")  # the original's name
    assert backup.read_text() == before
    assert "previous config saved" in result.err


def test_reset_refuses_without_an_answer(cli: Cli, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    message, hint = _one_error(cli("--config", str(config), "config", "reset"))
    assert "without confirmation" in message and hint == "pass --force"


@pytest.mark.parametrize(("answer", "replaced"), [("n\n", False), ("\n", False), ("y\n", True)])
def test_reset_reads_the_answer_from_a_pipe(cli: Cli, config: Path, monkeypatch: pytest.MonkeyPatch,
                                            answer: str, replaced: bool) -> None:
    before = config.read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    result = cli("--config", str(config), "config", "reset")
    assert result.code == 0, result.err
    assert (config.read_text() != before) == replaced
    assert result.out.strip() == ("wrote the default config to " + str(config) if replaced else "nothing changed")


def test_reset_honours_the_originals_config_variable(cli: Cli, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAMON_CONFIG_FILE", str(config))
    assert cli("config", "reset", "--force").code == 0
    assert list(config.parent.glob("config.yaml.backup.*"))


def test_reset_example_is_valid_once_uncommented(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    cli("--config", str(config), "config", "reset", "--yes")
    text = config.read_text().replace("scripts: []", "scripts:")
    text = "\n".join(line.replace("  #- ", "  - ").replace("  #  ", "    ") for line in text.splitlines())
    config.write_text(text)
    loaded = load(config, None)
    assert loaded.errors == ()
    assert [s.name for s in loaded.scripts] == ["web_service"]


# --- add -------------------------------------------------------------------------------------------------


def test_add_writes_scripts_d_and_audits(cli: Cli, config: Path, sink: JournalSink, runner: FakeRunner) -> None:
    result = cli("--config", str(config), "add", "api", "-c", "curl -f http://localhost:8080/health", "-i", "5min",
                 "-d", "the API", "--tag", "web", "--tag", "prod", "-e", "API_URL=http://x:1/?a=b", "--severity",
                 "critical")
    assert result.code == 0, result.err
    target = config.parent / "scripts.d" / "api.yaml"
    assert result.out == f"added api ({target})\n"
    assert "units were not reloaded" in result.err  # an overridden config is not what systemd reads
    assert yaml.safe_load(target.read_text()) == {
        "name": "api", "command": "curl -f http://localhost:8080/health", "interval": "5min", "description": "the API",
        "severity": "critical", "tags": ["web", "prod"], "environment": {"API_URL": "http://x:1/?a=b"}}
    script = load(config, config.parent / "scripts.d").script("api")
    assert script is not None and script.interval == 300
    (audit,) = sink.entries
    assert audit["MESSAGE_ID"] == AUDIT_ID
    assert (audit["BAMON_AUDIT_ACTION"], audit["BAMON_CHECK"]) == ("add", "api")
    assert audit["BAMON_AUDIT_AFTER"] == target.read_text()
    assert not any(call[:2] == ["systemctl", "daemon-reload"] for call in runner.calls)


def test_add_multi_line_command_round_trips(cli: Cli, config: Path) -> None:
    command = "for f in /etc/*.conf; do\n  echo \"$f\" '%{x}' \\\\ 100%\ndone\n"
    assert cli("--config", str(config), "add", "multi", "-c", command, "--disabled").code == 0
    script = load(config, config.parent / "scripts.d").script("multi")
    assert script is not None and script.command == command and script.enabled is False


def test_add_with_a_cron_schedule(cli: Cli, config: Path, runner: FakeRunner) -> None:
    assert cli("--config", str(config), "add", "cron", "-c", "true", "-s", "*/10 * * * *").code == 0
    assert ["systemd-analyze", "calendar", "--iterations=1", "*-*-* *:00/10:00"] in runner.calls
    script = load(config, config.parent / "scripts.d").script("cron")
    assert script is not None and script.schedule == "*-*-* *:00/10:00"


def test_add_rejects_a_schedule_systemd_rejects(cli: Cli, config: Path, runner: FakeRunner) -> None:
    runner.on(["systemd-analyze", "calendar"], "Failed to parse calendar specification 'Moonday'", returncode=1)
    message, hint = _one_error(cli("--config", str(config), "add", "x", "-c", "true", "-s", "Moonday"))
    assert message.startswith("schedule 'Moonday': Failed to parse") and "OnCalendar" in hint
    assert not (config.parent / "scripts.d").exists()


@pytest.mark.parametrize(("args", "in_message"), [
    (["-i", "0"], "interval"),
    (["-i", "5 parsecs"], "interval"),
    (["-t", "never"], "timeout"),
    (["--user", "Not A User"], "user"),
    (["-e", "1BAD=x"], "environment"),
    (["-e", "NOEQUALS"], "--env takes NAME=VALUE"),
    (["-s", "61 * * * *"], "schedule"),
])
def test_add_rejects_invalid_values(cli: Cli, config: Path, args: list[str], in_message: str) -> None:
    message, hint = _one_error(cli("--config", str(config), "add", "new_one", "-c", "true", *args))
    assert in_message in message and hint
    assert not (config.parent / "scripts.d" / "new_one.yaml").exists()


@pytest.mark.parametrize("name", [".web", "bad name", "x" * 65])
def test_add_rejects_invalid_names(cli: Cli, config: Path, name: str) -> None:
    message, hint = _one_error(cli("--config", str(config), "add", name, "-c", "true"))
    assert "name" in message and hint
    assert not (config.parent / "scripts.d").exists()


@pytest.mark.parametrize("name", ["web", "notify", "config-error"])
def test_add_takes_names_that_0_1_reserved(cli: Cli, config: Path, name: str) -> None:
    result = cli("--config", str(config), "add", name, "-c", "true")
    assert result.code == 0, result
    assert (config.parent / "scripts.d" / f"{name}.yaml").exists()


@pytest.mark.parametrize("name", ["web_check", "disk_check"])
def test_add_rejects_duplicates(cli: Cli, config: Path, name: str) -> None:
    message, hint = _one_error(cli("--config", str(config), "add", name, "-c", "true"))
    assert message == f"a script named {name!r} already exists"
    assert str(config) in hint


def test_add_rejects_a_duplicate_in_scripts_d(cli: Cli, config: Path) -> None:
    assert cli("--config", str(config), "add", "once", "-c", "true").code == 0
    message, _ = _one_error(cli("--config", str(config), "add", "once", "-c", "false"))
    assert message == "a script named 'once' already exists"
    assert yaml.safe_load((config.parent / "scripts.d" / "once.yaml").read_text())["command"] == "true"


@pytest.mark.parametrize("name", [".hidden", ".."])
def test_added_script_is_monitored_or_rejected(cli: Cli, config: Path, name: str) -> None:
    """Never report "added" for a script the loader will not see."""
    result = cli("--config", str(config), "add", name, "-c", "true")
    names = [s["name"] for s in json.loads(cli("--config", str(config), "list", "--json").out)["scripts"]]
    assert (result.code == 0 and name in names) or (result.code == 1 and name not in names)


def test_concurrent_adds_both_land(cli: Cli, config: Path) -> None:
    codes: dict[str, int] = {}

    def add(name: str) -> None:
        codes[name] = cli("--config", str(config), "add", name, "-c", f"echo {name}").code

    threads = [threading.Thread(target=add, args=(f"parallel_{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert codes == {f"parallel_{i}": 0 for i in range(4)}
    loaded = load(config, config.parent / "scripts.d")
    assert {f"parallel_{i}" for i in range(4)} <= {s.name for s in loaded.scripts}
    assert loaded.errors == ()


# --- remove, enable, disable -----------------------------------------------------------------------------


def test_remove_from_config_yaml_keeps_comments(cli: Cli, config: Path, sink: JournalSink) -> None:
    result = cli("--config", str(config), "remove", "-f", "disk_check")
    assert (result.code, result.out) == (0, "removed disk_check\n")
    text = config.read_text()
    assert "disk_check" not in text
    for comment in ("# bamon config for the CLI tests", "# seconds", "# the web check", "# inline comment"):
        assert comment in text
    assert [s.name for s in load(config, None).scripts] == ["web_check"]
    (audit,) = sink.entries
    assert audit["BAMON_AUDIT_ACTION"] == "remove" and "disk_check" in audit["BAMON_AUDIT_BEFORE"]


def test_remove_from_scripts_d_deletes_the_file(cli: Cli, config: Path) -> None:
    cli("--config", str(config), "add", "temporary", "-c", "true")
    assert cli("--config", str(config), "remove", "-f", "temporary").code == 0
    assert not (config.parent / "scripts.d" / "temporary.yaml").exists()
    assert config.read_text() == CONFIG


def test_remove_needs_force_when_not_interactive(cli: Cli, config: Path) -> None:
    message, hint = _one_error(cli("--config", str(config), "remove", "web_check"))
    assert "without confirmation" in message and "-f" in hint
    assert config.read_text() == CONFIG


def test_editing_another_config_leaves_live_units_alone(cli: Cli, config: Path, runner: FakeRunner) -> None:
    """--config is not the config systemd runs: the live units of the same names stay untouched."""
    assert cli("--config", str(config), "disable", "web_check").code == 0
    assert cli("--config", str(config), "remove", "-f", "web_check").code == 0
    assert [call for call in runner.calls if call[0] == "systemctl"] == []


def test_disable_and_enable_keep_comments(cli: Cli, config: Path, sink: JournalSink) -> None:
    result = cli("--config", str(config), "disable", "web_check")
    assert (result.code, result.out) == (0, "disabled web_check\n")
    assert load(config, None).script("web_check").enabled is False  # type: ignore[union-attr]
    assert "# the web check" in config.read_text() and "# inline comment" in config.read_text()
    assert cli("--config", str(config), "disable", "web_check").out == "web_check is already disabled\n"

    assert cli("--config", str(config), "enable", "disk_check").code == 0
    assert cli("--config", str(config), "enable", "web_check").code == 0
    loaded = load(config, None)
    assert [s.enabled for s in loaded.scripts] == [True, True]
    assert "enabled" not in config.read_text()  # true is the default: the key is dropped
    assert "# a disabled one" in config.read_text()
    assert [e["BAMON_AUDIT_ACTION"] for e in sink.entries] == ["disable", "enable", "enable"]


def test_disable_changes_only_the_enabled_line(cli: Cli, config: Path) -> None:
    """Round-trip editing keeps the file's layout: the diff is the one added line."""
    assert cli("--config", str(config), "disable", "web_check").code == 0
    diff = [line for line in difflib.ndiff(CONFIG.splitlines(), config.read_text().splitlines())
            if line[:1] in "+-"]
    assert diff == ["+     enabled: false"]


def test_toggling_the_packaged_example_changes_one_line(cli: Cli, tmp_path: Path) -> None:
    """examples/config.yaml (the packaged default) has blank lines between entries and block scalars."""
    original = (REPO / "examples" / "config.yaml").read_text()
    config = tmp_path / "config.yaml"
    config.write_text(original)
    first = yaml.safe_load(original)["scripts"][0]["name"]
    assert cli("--config", str(config), "disable", first).code == 0
    diff = [line for line in difflib.ndiff(original.splitlines(), config.read_text().splitlines()) if line[:1] in "+-"]
    assert diff == ["+     enabled: false"]
    assert load(config, None).script(first).enabled is False  # type: ignore[union-attr]
    assert cli("--config", str(config), "enable", first).code == 0
    assert config.read_text() == original


def test_toggle_in_scripts_d(cli: Cli, config: Path) -> None:
    cli("--config", str(config), "add", "side", "-c", "true")
    assert cli("--config", str(config), "disable", "side").code == 0
    assert yaml.safe_load((config.parent / "scripts.d" / "side.yaml").read_text())["enabled"] is False
    assert cli("--config", str(config), "enable", "side").code == 0
    assert "enabled" not in yaml.safe_load((config.parent / "scripts.d" / "side.yaml").read_text())


@pytest.mark.parametrize("verb", [["remove", "-f"], ["enable"], ["disable"], ["history"]])
def test_unknown_script_name(cli: Cli, config: Path, verb: list[str]) -> None:
    message, hint = _one_error(cli("--config", str(config), *verb, "web_chek"))
    assert (message, hint) == ("no script named 'web_chek'", "did you mean 'web_check'?")


def test_unknown_script_name_without_a_close_match(cli: Cli, config: Path) -> None:
    message, hint = _one_error(cli("--config", str(config), "enable", "zzz"))
    assert message == "no script named 'zzz'" and "bamon list" in hint


def test_invalid_entry_is_named_as_such(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts:\n  - {name: ghost, command: x, severity: spooky}\n")
    message, hint = _one_error(cli("--config", str(config), "disable", "ghost"))
    assert message == "no script named 'ghost'" and "bamon config validate" in hint


# --- argparse -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["bogus"],
    ["list", "--bogus"],
    ["add"],
    ["add", "x"],
    ["add", "x", "-c", "true", "-i", "5", "-s", "daily"],
    ["config"],
    ["config", "frobnicate"],
    ["status", "--sort", "colour"],
    ["list", "--", "extra"],
])
def test_usage_errors_exit_2_with_one_line_and_a_hint(cli: Cli, config: Path, argv: list[str]) -> None:
    message, hint = _one_error(cli("--config", str(config), *argv), code=2)
    assert message and hint.startswith("see `bamon") and hint.endswith("--help`")


# --- a real process ---------------------------------------------------------------------------------

BROKEN = """\
daemon: {max_concurrent: 0, default_interval: }
sandbox: {timeout: 1.5, profile: paranoid}
scripts:
  - {name: a, command: "", interval: }
  - {name: b, command: x, schedule: 5, tags: [ok, "not ok"]}
  - just text
  - {name: c, command: x, environment: {1BAD: x}}
"""


@pytest.mark.parametrize("argv", [["config", "validate"], ["config", "validate", "--json"], ["list"],
                                  ["config", "show"], ["frobnicate"]])
def test_a_real_process_never_prints_a_traceback(write_config: WriteConfig, argv: list[str]) -> None:
    config = write_config(BROKEN)
    done = subprocess.run([sys.executable, "-m", "bamon", "--config", str(config), *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1, 2)
