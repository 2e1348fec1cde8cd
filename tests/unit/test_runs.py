"""history/runs.py and the output-lag guard in records.outputs: runs assembled from journal
entries as `journalctl -o json` prints them; the time window; the history and analytics CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bamon.errors import BamonError
from bamon.history.records import RunRecord, outputs, record_message
from bamon.history.runs import RESOURCES_ID, assemble, read_many, select, status_of
from bamon.history.window import moment, window
from bamon.journal import Journal

if TYPE_CHECKING:
    from conftest import CliResult

Cli = Callable[..., "CliResult"]
NOW = time.time()


def record(invocation: str, result: str = "success", status: int = 0, at: float = NOW - 60,
           check: str = "web") -> RunRecord:
    start = int(at * 1e6)
    return RunRecord(check, invocation, result, status, start, start + 250_000, 0 if result == "success" else 1)


def entries_of(check: str, runs: list[tuple[RunRecord, list[str], int | None]],
               with_ids: bool = True) -> list[dict[str, Any]]:
    """Journal entries of runs as journald stores them: output lines, the record, accounting."""
    out: list[dict[str, Any]] = []
    for rec, lines, cpu_ns in runs:
        ids = {"_SYSTEMD_INVOCATION_ID": rec.invocation} if with_ids else {}
        out += [{"MESSAGE": line, "SYSLOG_IDENTIFIER": f"bamon-{check}", **ids} for line in lines]
        out.append({"MESSAGE": record_message(rec), "SYSLOG_IDENTIFIER": f"bamon-{check}", **ids})
        if cpu_ns is not None:
            out.append({"MESSAGE": "Consumed", "MESSAGE_ID": RESOURCES_ID, "UNIT": f"bamon-{check}.service",
                        "INVOCATION_ID": rec.invocation, "CPU_USAGE_NSEC": str(cpu_ns),
                        "SYSLOG_IDENTIFIER": "systemd"})
    return out


def test_assemble_runs_with_output_cpu_and_metrics() -> None:
    first, second = record("i1", at=NOW - 120), record("i2", "exit-code", 1, at=NOW - 60)
    entries = entries_of("web", [(first, ["DISK OK | /=5MB;8;9;0;10"], 12_000_000),
                                 (second, ["DISK WARNING | /=8.5MB;8;9;0;10", "detail"], 3_000_000)])
    runs = assemble(entries, "web", "nagios")
    assert [r.status for r in runs] == ["OK", "WARNING"]
    assert [r.cpu_s for r in runs] == [0.012, 0.003]
    assert runs[1].output == ("DISK WARNING | /=8.5MB;8;9;0;10", "detail")
    assert runs[1].metrics[0].value == 8.5 and runs[1].reason == "exit code 1"
    assert runs[1].as_dict()["metrics"][0]["label"] == "/"
    assert [r.record.invocation for r in select(runs)] == ["i2", "i1"]
    assert [r.record.invocation for r in select(runs, "OK")] == ["i1"]
    assert assemble(entries, "web", "plain")[1].status == "FAILED"


def test_assemble_without_invocation_ids_uses_the_order_of_lines() -> None:
    """User managers: journald often cannot attach the invocation id to a run's lines."""
    stored = [(record("i1", at=NOW - 9), ["one"], None), (record("i2", at=NOW - 5), ["two", "2b"], None)]
    entries = entries_of("web", stored, with_ids=False)
    runs = assemble(entries, "web")
    assert [r.output for r in runs] == [("one",), ("two", "2b")]
    assert runs[0].cpu_s is None


def test_a_retried_run_shows_every_attempt_with_its_own_output() -> None:
    """Recovery's retries run inside run-check: one record per attempt, one invocation; issue 7
    wants every attempt in `bamon history` (with the delays between them)."""
    first = RunRecord("web", "i1", "exit-code", 1, 1, 2, 1, attempt=1, attempts=3)
    second = RunRecord("web", "i1", "success", 0, 3, 4, 0, attempt=2, attempts=3)
    line = record_message(first).replace(" invocation=", " attempt=1 attempts=3 skip=- invocation=")
    entries = [{"MESSAGE": "try 1"}, {"MESSAGE": line}, {"MESSAGE": "try 2"},
               {"MESSAGE": line.replace("result=exit-code", "result=success").replace("attempt=1 ", "attempt=2 ")}]
    failed, run = assemble(entries, "web")
    assert (failed.status, failed.record.attempt, failed.output) == ("FAILED", 1, ("try 1",))
    assert (run.status, run.record.attempt, run.record.attempts, run.output) == ("OK", 2, 3, ("try 2",))
    assert run.as_dict()["attempt"] == 2 and second.attempts == 3


