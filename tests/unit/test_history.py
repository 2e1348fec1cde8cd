"""history/records.py and history/status.py: run records and the status of every check.

Records are parsed from sample `last` lines and sample journal entries (as `journalctl -o json`
prints them), never from a running journald. collect() gets a fake systemctl runner and state
files in tmp directories.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bamon.cli.status import render_table
from bamon.config.model import Config
from bamon.history.records import (
    REASONS,
    RunRecord,
    from_entry,
    journal_fields,
    parse_record,
    parse_state_line,
    read_state,
    record_message,
)
from bamon.history.status import CheckStatus, collect
from bamon.journal import field
from bamon.paths import Paths
from bamon.status_json import check as as_json
from bamon.systemd import Systemd, timestamp
from bamon.units import phase

if TYPE_CHECKING:
    from conftest import FakeRunner

LoadConfig = Callable[..., Config]
NOW_US = int(time.time() * 1_000_000)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """NOW_US as of this test: the fakes' "ten seconds ago" must not age while a long tier runs."""
    global NOW_US
    NOW_US = int(time.time() * 1_000_000)

# --- the `last` line -------------------------------------------------------------------------------


def test_parse_state_line() -> None:
    record = parse_state_line("web", "abc exit-code 7 1700000000000000 1700000002500000 3\n")
    assert record == RunRecord("web", "abc", "exit-code", 7, 1_700_000_000_000_000, 1_700_000_002_500_000, 3)
    assert record is not None
    assert not record.ok
    assert record.duration == 2.5
    assert record.started == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    # written back with the fields recovery added (attempt 1, nothing skipped); old lines still read
    assert record.state_line() == "abc exit-code 7 1700000000000000 1700000002500000 3 1 -\n"


def test_parse_state_line_killed_run() -> None:
    record = parse_state_line("web", "abc timeout -1 1 2 1")
    assert record is not None and record.exit_status is None and record.result == "timeout"
    assert record.state_line() == "abc timeout -1 1 2 1 1 -\n"


@pytest.mark.parametrize("text", ["", "\n", "abc success 0 1 2", "abc success zero 1 2 0", "a b c d e f"])
def test_parse_state_line_rejects_garbage(text: str) -> None:
    assert parse_state_line("web", text) is None


def test_read_state(tmp_path: Path) -> None:
    assert read_state("web", None) is None
    assert read_state("web", tmp_path / "missing") is None
    (tmp_path / "empty").write_text("")
    assert read_state("web", tmp_path / "empty") is None
    (tmp_path / "last").write_text("abc success 0 1 2 0\n")
    assert read_state("web", tmp_path / "last") == RunRecord("web", "abc", "success", 0, 1, 2, 0)


def test_duration_never_negative() -> None:
    assert RunRecord("web", "i", "success", 0, 10, 5, 0).duration == 0


# --- journal entries ------------------------------------------------------------------------------


MESSAGE = ("bamon-run result=exit-code exit_code=exited exit_status=7 start_usec=1700000000000000 "
           "end_usec=1700000002500000 duration_usec=2500000 consecutive_failures=2 invocation=0123abcd")
ENTRY = {
    "__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1700000002600000", "_HOSTNAME": "box",
    "MESSAGE": MESSAGE, "PRIORITY": "3", "SYSLOG_IDENTIFIER": "bamon-web", "BAMON_CHECK": "web",
    "_SYSTEMD_INVOCATION_ID": "0123abcd", "_TRANSPORT": "stdout",
}


def test_from_entry() -> None:
    assert from_entry(ENTRY) == RunRecord("web", "0123abcd", "exit-code", 7, 1_700_000_000_000_000,
                                          1_700_000_002_500_000, 2)


def test_from_entry_killed_run() -> None:
    message = MESSAGE.replace("result=exit-code exit_code=exited exit_status=7",
                              "result=timeout exit_code=killed exit_status=TERM")
    record = from_entry({**ENTRY, "MESSAGE": message})
    assert record is not None
    assert (record.result, record.exit_status, record.signal, record.ok) == ("timeout", None, "TERM", False)


def test_from_entry_repeated_and_binary_fields() -> None:
    entry = {**ENTRY, "SYSLOG_IDENTIFIER": list(b"bamon-web"), "MESSAGE": ["ignored", MESSAGE]}
    record = from_entry(entry)
    assert record is not None and (record.check, record.result) == ("web", "exit-code")


