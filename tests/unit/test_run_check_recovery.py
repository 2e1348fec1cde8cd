"""run-check's recovery blocks, run the way the unit runs them (bash, BAMON_* from the unit).

Skips (circuit open, a dependency failing, a condition), the half-open trial closing the circuit,
retries with one record per attempt, and that the BAMON_* variables do not reach the command.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from bamon.history.records import parse_record, parse_state_line
from tests.unit.test_run_check import RUN_CHECK, split_record

NOW_US = 1_700_000_000_000_000


def run(tmp: Path, command: str, name: str = "web", invocation: str = "inv", **env: str) -> tuple[
        subprocess.CompletedProcess[str], str]:
    state = tmp / "checks" / name
    state.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["/bin/bash", str(RUN_CHECK), name, command], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "STATE_DIRECTORY": str(state), "INVOCATION_ID": invocation,
                               **env}, check=False, stdin=subprocess.DEVNULL)
    return done, (state / "last").read_text()


def test_a_failing_dependency_skips_and_keeps_the_failure_count(tmp_path: Path) -> None:
    (tmp_path / "checks" / "db").mkdir(parents=True)
    (tmp_path / "checks" / "db" / "last").write_text("x exit-code 1 1 2 2 1 -\n")
    (tmp_path / "checks" / "db" / "failing").write_text("2\n")
    (tmp_path / "checks" / "web").mkdir(parents=True)
    (tmp_path / "checks" / "web" / "last").write_text("y exit-code 1 1 2 4 1 -\n")
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="disk/failing db/failing")
    assert done.returncode == 0 and "ran" not in done.stdout
    record = parse_state_line("web", last)
    assert record and record.skipped and record.skip == "dependency:db" and record.consecutive_failures == 4
    _, fields = split_record(done.stderr)
    assert fields["result"] == "skipped" and fields["skip"] == "dependency:db" and fields["PRIORITY"] == "6"
    (tmp_path / "checks" / "db" / "last").write_text("x success 0 1 2 0 1 -\n")
    (tmp_path / "checks" / "db" / "failing").write_text("")
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="disk/failing db/failing")
    assert done.stdout == "ran\n" and last.split()[1] == "success"


def test_a_dependency_without_a_failing_file_never_ran_and_holds_nothing_back(tmp_path: Path) -> None:
    """One stat: no `failing` file is a check that never ran (the .deb's upgrade makes the file for
    checks of 0.1, which kept none), so the dependent runs and its `last` is not read."""
    (tmp_path / "checks" / "db").mkdir(parents=True)
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="db/failing")
    assert done.stdout == "ran\n" and last.split()[1] == "success"
    (tmp_path / "checks" / "db" / "last").write_text("x exit-code 1 1 2 2 1 -\n")  # not looked at
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="db/failing")
    assert done.stdout == "ran\n" and last.split()[1] == "success"
    (tmp_path / "checks" / "db" / "failing").write_text("2\n")  # what run-check writes with that line
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="db/failing")
    assert "ran" not in done.stdout and last.split()[-1] == "dependency:db"


def test_a_check_keeps_its_failing_file_for_the_checks_that_depend_on_it(tmp_path: Path) -> None:
    """Empty while it passes, its failure count while it fails: dependents stat it, no read."""
    failing = tmp_path / "checks" / "db" / "failing"
    run(tmp_path, "true", name="db", invocation="1")  # a first run makes it
    assert failing.read_text() == ""
    run(tmp_path, "exit 3", name="db", invocation="2")
    assert failing.read_text() == "1\n"
    run(tmp_path, "exit 3", name="db", invocation="3")
    assert failing.read_text() == "2\n"
    done, last = run(tmp_path, "echo ran", name="web", BAMON_WATCH="db/failing")
    assert "ran" not in done.stdout and last.split()[-1] == "dependency:db"
    run(tmp_path, "true", name="db", invocation="4")
    assert failing.read_text() == "" and (failing.parent / "recovered").exists()
    done, last = run(tmp_path, "echo ran", name="web", BAMON_WATCH="db/failing")
    assert done.stdout == "ran\n" and last.split()[1] == "success"
    # a skipped run keeps its count, and so its file (web failed 4 times before it was skipped)
    (tmp_path / "checks" / "web" / "last").write_text("y exit-code 1 1 2 4 1 -\n")
    run(tmp_path, "exit 3", name="db", invocation="5")
    run(tmp_path, "echo ran", name="web", BAMON_WATCH="db/failing")
    assert (tmp_path / "checks" / "web" / "failing").read_text() == "4\n"


def test_an_empty_failing_file_is_trusted_and_any_other_sends_to_last(tmp_path: Path) -> None:
    db = tmp_path / "checks" / "db"
    db.mkdir(parents=True)
    (db / "last").write_text("x exit-code 1 1 2 2 1 -\n")
    (db / "failing").write_text("")  # empty: passing, whatever `last` says (one stat decides)
    done, _ = run(tmp_path, "echo ran", BAMON_WATCH="db/failing")
    assert done.stdout == "ran\n"
    (db / "failing").write_text("2\n")  # not empty: `last` decides, and says failing
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="db/failing")
    assert "ran" not in done.stdout and last.split()[-1] == "dependency:db"
    (db / "last").write_text("x success 0 1 2 0 1 -\n")  # `last` says passing: the run goes on
    done, _ = run(tmp_path, "echo ran", BAMON_WATCH="db/failing")
    assert done.stdout == "ran\n"


def test_watched_files_are_told_in_their_order_and_only_a_non_empty_one_is_read(tmp_path: Path) -> None:
    """BAMON_WATCH as the generator writes it for a breaker and two dependencies."""
    watch = "web/circuit disk/failing db/failing"
    for name in ("disk", "db"):
        (tmp_path / "checks" / name).mkdir(parents=True)
        (tmp_path / "checks" / name / "failing").write_text("")
    (tmp_path / "checks" / "db" / "last").write_text("x exit-code 1 1 2 2 1 -\n")  # an empty file wins: not read
    done, last = run(tmp_path, "echo ran", BAMON_WATCH=watch)
    assert done.stdout == "ran\n" and last.split()[1] == "success"
    (tmp_path / "checks" / "db" / "failing").write_text("2\n")
    done, last = run(tmp_path, "echo ran", BAMON_WATCH=watch)
    assert "ran" not in done.stdout and last.split()[-1] == "dependency:db"
    (tmp_path / "checks" / "web" / "circuit").write_text(f"open {NOW_US * 10}\n")  # the first file says skip
    done, last = run(tmp_path, "echo ran", BAMON_WATCH=watch)
    assert "ran" not in done.stdout and last.split()[-1] == f"circuit-open:{NOW_US * 10}"


def test_a_failing_condition_skips_never_fails(tmp_path: Path) -> None:
    done, last = run(tmp_path, "echo ran", BAMON_CONDITION="test -f /nonexistent")
    assert done.returncode == 0 and done.stdout == "bamon: skipped (condition)\n"
    assert last.split()[1::6] == ["skipped", "condition"]
    done, _ = run(tmp_path, "echo \"$BAMON_CONDITION$BAMON_MAX_CONCURRENT\"", BAMON_CONDITION="true",
                  BAMON_MAX_CONCURRENT="3")
    assert done.stdout == "\n"  # the command does not see bamon's own variables


def test_open_circuit_skips_until_the_cooldown_then_a_passing_trial_closes_it(tmp_path: Path) -> None:
    circuit = tmp_path / "checks" / "web" / "circuit"
    circuit.parent.mkdir(parents=True)
    circuit.write_text(f"open {NOW_US * 10}\n")  # far in the future
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="web/circuit")
    assert "ran" not in done.stdout and last.split()[-1] == f"circuit-open:{NOW_US * 10}"
    circuit.write_text("open 1\n")  # the cooldown is over
    done, last = run(tmp_path, "echo ran", BAMON_WATCH="web/circuit")
    assert done.stdout == "ran\n" and circuit.read_text() == ""  # closed: empty, told by one stat


def test_a_closed_circuit_is_not_read_and_an_old_closed_line_is_emptied(tmp_path: Path) -> None:
    circuit = tmp_path / "checks" / "web" / "circuit"
    circuit.parent.mkdir(parents=True)
    os.mkfifo(circuit)  # size 0 like a closed circuit; opening it to read or write would hang the run
    done, _ = run(tmp_path, "echo ran", BAMON_WATCH="web/circuit")
    assert done.stdout == "ran\n" and stat.S_ISFIFO(circuit.stat().st_mode)
    circuit.unlink()
    circuit.write_text("closed 0\n")  # what earlier builds wrote: read, run, and emptied
    done, _ = run(tmp_path, "echo ran", BAMON_WATCH="web/circuit")
    assert done.stdout == "ran\n" and circuit.read_text() == ""


def test_a_failing_trial_leaves_it_half_open_for_the_notifier(tmp_path: Path) -> None:
    circuit = tmp_path / "checks" / "web" / "circuit"
    circuit.parent.mkdir(parents=True)
    circuit.write_text("open 1\n")
    done, _ = run(tmp_path, "exit 2", BAMON_WATCH="web/circuit")
    assert done.returncode == 2 and circuit.read_text() == "half-open 0\n"


def test_retries_record_every_attempt_and_count_one_failed_run(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    command = f'n=$(( $(cat {counter} 2>/dev/null || echo 0) + 1 )); echo $n > {counter}; echo "try $n"; exit 3'
    done, last = run(tmp_path, command, BAMON_RETRY_DELAYS="1 1")
    assert done.returncode == 3 and done.stdout == "try 1\ntry 2\ntry 3\n"
    records = [parse_record("web", line[3:]) for line in done.stderr.splitlines()]
    assert [(r.attempt, r.attempts, r.result, r.consecutive_failures) for r in records if r] == [
        (1, 3, "exit-code", 0), (2, 3, "exit-code", 0), (3, 3, "exit-code", 1)]
    assert [line[:3] for line in done.stderr.splitlines()] == ["<4>", "<4>", "<3>"]  # only the last is an error
    starts = [r.start_us for r in records if r]
    assert starts[1] - starts[0] >= 1_000_000 and starts[2] - starts[1] >= 1_000_000
    record = parse_state_line("web", last)
    assert record and record.attempt == 3 and record.consecutive_failures == 1


def test_a_retry_that_passes_is_a_success(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    command = f'[ -f {counter} ] || {{ : > {counter}; exit 1; }}'
    done, last = run(tmp_path, command, BAMON_RETRY_DELAYS="1")
    assert done.returncode == 0
    assert last.split()[1] == "success" and last.split()[5:7] == ["0", "2"]