def test_the_notifier_correction_wins() -> None:
    ran = record("i1", "success")
    corrected = RunRecord("web", "i1", "oom-kill", None, ran.start_us, ran.end_us, 1, signal="KILL")
    entries = entries_of("web", [(ran, ["x"], None)]) + [
        {"MESSAGE": record_message(corrected), "SYSLOG_IDENTIFIER": "bamon-web"}]
    (only,) = assemble(entries, "web")
    assert only.status == "FAILED" and only.record.result == "oom-kill" and only.output == ("x",)


def test_read_many_is_two_scans_for_all_checks_split_by_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    entries = entries_of("a", [(record("ia", check="a"), ["A"], 1_000_000)]) + entries_of(
        "b", [(record("ib", check="b"), ["B"], 2_000_000)])

    def fake(self: Journal, groups: list[list[str]], fields: list[str], **kwargs: Any) -> list[dict[str, Any]]:
        calls.append(groups)
        return [e for e in entries if ("MESSAGE_ID" in e) == ("MESSAGE_ID" in fields)]
    monkeypatch.setattr(Journal, "scan", fake)
    monkeypatch.setattr(Journal, "_reader", lambda self: None)  # as without python-systemd
    found = read_many(Journal(), {"a": "plain", "b": "plain"})
    assert calls == [[[f"MESSAGE_ID={RESOURCES_ID}"]],
                     [["SYSLOG_IDENTIFIER=bamon-a", "SYSLOG_IDENTIFIER=bamon-b"]]]
    assert [(r.output, r.cpu_s) for r in found["a"]] == [(("A",), 0.001)]
    assert [(r.output, r.cpu_s) for r in found["b"]] == [(("B",), 0.002)]