def test_output_lines_are_not_records() -> None:
    assert from_entry({**ENTRY, "MESSAGE": "disk on fire"}) is None
    assert from_entry({**ENTRY, "MESSAGE": "prefix bamon-run result=success"}) is None
    assert parse_record("web", "bamon-run result=success") is None  # fields missing


@pytest.mark.parametrize("broken", [
    ("start_usec=1700000000000000", "start_usec=soon"),
    ("consecutive_failures=2", "consecutive_failures=many"),
    ("end_usec=1700000002500000", "end_usec=1.5"),
    ("invocation=0123abcd", ""),
])
def test_from_entry_with_broken_fields(broken: tuple[str, str]) -> None:
    assert from_entry({**ENTRY, "MESSAGE": MESSAGE.replace(*broken)}) is None


def test_missing_optional_fields_default() -> None:
    record = parse_record("web", "bamon-run result=success exit_status=0 start_usec=5 end_usec=6 invocation=i")
    assert record == RunRecord("web", "i", "success", 0, 5, 6, 0)


@pytest.mark.parametrize("record", [
    RunRecord("web", "i1", "success", 0, 1_700_000_000_000_000, 1_700_000_000_100_000, 0),
    RunRecord("web", "i2", "exit-code", 2, 1_700_000_000_000_000, 1_700_000_003_000_000, 5),
    RunRecord("web", "i3", "oom-kill", None, 1, 2, 1, signal="KILL"),
])
def test_record_message_reads_back(record: RunRecord) -> None:
    fields = {k: str(v) for k, v in journal_fields(record).items()}  # journald stores text
    entry = {**fields, "MESSAGE": record_message(record)}
    assert fields["SYSLOG_IDENTIFIER"] == "bamon-web"
    assert from_entry(entry) == record


def test_field() -> None:
    assert field({"A": "x"}, "A") == "x"
    assert field({}, "A", "default") == "default"
    assert field({"A": ["first", "second"]}, "A") == "second"
    assert field({"A": list("héllo".encode())}, "A") == "héllo"
    assert field({"A": None}, "A", "d") == "d"


def test_every_systemd_result_has_a_reason() -> None:
    for result in ("success", "exit-code", "timeout", "oom-kill", "signal", "core-dump", "watchdog",
                   "start-limit-hit", "resources"):
        assert result in REASONS


# --- collect() --------------------------------------------------------------------------------------

CONFIG = """\
sandbox: {timeout: 2}
scripts:
  - {name: ok_check, command: "true", interval: 60}
  - {name: failing, command: "false", interval: 30}
  - {name: timing_out, command: "sleep 9", interval: 30}
  - {name: never_ran, command: "true"}
  - {name: paused, command: "true", enabled: false}
  - {name: paused_ran, command: "true", enabled: false}
  - {name: running, command: "sleep 1"}
  - {name: nightly, command: "true", schedule: "daily"}
"""


def _paths(tmp_path: Path, config: Config) -> Paths:
    return Paths(user_mode=False, config_file=config.main_file, scripts_dir=config.main_file.parent / "scripts.d",
                 state_dir=tmp_path / "state", check_state_dirs=(tmp_path / "none", tmp_path / "checks"),
                 unit_dir=tmp_path / "units", config_overridden=True)


def _last(tmp_path: Path, name: str, line: str) -> None:
    (tmp_path / "checks" / name).mkdir(parents=True, exist_ok=True)
    (tmp_path / "checks" / name / "last").write_text(line)


@pytest.fixture
def statuses(tmp_path: Path, load_config: LoadConfig, runner: FakeRunner) -> dict[str, CheckStatus]:
    config = load_config(CONFIG)
    start = NOW_US - 10_000_000  # ten seconds ago
    _last(tmp_path, "ok_check", f"i-ok success 0 {start} {start + 200_000} 0\n")
    _last(tmp_path, "failing", f"i-fail exit-code 1 {start} {start + 100_000} 3\n")
    _last(tmp_path, "timing_out", f"i-to timeout -1 {start} {start + 2_000_000} 1\n")
    _last(tmp_path, "paused_ran", f"i-p success 0 {start} {start + 1} 0\n")
    _last(tmp_path, "running", f"i-r success 0 {start} {start + 1} 0\n")
    timers = "\n".join(f"bamon-{n}.timer loaded active waiting bamon timer for check {n}"
                       for n in ("ok_check", "failing", "timing_out", "never_ran", "running", "nightly"))
    service = "bamon-running.service loaded activating start bamon check running"
    runner.on(["systemctl", "list-units"], f"{timers}\n{service}\n")
    runner.on(["systemctl", "show"], "Id=bamon-nightly.timer\nNextElapseUSecRealtime=@1900000000\n")
    checks = collect(config, _paths(tmp_path, config), Systemd(runner=runner), None)
    return {c.script.name: c for c in checks}


