"""notify/record.py: the notifier's record of runs systemd ended itself.

verdict() reads systemd's view of the failed run ($MONITOR_* from systemd ≥ 251, else
`systemctl show` through a fake runner); record_failure() writes the `last` line and one
journald record (to a collecting sink), continuing or correcting the failure count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bamon.history.records import RunRecord, from_entry, read_state
from bamon.journal import Journal
from bamon.notify.record import memory_exhausted, record_failure, verdict
from bamon.systemd import Systemd

if TYPE_CHECKING:
    from conftest import FakeRunner, JournalSink

SHOW = """\
Id=bamon-web.service
InvocationID=0123abcd
Result=timeout
ExecMainCode=2
ExecMainStatus=15
ExecMainStartTimestamp=@1700000000
ExecMainExitTimestamp=@1700000002
"""


def _timeout(invocation: str = "inv-new", **extra: str) -> dict[str, str]:
    return {"invocation": invocation, "result": "timeout", "code": "killed", "status": "TERM",
            "start": "@1700000000", "end": "@1700000002", **extra}


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "checks" / "web" / "last"


def _previous(state_file: Path, record: RunRecord) -> None:
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(record.state_line())


def _run(invocation: str, result: str, failures: int, status: int | None = 1) -> RunRecord:
    return RunRecord("web", invocation, result, status, 1_600_000_000_000_000, 1_600_000_001_000_000, failures)


# --- verdict ---------------------------------------------------------------------------------------


def test_verdict_from_monitor_environment(runner: FakeRunner) -> None:
    runner.on(["systemctl", "show"], SHOW)
    env = {"MONITOR_SERVICE_RESULT": "oom-kill", "MONITOR_EXIT_CODE": "killed", "MONITOR_EXIT_STATUS": "KILL",
           "MONITOR_INVOCATION_ID": "0123abcd", "MONITOR_UNIT": "bamon-web.service"}
    seen = verdict("web", env, Systemd(runner=runner))
    assert _verdict_only(seen) == {"invocation": "0123abcd", "result": "oom-kill", "code": "killed",
                                   "status": "KILL", "start": "@1700000000", "end": "@1700000002"}
    # the unit's accounting comes along for the alert's evidence, from the same call
    assert seen["InvocationID"] == "0123abcd" and "CPUUsageNSec" in seen and "MemoryPeak" in seen
    (call,) = runner.calls
    assert call[:3] == ["systemctl", "show", "--timestamp=unix"] and call[-1] == "bamon-web.service"


def test_verdict_from_monitor_environment_ignores_times_of_another_run(runner: FakeRunner) -> None:
    runner.on(["systemctl", "show"], SHOW)
    env = {"MONITOR_SERVICE_RESULT": "exit-code", "MONITOR_EXIT_CODE": "exited", "MONITOR_EXIT_STATUS": "3",
           "MONITOR_INVOCATION_ID": "ffff"}
    seen = verdict("web", env, Systemd(runner=runner))
    assert _verdict_only(seen) == {"invocation": "ffff", "result": "exit-code", "code": "exited", "status": "3"}


def test_verdict_from_systemctl_show(runner: FakeRunner) -> None:
    runner.on(["systemctl", "show"], SHOW)
    seen = verdict("web", {}, Systemd(runner=runner))
    assert _verdict_only(seen) == {"invocation": "0123abcd", "result": "timeout", "code": "killed", "status": "15",
                                   "start": "@1700000000", "end": "@1700000002"}


def _verdict_only(seen: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in seen.items() if k.islower()}


def test_verdict_of_a_user_unit_asks_the_user_manager(runner: FakeRunner) -> None:
    verdict("web", {}, Systemd(user_mode=True, runner=runner))
    assert runner.calls[0][:2] == ["systemctl", "--user"]


# --- record_failure ----------------------------------------------------------------------------------


def test_timeout_without_a_previous_record(state_file: Path, sink: JournalSink) -> None:
    record = record_failure("web", _timeout(), state_file, Journal(sink=sink))
    assert record is not None
    assert (record.result, record.exit_status, record.signal) == ("timeout", None, "TERM")
    assert record.consecutive_failures == 1
    assert (record.start_us, record.end_us) == (1_700_000_000_000_000, 1_700_000_002_000_000)
    assert read_state("web", state_file) == RunRecord("web", "inv-new", "timeout", None, 1_700_000_000_000_000,
                                                      1_700_000_002_000_000, 1)
    assert state_file.read_text() == "inv-new timeout -1 1700000000000000 1700000002000000 1 1 -\n"
    (entry,) = sink.entries
    # the line run-check prints for the runs it records (bamon/history/records.py parses it)
    assert entry["MESSAGE"] == ("bamon-run result=timeout exit_code=killed exit_status=TERM "
                                "start_usec=1700000000000000 end_usec=1700000002000000 duration_usec=2000000 "
                                "consecutive_failures=1 attempt=1 attempts=1 skip=- invocation=inv-new")
    assert entry["BAMON_CHECK"] == "web" and entry["SYSLOG_IDENTIFIER"] == "bamon-web"
    assert entry["PRIORITY"] == "3"
    assert all(isinstance(v, str) for v in entry.values())
    assert from_entry(entry) == record  # what history reads back


def test_timeout_after_a_previous_failure_continues_the_count(state_file: Path, sink: JournalSink) -> None:
    _previous(state_file, _run("inv-old", "exit-code", 2))
    record = record_failure("web", _timeout(), state_file, Journal(sink=sink))
    assert record is not None and record.consecutive_failures == 3
    stored = read_state("web", state_file)
    assert stored is not None and (stored.invocation, stored.result, stored.consecutive_failures) == (
        "inv-new", "timeout", 3)


def test_timeout_after_a_success_starts_a_new_count(state_file: Path, sink: JournalSink) -> None:
    _previous(state_file, _run("inv-old", "success", 0, status=0))
    record = record_failure("web", _timeout(), state_file, Journal(sink=sink))
    assert record is not None and record.consecutive_failures == 1


def test_the_failing_file_dependents_look_at_gets_the_count(state_file: Path, sink: JournalSink) -> None:
    """A run systemd ended never returns to run-check: the notifier keeps `failing` as it would."""
    failing = state_file.with_name("failing")
    _previous(state_file, _run("inv-old", "exit-code", 2))
    failing.write_text("2\n")
    record_failure("web", _timeout(), state_file, Journal(sink=sink))
    assert failing.read_text() == "3\n"
    failing.unlink()  # a check whose last run predates the file
    record_failure("web", _timeout("inv-newer"), state_file, Journal(sink=sink))
    assert failing.read_text() == "4\n"
    assert failing.stat().st_uid == state_file.parent.stat().st_uid


def test_same_invocation_is_corrected_without_counting_twice(state_file: Path, sink: JournalSink) -> None:
    _previous(state_file, _run("inv-1", "exit-code", 4, status=137))
    seen = {"invocation": "inv-1", "result": "oom-kill", "code": "killed", "status": "KILL"}
    record = record_failure("web", seen, state_file, Journal(sink=sink))
    assert record is not None
    assert (record.result, record.consecutive_failures, record.invocation) == ("oom-kill", 4, "inv-1")
    assert read_state("web", state_file) == record
    (entry,) = sink.entries
    assert entry["MESSAGE"].startswith("bamon-run result=oom-kill exit_code=exited exit_status=137 ")
    assert from_entry(entry) == record


def test_correcting_a_recorded_success_counts_the_failure(state_file: Path, sink: JournalSink) -> None:
    """run-check wrote success, then systemd still failed the run (e.g. a timeout after it)."""
    _previous(state_file, _run("inv-1", "success", 0, status=0))
    record = record_failure("web", _timeout("inv-1"), state_file, Journal(sink=sink))
    assert record is not None and record.result == "timeout"
    assert record.consecutive_failures >= 1


def test_nothing_to_do_when_run_check_recorded_the_same_verdict(state_file: Path, sink: JournalSink) -> None:
    _previous(state_file, _run("inv-1", "exit-code", 2, status=3))
    before = state_file.read_text()
    seen = {"invocation": "inv-1", "result": "exit-code", "code": "exited", "status": "3"}
    assert record_failure("web", seen, state_file, Journal(sink=sink)) is None
    assert state_file.read_text() == before
    assert sink.entries == []


@pytest.mark.parametrize("seen", [
    {"invocation": "inv-1", "result": "success", "code": "exited", "status": "0"},
    {"invocation": "", "result": "timeout", "code": "killed", "status": "TERM"},
])
def test_nothing_to_record(state_file: Path, sink: JournalSink, seen: dict[str, str]) -> None:
    assert record_failure("web", seen, state_file, Journal(sink=sink)) is None
    assert not state_file.exists() and sink.entries == []


def test_exit_code_verdict_keeps_the_status(state_file: Path, sink: JournalSink) -> None:
    seen = {"invocation": "inv-2", "result": "exit-code", "code": "exited", "status": "2"}
    record = record_failure("web", seen, state_file, Journal(sink=sink))
    assert record is not None and (record.exit_status, record.signal) == (2, "")
    assert " exit_code=exited exit_status=2 " in sink.entries[0]["MESSAGE"]


def test_missing_times_fall_back_to_now(state_file: Path, sink: JournalSink) -> None:
    record = record_failure("web", {"invocation": "i", "result": "signal", "code": "killed", "status": "SEGV"},
                            state_file, Journal(sink=sink))
    assert record is not None and record.start_us == record.end_us > 1_600_000_000_000_000


@pytest.mark.parametrize(("output", "expected"), [
    (["bash: fork: Cannot allocate memory"], True),
    (["MemoryError"], True),
    (["terminate called after throwing an instance of 'std::bad_alloc'"], True),
    (["curl: (7) Failed to connect"], False),
    ([], False),
])
def test_memory_exhausted(output: list[str], expected: bool) -> None:
    assert memory_exhausted(output) is expected


def test_a_later_run_recorded_first_stays_the_last_result(state_file: Path, sink: JournalSink) -> None:
    """A quick run after a timeout finished before the timeout's notifier started: the unit's
    current invocation is that later run, whose record must not be overwritten."""
    later = _run("inv-later", "success", 0, status=0)
    _previous(state_file, later)
    assert record_failure("web", _timeout("inv-timed-out", InvocationID="inv-later"), state_file,
                          Journal(sink=sink)) is None
    assert read_state("web", state_file) == later
    (entry,) = sink.entries  # the timed-out run still reaches history
    assert from_entry(entry).invocation == "inv-timed-out" and from_entry(entry).result == "timeout"


def test_a_later_run_and_an_exit_code_failure_leave_history_to_run_check(state_file: Path,
                                                                        sink: JournalSink) -> None:
    later = _run("inv-later", "success", 0, status=0)
    _previous(state_file, later)
    seen = {"invocation": "inv-failed", "result": "exit-code", "code": "exited", "status": "3",
            "InvocationID": "inv-later"}
    assert record_failure("web", seen, state_file, Journal(sink=sink)) is None
    assert read_state("web", state_file) == later and sink.entries == []


def test_an_older_record_is_replaced_while_a_later_run_is_still_going(state_file: Path, sink: JournalSink) -> None:
    """The unit already runs again (current invocation unknown to the state file): the timed-out
    run is newer than the recorded one, so it becomes the last result."""
    _previous(state_file, _run("inv-old", "success", 0, status=0))
    record = record_failure("web", _timeout("inv-timed-out", InvocationID="inv-running"), state_file,
                            Journal(sink=sink))
    stored = read_state("web", state_file)
    assert record is not None and stored is not None
    assert (stored.invocation, stored.result) == ("inv-timed-out", "timeout")
