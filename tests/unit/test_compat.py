"""The original BAMON's interface, option by option: every command and flag of its bashly.yml
(and of its docs/commands/log.md) is run here and must keep working.

The checks' state comes from the three seams of `bamon status` (state files, the fake
systemctl runner, a stand-in journal); `bamon log` and `bamon performance` read a canned
journal through `Journal.stream` / `Journal.entries`. What is checked is the exit status and
the shape of the output, plus the rules of the drop-in: an option that has no meaning here
prints exactly one note on stderr and never changes stdout, and a rejected combination is one
error line with a hint, never a traceback or "unrecognized arguments".
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from bamon import paths
from bamon.errors import BamonError
from bamon.journal import Journal

if TYPE_CHECKING:
    from conftest import CliResult, FakeChecks, FakeRunner

Cli = Callable[..., "CliResult"]
SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "status.schema.json").read_text())

CONFIG = """\
# the original's layout
daemon: {default_interval: 60, log_file: /var/log/bamon.log}
scripts:
  - {name: alpha, command: "echo a", interval: 60}
  - {name: bravo, command: "exit 3", interval: 60}
  - {name: charlie, command: "sleep 9", interval: 60, timeout: 2}
  - {name: delta, command: "true", enabled: false}
  - {name: echo, command: "true", interval: 30}
  - {name: foxtrot, command: "printf 'x\\\\ny'", interval: 60}
"""
NOW_US = int(time.time() * 1e6)
# name: (invocation, result, exit status, seconds ago, duration, failures); echo and delta never ran
RUNS = {
    "alpha": ("inv-a", "success", 0, 30, 0.25, 0),
    "bravo": ("inv-b", "exit-code", 3, 20, 0.05, 4),
    "charlie": ("inv-c", "timeout", -1, 10, 2.0, 1),
    "foxtrot": ("inv-f", "success", 0, 5, 0.01, 0),
}
OUTPUT = {"inv-a": ["alpha says hi"], "inv-b": ["first line", "disk on fire"], "inv-c": ["starting"],
          "inv-f": ["x", "y"]}
# journald entries as journalctl -o json prints them
JOURNAL = [
    {"__REALTIME_TIMESTAMP": str(NOW_US - 9_000_000 + i), "PRIORITY": p, "_SYSTEMD_UNIT": f"bamon-{n}.service",
     "SYSLOG_IDENTIFIER": f"bamon-{n}", "MESSAGE": m}
    for i, (n, p, m) in enumerate([
        ("alpha", "6", "alpha says hi"), ("bravo", "6", "first line"), ("bravo", "3", "disk on fire"),
        ("charlie", "6", "starting"), ("charlie", "4", "slow disk"), ("alpha", "7", "debug detail"),
        ("bravo", "3", "disk on fire again"), ("foxtrot", "6", "x"),
    ])
]
RESOURCES = [{"UNIT": "bamon-alpha.service", "CPU_USAGE_NSEC": "4000000"},
             {"UNIT": "bamon-bravo.service", "CPU_USAGE_NSEC": "9000000"}]


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The journalctl arguments of each `bamon log`; the canned journal is what they return."""
    calls: list[list[str]] = []

    def stream(self: Journal, args: Sequence[str]) -> Iterator[dict[str, Any]]:
        calls.append(list(args))
        wanted = {a.split("=", 1)[1] for a in args if a.startswith("PRIORITY=")}
        yield from (e for e in JOURNAL if not wanted or e["PRIORITY"] in wanted)

    def entries(self: Journal, matches: Sequence[str], **options: Any) -> list[dict[str, Any]]:
        if any(m.startswith("MESSAGE_ID=") for m in matches):
            return RESOURCES
        return [{"SYSLOG_IDENTIFIER": f"bamon-{name}", "MESSAGE": (
            f"bamon-run result={result} exit_code=exited exit_status={max(status, 0)} start_usec=1 "
            f"end_usec={int(duration * 1e6)} consecutive_failures={failures} invocation={inv}")}
            for name, (inv, result, status, _, duration, failures) in RUNS.items()]

    monkeypatch.setattr(Journal, "stream", stream)
    monkeypatch.setattr(Journal, "entries", entries)
    return calls


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_checks: FakeChecks,
           streams: list[list[str]]) -> Path:
    path = tmp_path / "etc" / "config.yaml"
    path.parent.mkdir()
    path.write_text(CONFIG)
    # the config systemd runs (so `now` starts units): every system path points into tmp_path
    monkeypatch.setattr(paths, "SYSTEM_CONFIG", path)
    monkeypatch.setattr(paths, "SYSTEM_UNIT_DIR", tmp_path / "units")
    monkeypatch.setattr(paths.Paths, "generator_installed", lambda self: True)
    fake_checks(tmp_path / "state", RUNS, OUTPUT,
                ("alpha", "bravo", "charlie", "echo", "foxtrot"), NOW_US)
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal: nothing answers a prompt
    return path