def test_collect_status_words(statuses: dict[str, CheckStatus]) -> None:
    assert {name: c.status for name, c in statuses.items()} == {
        "ok_check": "OK", "failing": "FAILED", "timing_out": "FAILED", "never_ran": "UNKNOWN",
        "paused": "DISABLED", "paused_ran": "OK", "running": "RUNNING", "nightly": "UNKNOWN"}
    assert list(statuses) == ["ok_check", "failing", "timing_out", "never_ran", "paused", "paused_ran",
                              "running", "nightly"]  # config order


def test_collect_reasons(statuses: dict[str, CheckStatus]) -> None:
    assert statuses["timing_out"].failure_reason == "timeout"
    assert statuses["timing_out"].reason_text() == "Timeout after 2s"
    assert statuses["failing"].failure_reason == "exit-code"
    assert statuses["failing"].reason_text() == "Exit code 1"
    assert statuses["failing"].record.consecutive_failures == 3
    assert statuses["ok_check"].failure_reason is None and statuses["ok_check"].reason_text() == ""
    assert statuses["never_ran"].reason_text() == ""


def test_collect_next_run(statuses: dict[str, CheckStatus]) -> None:
    """Every 60 s runs on its grid (the timer's OnCalendar=): the next point of it, at most 60 s on."""
    ok_next = statuses["ok_check"].next_run
    grid = phase.grid("ok_check", 60)
    assert grid is not None and ok_next is not None
    assert 0 <= ok_next.timestamp() - time.time() <= 60
    assert round(ok_next.timestamp() * 10) % 600 == grid.phase
    assert statuses["nightly"].next_run == datetime.fromtimestamp(1_900_000_000, tz=UTC)
    assert statuses["never_ran"].next_run is None  # no run yet to count from
    assert statuses["paused"].next_run is None and statuses["paused_ran"].next_run is None


def test_collect_next_run_off_the_grid_counts_from_the_last_start(
        tmp_path: Path, load_config: LoadConfig, runner: FakeRunner) -> None:
    """90 s has no calendar form: OnUnitActiveSec=, so the last start plus the interval."""
    config = load_config("scripts:\n  - {name: odd, command: x, interval: 90}\n")
    _last(tmp_path, "odd", f"i success 0 {NOW_US - 10_000_000} {NOW_US} 0\n")
    runner.on(["systemctl", "list-units"], "bamon-odd.timer loaded active waiting x\n")
    (odd,) = collect(config, _paths(tmp_path, config), Systemd(runner=runner), None)
    expected = datetime.fromtimestamp((NOW_US - 10_000_000) / 1e6 + 90, tz=UTC)
    assert odd.next_run is not None and abs((odd.next_run - expected).total_seconds()) < 0.01


def test_collect_overdue_interval_is_due_now(tmp_path: Path, load_config: LoadConfig, runner: FakeRunner) -> None:
    config = load_config("scripts:\n  - {name: late, command: x, interval: 7}\n")  # off the grid
    _last(tmp_path, "late", "i success 0 1000000 2000000 0\n")  # in 1970
    runner.on(["systemctl", "list-units"], "bamon-late.timer loaded active waiting x\n")
    (late,) = collect(config, _paths(tmp_path, config), Systemd(runner=runner), None)
    assert late.next_run is not None
    assert abs(late.next_run.timestamp() - time.time()) < 5


def test_collect_without_an_active_timer_has_no_next_run(tmp_path: Path, load_config: LoadConfig,
                                                         runner: FakeRunner) -> None:
    config = load_config("scripts:\n  - {name: stopped, command: x, interval: 5}\n")
    _last(tmp_path, "stopped", f"i success 0 {NOW_US} {NOW_US} 0\n")
    runner.on(["systemctl", "list-units"], "bamon-stopped.timer loaded inactive dead x\n")
    (stopped,) = collect(config, _paths(tmp_path, config), Systemd(runner=runner), None)
    assert stopped.status == "OK" and stopped.next_run is None