def test_scan_without_python_systemd_is_one_journalctl_query(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_systemd(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "systemd":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    asked: list[list[str]] = []
    monkeypatch.setattr(builtins, "__import__", no_systemd)
    monkeypatch.setattr(Journal, "entries", lambda self, matches, **kw: asked.append(matches) or [
        {"MESSAGE": "x", "OTHER": "y"}])
    assert Journal().scan([["A=1", "A=2"], ["B=3"]], ("MESSAGE",)) == [{"MESSAGE": "x"}]
    assert asked == [["A=1", "A=2", "+", "B=3"]]


def test_nagios_exit_codes() -> None:
    assert [status_of(record("x", "exit-code", s), "nagios") for s in (1, 2, 3, 7)] == [
        "WARNING", "FAILED", "UNKNOWN", "UNKNOWN"]
    assert status_of(record("x", "exit-code", 1)) == "FAILED"
    assert status_of(record("x", "timeout", 1), "nagios") == "FAILED"


# --- journald lag: never a run without its output --------------------------------------------------

def test_outputs_wait_until_the_record_line_is_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = [["partial"], ["partial", "rest"], ["partial", "rest", "bamon-run result=success invocation=i1"]]
    asked: list[Any] = []

    def messages(self: Journal, queries: list[Any]) -> list[list[str]]:
        asked.append(queries)
        return [stored[min(len(asked) - 1, 2)]]
    monkeypatch.setattr(Journal, "messages", messages)
    assert outputs(Journal(), [record("i1", at=time.time() - 1)]) == {"i1": ["partial", "rest"]}
    assert len(asked) == 3
    (matches, since, _), = asked[0]
    assert matches == ["SYSLOG_IDENTIFIER=bamon-web"] and since > 0


def test_outputs_leave_out_the_lines_of_other_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the check's identifier from the run's start on: lines before an earlier run's
    record were that run's, and lines after this run's record belong to the next."""
    monkeypatch.setattr(Journal, "messages", lambda self, queries: [[
        "late line of i0", "bamon-run result=success invocation=i0 cpu_usec=1", "mine", "mine too",
        "bamon-run result=success exit_code=exited invocation=i1", "next run"]])
    assert outputs(Journal(), [record("i1", at=time.time() - 1)]) == {"i1": ["mine", "mine too"]}


def test_outputs_do_not_wait_for_runs_systemd_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Journal, "messages", lambda self, queries: [["starting"] for _ in queries])
    started = time.monotonic()
    assert outputs(Journal(), [record("i1", "timeout", at=time.time() - 1)]) == {"i1": ["starting"]}
    # nor for runs long past: what the journal holds of them now is all there is
    assert outputs(Journal(), [record("i2", at=time.time() - 600)]) == {"i2": ["starting"]}
    assert time.monotonic() - started < 0.5


def test_outputs_give_up_after_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Journal, "messages", lambda self, queries: [[] for _ in queries])
    assert outputs(Journal(), [record("i1", at=time.time() - 1)], wait=0.1) == {}


# --- time windows ------------------------------------------------------------------------------------

def test_moments() -> None:
    assert moment("7d", now=1_000_000) == 1_000_000 - 7 * 86400
    assert moment("90min ago", now=10_000) == 10_000 - 5400
    assert moment("now", now=5) == 5
    assert moment("2026-11-20T10:00:00+00:00") == 1_795_168_800


@pytest.mark.parametrize("text", ["banana", "7 parsecs", "2026-13-45", ""])
def test_moments_that_make_no_sense(text: str) -> None:
    with pytest.raises(BamonError, match="cannot read") as raised:
        moment(text)
    assert "7d" in raised.value.hint


def test_window_is_bounded_by_retention() -> None:
    since, until, note = window("60d", None, 30, "7d", now=100 * 86400)
    assert since == 70 * 86400 * 1_000_000 and until is None and note and "30 days" in note
    assert window(None, "1d", 30, "7d", now=100 * 86400)[:2] == (93 * 86400 * 10**6, 99 * 86400 * 10**6)
    with pytest.raises(BamonError, match="before"):
        window("1d", "2d", 30, "7d")


# --- the CLI -------------------------------------------------------------------------------------------

@pytest.fixture
def journal_with_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [(record(f"i{i}", "success" if i % 3 else "exit-code", 0 if i % 3 else 2, at=NOW - 3600 + 60 * i),
             [f"line {i}", "BAMON_METRIC queue=3"] + (["BAMON_METRIC bad name=1"] if i == 5 else []), 5_000_000)
            for i in range(30)]
    monkeypatch.setattr(Journal, "scan", lambda self, groups, fields, **kw: entries_of("site", runs))
    monkeypatch.setattr(Journal, "_reader", lambda self: None)  # as without python-systemd
    monkeypatch.setattr(Journal, "oldest_us", lambda self: int((NOW - 7200) * 1e6))


@pytest.fixture
def web_config(write_config: Callable[..., Path]) -> Path:
    return write_config("scripts:\n  - {name: site, command: 'echo hi', interval: 60}\n")


def test_history_json_rows_and_filters(cli: Cli, web_config: Path, journal_with_runs: None) -> None:
    import json

    result = cli("--config", str(web_config), "history", "site", "--json", "--status", "failed", "-n", "3")
    assert result.code == 0, result.err
    runs = json.loads(result.out)["runs"]
    assert [r["invocationId"] for r in runs] == ["i27", "i24", "i21"]
    assert all(r["status"] == "FAILED" and r["exitCode"] == 2 and r["cpu"] == 0.005 for r in runs)
    assert runs[0]["output"] == ["line 27", "BAMON_METRIC queue=3"] and runs[0]["metrics"][0]["value"] == 3


def test_history_table_and_bad_input(cli: Cli, web_config: Path, journal_with_runs: None) -> None:
    result = cli("--config", str(web_config), "history", "site")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["START", "STATUS", "DURATION", "EXIT", "REASON", "ATTEMPT", "CPU", "OUTPUT"]
    assert len(lines) == 31 and "line 29" in lines[1] and "5ms" in lines[1]
    assert "metric name 'bad name' has spaces" in result.err  # said, and the rows still printed
    bad = cli("--config", str(web_config), "history", "site", "--since", "banana")
    assert bad.code == 1 and bad.err.startswith("bamon: error: cannot read 'banana' as a time")
    assert "Traceback" not in bad.err
    unknown = cli("--config", str(web_config), "history", "stie")
    assert unknown.code == 1 and "did you mean 'site'" in unknown.err


def test_a_vacuumed_journal_is_said_once_and_the_rows_still_shown(cli: Cli, web_config: Path,
                                                                 journal_with_runs: None) -> None:
    result = cli("--config", str(web_config), "history", "site", "--since", "3d")
    assert result.code == 0 and len(result.out.splitlines()) == 31
    assert result.err.count("the journal starts at") == 1 and "older runs are gone" in result.err
    assert "the journal starts" not in cli("--config", str(web_config), "history", "site", "--since", "1h").err


def test_analytics_cli(cli: Cli, web_config: Path, journal_with_runs: None, tmp_path: Path) -> None:
    import json

    result = cli("--config", str(web_config), "analytics", "--json")
    assert result.code == 0, result.err
    (check,) = json.loads(result.out)["checks"]
    assert check["runs"] == 30 and check["successRate"] == pytest.approx(20 / 30, abs=1e-4)
    assert check["failureEpisodes"] == 10 and check["cpuPerRun"] == 0.005
    text = cli("--config", str(web_config), "analytics", "site", "--plot", str(tmp_path / "web.svg"))
    assert text.code == 0 and "● site: 30 runs, 66.7% OK" in text.out
    assert (tmp_path / "web.svg").read_text().startswith("<svg")
    bad = cli("--config", str(web_config), "analytics", "site", "--plot", str(tmp_path / "web.gif"))
    assert bad.code == 1 and "name the file .svg or .png" in bad.err