def run(cli: Cli, config: Path, *argv: str) -> CliResult:
    result = cli(*argv)  # `config` is where the system config is
    assert "Traceback" not in result.err and "unrecognized arguments" not in result.err, result.err
    return result


def notes(result: CliResult) -> list[str]:
    return result.err.splitlines()


def table_names(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def json_out(result: CliResult) -> Any:
    return json.loads(result.out)


# --- every command and option of the original ----------------------------------------------------------------

def _status_table(out: str) -> None:
    assert out.splitlines()[0].split()[:2] == ["NAME", "STATUS"]


def _valid_status(out: str) -> None:
    jsonschema.validate(json.loads(out), SCHEMA)


def _has(*words: str) -> Callable[[str], None]:
    def check(out: str) -> None:
        for word in words:
            assert word in out, (word, out)
    return check


def _json_lines(out: str) -> None:
    for line in out.splitlines():
        assert set(json.loads(line)) == {"timestamp", "level", "script", "message"}


def _performance_json(out: str) -> None:
    document = json.loads(out)
    assert {"load", "memory", "disk"} <= set(document["system_metrics"])
    assert list(document["script_performance"])[:2] == ["bravo", "alpha"]  # the most CPU first
    assert set(document["script_performance"]["alpha"]) >= {"avg_time", "failures"}


def _nothing(out: str) -> None:
    assert out == ""


# (argv, exit status, a check of stdout): from the original's bashly.yml and docs/commands/*.md
ORIGINAL = [
    (["status"], 0, _status_table),
    (["status", "--verbose"], 0, _has("journalctl -u bamon-bravo.service")),
    (["status", "-v"], 0, _has("consecutive failures: 4")),
    (["status", "--failed-only"], 0, lambda out: table_names(out) == ["bravo", "charlie"] or pytest.fail(out)),
    (["status", "-f"], 0, lambda out: table_names(out) == ["bravo", "charlie"] or pytest.fail(out)),
    (["status", "--json"], 0, _valid_status),
    (["status", "-j"], 0, _valid_status),
    (["status", "--name", "alpha"], 0, lambda out: table_names(out) == ["alpha"] or pytest.fail(out)),
    (["status", "-n", "alpha"], 0, _has("Success")),
    (["add", "health_check", "--command", "curl -s -o /dev/null -w %{http_code} https://x.invalid",
      "--interval", "30"], 0, _has("added health_check")),
    (["add", "disk_check", "--command", "df -h / | awk NR==2", "--description", "Check disk usage"], 0,
     _has("added disk_check")),
    (["add", "c1", "-c", "true", "-i", "45", "-d", "text"], 0, _has("added c1")),
    (["add", "c2", "-c", "true", "--enabled"], 0, _has("added c2")),
    (["add", "c3", "-c", "true", "--disabled"], 0, _has("added c3")),
    (["remove", "old_script", "--force"], 1, _nothing),  # no such script: an error, not a crash
    (["remove", "alpha", "--force"], 0, _has("removed alpha")),
    (["remove", "bravo", "-f"], 0, _has("removed bravo")),
    (["now"], 1, _status_table),  # bravo fails: non-zero, as a monitoring run should
    (["now", "--name", "alpha"], 0, _status_table),
    (["now", "-n", "alpha"], 0, _has("Success")),
    (["start"], 0, _has("bamon.target: active")),
    (["start", "--daemon"], 0, _has("bamon.target")),
    (["start", "-d"], 0, _has("bamon.target")),
    (["stop"], 0, _has("bamon.target")),
    (["stop", "--force"], 0, _has("bamon.target")),
    (["stop", "-f"], 0, _has("bamon.target")),
    (["restart"], 0, _has("bamon.target")),
    (["restart", "--daemon"], 0, _has("bamon.target")),
    (["restart", "-d"], 0, _has("bamon.target")),
    (["list"], 0, lambda out: table_names(out) == ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
     or pytest.fail(out)),
    (["list", "--enabled-only"], 0, lambda out: "delta" not in table_names(out) or pytest.fail(out)),
    (["list", "-e"], 0, lambda out: "delta" not in table_names(out) or pytest.fail(out)),
    (["list", "--disabled-only"], 0, lambda out: table_names(out) == ["delta"] or pytest.fail(out)),
    (["list", "-d"], 0, lambda out: table_names(out) == ["delta"] or pytest.fail(out)),
    (["performance"], 0, _has("Load:", "Memory:", "Disk /:", "CPU TIME")),
    (["performance", "--verbose"], 0, _has("CPU/RUN", "check timers")),
    (["performance", "-v"], 0, _has("CPU/RUN")),
    (["performance", "--format", "table"], 0, _has("Load:")),
    (["performance", "--format", "json"], 0, _performance_json),
    (["performance", "-f", "json"], 0, _performance_json),
    (["performance", "--json"], 0, _performance_json),
    (["config", "edit"], 0, _has("no changes")),
    (["config", "edit", "--editor", "true"], 0, _has("no changes")),
    (["config", "edit", "-e", "true"], 0, _has("no changes")),
    (["config", "show"], 0, lambda out: out == CONFIG or pytest.fail(out)),  # as written, comments kept
    (["config", "show", "--pretty"], 0, _has("# the original's layout", "name: alpha")),
    (["config", "show", "-p"], 0, _has("  - name: bravo")),
    (["config", "validate"], 0, _has("config OK")),
    (["config", "validate", "--verbose"], 0, _has("read ", "alpha: every 60s")),
    (["config", "validate", "-v"], 0, _has("charlie")),
    (["config", "reset", "--force"], 0, _has("wrote the default config")),
    (["config", "reset", "-f"], 0, _has("wrote the default config")),
    (["log"], 0, _has("[bravo] disk on fire", "INFO")),
    (["log", "--lines", "100"], 0, _has("[alpha]")),
    (["log", "-n", "2"], 0, lambda out: len(out.splitlines()) == 2 or pytest.fail(out)),
    (["log", "--lines", "0"], 0, _nothing),
    (["log", "--follow"], 0, _has("[alpha]")),
    (["log", "-f"], 0, _has("[alpha]")),
    (["log", "--level", "ERROR"], 0, lambda out: {line.split()[2] for line in out.splitlines()} == {"ERROR"}
     or pytest.fail(out)),
    (["log", "-l", "ERROR,WARN"], 0, _has("slow disk", "disk on fire")),
    (["log", "-l", "INFO", "--lines", "20"], 0, _has("alpha says hi")),
    (["log", "--since", "1h"], 0, _has("[alpha]")),
    (["log", "-s", "2d"], 0, _has("[alpha]")),
    (["log", "--until", "2023-01-01"], 0, _has("[alpha]")),  # the stand-in journal ignores times
    (["log", "-u", "1h"], 0, _has("[alpha]")),
    (["log", "--search", "github"], 0, _nothing),  # no match: nothing, exit 0
    (["log", "--search", "fire"], 0, lambda out: len(out.splitlines()) == 2 or pytest.fail(out)),
    (["log", "-g", ".*FIRE.*", "--regex"], 0, _nothing),  # capitals: case-sensitive, like journalctl
    (["log", "-g", "fire.*again", "-r"], 0, lambda out: len(out.splitlines()) == 1 or pytest.fail(out)),
    (["log", "--search", "fire", "--before", "1", "--after", "1"], 0, _has("first line", "starting", "--")),
    (["log", "-g", "again", "-b", "2"], 0, _has("slow disk", "debug detail", "disk on fire again")),
    (["log", "-g", "hi", "-a", "1"], 0, _has("alpha says hi", "first line")),
    (["log", "--info"], 0, _has("Location:", "Size:", "Retention:")),
    (["log", "-i"], 0, _has("journald")),
    (["log", "--format", "json", "--lines", "10"], 0, _json_lines),
    (["log", "-o", "json"], 0, _json_lines),
    (["log", "--search", "fire", "--before", "1", "--after", "1", "--format", "json"], 0, _json_lines),
    (["log", "--no-color"], 0, _has("[alpha]")),
    (["log", "--follow", "--level", "ERROR,WARN"], 0, _has("slow disk")),
    (["--version"], 0, _has("bamon ")),
    (["-V"], 0, _has("bamon ")),
    (["--help"], 0, _has("status", "performance", "log")),
    (["-h"], 0, _has("usage")),
]


@pytest.mark.parametrize(("argv", "code", "check"), ORIGINAL, ids=[" ".join(a[0][:5]) for a in ORIGINAL])
def test_every_original_command_and_option(cli: Cli, config: Path, argv: list[str], code: int,
                                           check: Callable[[str], Any]) -> None:
    result = run(cli, config, *argv)
    assert result.code == code, (result.out, result.err)
    check(result.out)


# --- legacy options: one note on stderr, stdout unchanged ------------------------------------------------------

IGNORED = [
    (["start"], ["--daemon"]), (["start"], ["-d"]), (["start"], ["--config", "/etc/bamon/other.yml"]),
    (["start"], ["-c", "/etc/bamon/other.yml"]), (["restart"], ["--daemon"]), (["restart"], ["-d"]),
    (["restart"], ["-c", "/etc/bamon/other.yml"]), (["now", "-n", "alpha", "--json"], ["--async"]),
    (["now", "-n", "alpha", "--json"], ["-a"]),
]


@pytest.mark.parametrize(("base", "legacy"), IGNORED, ids=[" ".join(b + x) for b, x in IGNORED])
def test_an_ignored_option_is_one_note_and_never_changes_stdout(cli: Cli, config: Path, base: list[str],
                                                                legacy: list[str]) -> None:
    plain, with_legacy = run(cli, config, *base), run(cli, config, *base, *legacy)
    assert with_legacy.code == plain.code
    assert _stable(with_legacy.out) == _stable(plain.out)
    assert len(notes(with_legacy)) == len(notes(plain)) + 1
    assert notes(with_legacy)[-1].startswith("bamon: ") and "error" not in notes(with_legacy)[-1]


def _stable(out: str) -> str:
    """stdout without the one value that moves between two runs: seconds since the last run."""
    try:
        document = json.loads(out)
    except ValueError:
        return out
    for script in document.get("scripts", []):
        script.pop("timeSince", None)
    return json.dumps(document)


def test_start_with_the_config_systemd_reads_says_nothing(cli: Cli, config: Path) -> None:
    assert notes(run(cli, config, "start", "-c", str(config))) == []


def test_stop_force_also_stops_running_checks(cli: Cli, config: Path, runner: FakeRunner) -> None:
    runner.on(["systemctl", "list-units"], "bamon-alpha.service loaded activating start bamon check alpha\n")
    run(cli, config, "stop", "--force")
    assert ["systemctl", "stop", "bamon-alpha.service"] in runner.calls


# --- rejected: one line and a hint -------------------------------------------------------------------------

REJECTED = [
    (["add", "x"], 2),  # --command is required
    (["add", "x", "-c", "true", "--enabled", "--disabled"], 2),
    (["list", "-e", "-d"], 2),
    (["status", "--name", "nosuch"], 1),
    (["now", "-n", "nosuch"], 1),
    (["log", "--level", "LOUD"], 1),
    (["log", "-g", "(", "--regex"], 1),
    (["log", "-n", "-3"], 1),
    (["performance", "--format", "xml"], 2),
    (["config", "reset"], 1),  # no one answered: nothing replaced
    (["remove", "alpha"], 1),  # no terminal and no --force
    (["status", "--bogus"], 2),
    # what bashly rejected: a missing argument, a missing value, a missing subcommand
    (["add"], 2), (["remove"], 2), (["status", "--name"], 2), (["now", "-n"], 2), (["config"], 2),
    (["config", "edit", "--editor"], 2), (["performance", "--format"], 2), (["log", "--lines"], 2),
    (["log", "--lines", "many"], 2), (["start", "--config"], 2),
]


@pytest.mark.parametrize(("argv", "code"), REJECTED, ids=[" ".join(a) for a, _ in REJECTED])
def test_rejected_combinations_are_one_error_with_a_hint(cli: Cli, config: Path, argv: list[str],
                                                        code: int) -> None:
    result = cli(*argv)
    assert result.code == code
    lines = notes(result)
    assert len(lines) == 2, result.err
    assert lines[0].startswith("bamon: error: ") and lines[1].startswith("  hint: "), result.err
    assert result.out == ""


# --- nothing configured -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["list", "status", "now"])
def test_nothing_configured(cli: Cli, tmp_path: Path, command: str) -> None:
    empty = tmp_path / "config.yaml"
    empty.write_text("scripts: []\n")
    result = cli("--config", str(empty), command)
    assert result.code == 0
    assert result.out.startswith("No scripts configured.") and "bamon add" in result.out


# --- status --json against the published schema ---------------------------------------------------------

def test_status_json_validates_for_every_kind_of_check(cli: Cli, config: Path) -> None:
    document = json_out(run(cli, config, "status", "--json"))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(document, SCHEMA)
    checks = {s["name"]: s for s in document["scripts"]}
    assert document["version"] == 2
    assert (checks["alpha"]["result"], checks["alpha"]["output"]) == ("Success", "alpha says hi")  # one line
    assert (checks["bravo"]["result"], checks["bravo"]["output"]) == ("Failed", ["first line", "disk on fire"])
    assert (checks["charlie"]["failureReason"], checks["charlie"]["exitCode"]) == ("timeout", None)
    assert (checks["delta"]["status"], checks["delta"]["result"]) == ("DISABLED", "Unknown")
    assert (checks["echo"]["status"], checks["echo"]["output"], checks["echo"]["lastExecution"]) == (
        "UNKNOWN", None, None)
    assert checks["foxtrot"]["output"] == ["x", "y"]  # passing, several lines


def test_schema_rejects_what_is_not_the_document(cli: Cli, config: Path) -> None:
    document = json_out(run(cli, config, "status", "--json"))
    document["scripts"][0]["result"] = "success"  # the wrong case is a different word to jq
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_status_table_cuts_long_or_multiline_output(cli: Cli, config: Path) -> None:
    rows = {line.split()[0]: line for line in run(cli, config, "status").out.splitlines()[1:]}
    assert "y (truncated - use --json)" in rows["foxtrot"]
    assert "(truncated" not in rows["alpha"]


# --- log: what journalctl is asked ------------------------------------------------------------------------------

def test_log_maps_levels_and_times_for_journalctl(cli: Cli, config: Path, streams: list[list[str]]) -> None:
    run(cli, config, "log", "bravo", "-l", "ERROR,WARN", "-s", "1h", "-u", "2023-01-01", "--", "-b")
    args = streams[-1]
    assert [a for a in args if a.startswith("PRIORITY=")] == [f"PRIORITY={p}" for p in range(5)]
    assert "--since=-1h" in args and "--until=2023-01-01" in args and "-b" in args
    assert args[:2] == ["-u", "bamon-bravo.service"]


def test_log_search_counts_lines_after_the_search(cli: Cli, config: Path, streams: list[list[str]]) -> None:
    run(cli, config, "log", "-g", "fire", "-n", "1")
    assert not any(a.startswith("--lines") for a in streams[-1])  # the search sees the whole range
    run(cli, config, "log", "-n", "7")
    assert "--lines=7" in streams[-1]


def test_log_colours_only_on_a_terminal(cli: Cli, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr("bamon.cli.log.use_color", lambda: True)
    assert "\033[31m" in run(cli, config, "log").out
    assert "\033[" not in run(cli, config, "log", "--no-color").out
    monkeypatch.setattr("bamon.cli.log.use_color", lambda: False)
    assert "\033[" not in run(cli, config, "log").out


def test_performance_uses_systemds_last_run_figure_when_nothing_was_journaled(
        cli: Cli, config: Path, runner: FakeRunner) -> None:
    # systemd journals "Consumed … CPU" only at debug level below a second: the unit keeps it
    runner.on(["systemctl", "show"], "Id=bamon-charlie.service\nCPUUsageNSec=900000000\n")
    document = json_out(run(cli, config, "performance", "--json"))
    charlie = document["script_performance"]["charlie"]
    assert next(iter(document["script_performance"])) == "charlie"
    assert (charlie["cpu_per_run"], charlie["cpu_seconds"]) == (0.9, 0.9)
    assert document["script_performance"]["echo"]["cpu_per_run"] is None  # never ran, nothing known


def test_now_local_prints_the_same_document(cli: Cli, tmp_path: Path) -> None:
    local = tmp_path / "local.yaml"
    local.write_text('scripts:\n  - {name: one, command: "echo a; echo b"}\n  - {name: two, command: "exit 2"}\n')
    result = cli("--config", str(local), "now", "--local", "--json")
    document = json.loads(result.out)
    jsonschema.validate(document, SCHEMA)
    assert [(s["name"], s["result"], s["output"]) for s in document["scripts"]] == [
        ("one", "Success", ["a", "b"]), ("two", "Failed", None)]
    assert result.code == 1


def test_config_show_reads_an_invalid_file_as_written(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "config.yaml"
    broken.write_text("# half-edited\nscripts:\n  - {name: a, command: [unclosed\n")
    (tmp_path / "scripts.d").mkdir()
    (tmp_path / "scripts.d" / "b.yaml").write_text("name: b\ncommand: true  # fine\n")
    for flags in ([], ["--pretty"]):
        result = cli("--config", str(broken), "config", "show", *flags)
        assert result.code == 0, result.err
        assert "[unclosed" in result.out and "# half-edited" in result.out and "# fine" in result.out
        assert f"# ==> {tmp_path / 'scripts.d' / 'b.yaml'} <==" in result.out


def _fake_journalctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "journalctl"
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")


def test_journal_stream_reads_json_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_journalctl(tmp_path, monkeypatch, 'echo "$*" >&2\necho \'{"MESSAGE": "one"}\'\necho not-json\n'
                     'echo \'{"MESSAGE": "two"}\'\n')
    assert [e["MESSAGE"] for e in Journal().stream(["-u", "bamon-*"])] == ["one", "two"]


def test_journal_stream_turns_a_journalctl_error_into_one_line(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_journalctl(tmp_path, monkeypatch, 'echo "Failed to parse timestamp: soon" >&2\nexit 1\n')
    with pytest.raises(BamonError, match="journalctl: Failed to parse timestamp: soon"):
        list(Journal().stream(["--since=soon"]))