def test_collect_by_name_and_batched_systemctl(tmp_path: Path, load_config: LoadConfig, runner: FakeRunner) -> None:
    config = load_config(CONFIG)
    checks = collect(config, _paths(tmp_path, config), Systemd(runner=runner), None, names=["failing", "nightly"])
    assert [c.script.name for c in checks] == ["failing", "nightly"]
    assert [call[1] for call in runner.calls] == ["list-units", "show"]  # one call each, whatever the count
    assert runner.calls[1][-1] == "bamon-nightly.timer"


def test_collect_without_systemd(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config(CONFIG)
    _last(tmp_path, "failing", "i exit-code 4 1 2 1\n")
    checks = {c.script.name: c for c in collect(config, _paths(tmp_path, config), None, None)}
    assert checks["failing"].status == "FAILED" and checks["failing"].next_run is None
    assert checks["ok_check"].output == ()


# --- what `bamon status --json` makes of it (DESIGN §4) ---------------------------------------------------

ORIGINAL_KEYS = {"name", "enabled", "lastExecution", "result", "exitCode", "duration", "timeSince",
                 "nextExecution", "output", "error"}
ADDED_KEYS = {"status", "failureReason", "unit", "invocationId", "consecutiveFailures",
              "skipReason", "attempt", "circuit"}


def test_status_json_keeps_the_original_keys_with_sane_types(statuses: dict[str, CheckStatus]) -> None:
    documents = {name: as_json(c) for name, c in statuses.items()}
    for document in documents.values():
        assert set(document) == ORIGINAL_KEYS | ADDED_KEYS
    timing_out = documents["timing_out"]
    assert timing_out["result"] == "Failed" and timing_out["status"] == "FAILED"
    assert timing_out["failureReason"] == "timeout" and timing_out["error"] == "Timeout after 2s"
    assert timing_out["exitCode"] is None and timing_out["duration"] == 2.0
    assert timing_out["lastExecution"].endswith("Z")
    assert datetime.fromisoformat(timing_out["lastExecution"].replace("Z", "+00:00"))
    assert 7.5 < timing_out["timeSince"] < 60  # since the end of the run
    failing = documents["failing"]
    assert (failing["exitCode"], failing["consecutiveFailures"], failing["invocationId"]) == (1, 3, "i-fail")
    assert failing["unit"] == "bamon-failing.service"
    assert documents["ok_check"]["result"] == "Success" and documents["ok_check"]["error"] is None
    never = documents["never_ran"]
    assert [never[k] for k in ("lastExecution", "exitCode", "duration", "timeSince", "nextExecution")] == [None] * 5
    assert (never["result"], never["status"], never["consecutiveFailures"], never["output"]) == (
        "Unknown", "UNKNOWN", 0, None)
    assert documents["nightly"]["nextExecution"] == "2030-03-17T17:46:40Z"


def test_status_table_has_the_original_columns(statuses: dict[str, CheckStatus]) -> None:
    lines = render_table(list(statuses.values())).splitlines()
    assert lines[0].split("  ")[0] == "NAME"
    for column in ("NAME", "STATUS", "EXIT CODE", "OUTPUT", "DURATION", "TIME SINCE", "NEXT EXECUTION"):
        assert column in lines[0]
    timing_out = next(line for line in lines if line.startswith("timing_out"))
    assert "Failed" in timing_out and "Timeout after 2s" in timing_out
    paused = next(line for line in lines if line.startswith("paused "))
    assert "Disabled" in paused and paused.rstrip().endswith("disabled")


@pytest.mark.parametrize(("text", "expected"), [
    ("@1900000000", datetime.fromtimestamp(1900000000, tz=UTC)),
    # systemd 252 prints a timer's NextElapseUSecRealtime as a date even with --timestamp=unix
    ("Fri 2026-11-27 04:00:00 UTC", datetime(2026, 11, 27, 4, 0, tzinfo=UTC)),
    ("", None), ("n/a", None), ("0", None),
])
def test_systemd_timestamps_in_both_forms(text: str, expected: datetime | None) -> None:
    assert timestamp(text) == expected


def test_local_zone_dates_are_read_in_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    time.tzset()
    try:
        assert timestamp("Fri 2026-11-27 05:00:00 CET") == datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
