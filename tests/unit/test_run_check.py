"""bamon/units/run-check: the bash wrapper every check runs in.

It is run with /bin/bash the way the unit runs it (`/bin/bash run-check NAME COMMAND`), in a
tmp $STATE_DIRECTORY with $INVOCATION_ID set. Its stdout is what journald would file: the
command's output, then the run record "<N>bamon-run key=value …". Checked: the `last` line,
consecutive failures across invocations, exit status propagation, the record's fields (and that
bamon's own parser reads them back), and that the command behaves as it would under `bash -c`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bamon.history.records import parse_record, parse_state_line
from bamon.units import render
from bamon.units.shell import runs_inline

# the copy under test: the tree's, or another (test_minify.py runs these tests on the installed form)
RUN_CHECK = Path(os.environ.get("BAMON_TEST_RUN_CHECK") or render.RUN_CHECK)

RECORD = re.compile(r"<(?P<priority>\d)>(?P<message>bamon-run .*)\n\Z")


def split_record(stdout: str) -> tuple[str, dict[str, str]]:
    """(the command's own output, the record line's fields plus PRIORITY and MESSAGE)."""
    output, _, last = stdout[:-1].rpartition("\n") if "\n" in stdout[:-1] else ("", "", stdout[:-1])
    match = RECORD.fullmatch(last + "\n")
    assert match, f"no record line at the end of {stdout!r}"
    fields = dict(pair.split("=", 1) for pair in match["message"].split()[1:])
    return (output + "\n" if output else ""), {**fields, "PRIORITY": match["priority"], "MESSAGE": match["message"]}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    last: str
    record: dict[str, str]


RunCheck = Callable[..., Run]


def _wrapper(command: str, env: dict[str, str], name: str = "probe",
             timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """`/bin/bash run-check NAME COMMAND` as the unit runs it, with only `env` (and PATH) set."""
    return subprocess.run(["/bin/bash", str(RUN_CHECK), name, command], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **env}, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


CGROUP_CPU_USEC = 4321  # what the fake bamon.slice's cpu.stat says the probe's cgroup used


@pytest.fixture
def run_check(tmp_path: Path) -> RunCheck:
    """run-check as its unit runs it; BAMON_SLICE is a stand-in for bamon.slice's cgroup directory."""
    state = tmp_path / "state"
    state.mkdir()
    slice_dir = tmp_path / "bamon.slice"
    (slice_dir / "bamon-probe.service").mkdir(parents=True)
    (slice_dir / "bamon-probe.service" / "cpu.stat").write_text(
        f"usage_usec {CGROUP_CPU_USEC}\nuser_usec 1\nsystem_usec 2\n")

    def run(command: str, invocation: str = "inv-1", name: str = "probe", inline: bool = False) -> Run:
        done = _wrapper(command, {"STATE_DIRECTORY": str(state), "INVOCATION_ID": invocation,
                                  "HOME": str(tmp_path), "BAMON_SLICE": str(slice_dir),
                                  **({"BAMON_INLINE": "1"} if inline else {})}, name)
        _, record = split_record(done.stderr)
        return Run(done.returncode, done.stdout, done.stderr, (state / "last").read_text(), record)

    return run


def _bash_c(command: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`bash -c` with stderr joined to stdout, as run-check runs the command."""
    return subprocess.run(["/bin/bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=20, check=False, stdin=subprocess.DEVNULL,
                          env={"PATH": os.environ["PATH"], "HOME": str(home)})


def test_success_line_and_record(run_check: RunCheck) -> None:
    run = run_check("echo hello", invocation="aaaa")
    assert (run.returncode, run.stdout) == (0, "hello\n")
    invocation, result, status, start, end, failures, attempt, skip = run.last.split()
    assert (attempt, skip) == ("1", "-")
    assert run.last.endswith("\n") and len(run.last.splitlines()) == 1
    assert (invocation, result, status, failures) == ("aaaa", "success", "0", "0")
    assert int(start) <= int(end)
    assert int(start) > 1_500_000_000_000_000  # microseconds since the epoch
    record = run.record
    assert record["PRIORITY"] == "6"
    assert record["invocation"] == "aaaa"
    assert record["result"] == "success"
    assert record["exit_code"] == "exited"
    assert record["exit_status"] == "0"
    assert (record["start_usec"], record["end_usec"]) == (start, end)
    assert record["duration_usec"] == str(int(end) - int(start))
    assert record["consecutive_failures"] == "0"
    # bamon's reader gets back exactly what the `last` line says, and the CPU time
    parsed = parse_record("probe", record["MESSAGE"])
    assert parsed is not None and parsed.cpu_us is not None and parsed.cpu_us >= 0
    assert replace(parsed, cpu_us=None) == parse_state_line("probe", run.last)


def test_failure_line_and_record(run_check: RunCheck) -> None:
    run = run_check("echo broken >&2; exit 7")
    assert (run.returncode, run.stdout) == (7, "broken\n")  # stderr joins stdout
    parsed = parse_state_line("probe", run.last)
    assert parsed is not None
    assert (parsed.result, parsed.exit_status, parsed.consecutive_failures) == ("exit-code", 7, 1)
    assert run.record["PRIORITY"] == "3"
    assert (run.record["result"], run.record["exit_status"]) == ("exit-code", "7")
    assert run.record["consecutive_failures"] == "1"
    assert parse_record("probe", run.record["MESSAGE"]) == replace(parsed, cpu_us=int(run.record["cpu_usec"]))


def test_every_kind_of_record_has_the_same_fields_in_the_same_order(tmp_path: Path) -> None:
    """A success writes its record inline (run-check); failures, skips and retried attempts through
    run-check-record's function: one format, which bamon/history/records.py parses in this order."""
    state = tmp_path / "checks" / "probe"
    state.mkdir(parents=True)
    (tmp_path / "checks" / "db").mkdir()
    (tmp_path / "checks" / "db" / "last").write_text("x exit-code 1 1 2 3 1 -\n")
    (tmp_path / "checks" / "db" / "failing").write_text("3\n")
    env = {"STATE_DIRECTORY": str(state), "INVOCATION_ID": "i"}
    lines = [*_wrapper("true", env).stderr.splitlines(), *_wrapper("exit 3", env).stderr.splitlines(),
             *_wrapper("true", {**env, "BAMON_WATCH": "db/failing"}).stderr.splitlines(),
             *_wrapper("false", {**env, "BAMON_RETRY_DELAYS": "0"}).stderr.splitlines()]
    records = [line for line in lines if line[3:].startswith("bamon-run ")]
    assert [r.split()[1].split("=")[1] for r in records] == ["success", "exit-code", "skipped", "exit-code",
                                                              "exit-code"]
    keys = {tuple(pair.split("=", 1)[0] for pair in r.split()[1:]) for r in records}
    assert keys == {("result", "exit_code", "exit_status", "start_usec", "end_usec", "duration_usec",
                     "consecutive_failures", "attempt", "attempts", "skip", "invocation", "cpu_usec")}
    assert all(parse_record("probe", r[3:]) for r in records)


def test_a_retry_that_passes_records_its_attempts_and_its_own_cpu_share(tmp_path: Path) -> None:
    slice_dir = tmp_path / "bamon.slice"
    stat = slice_dir / "bamon-probe.service" / "cpu.stat"
    stat.parent.mkdir(parents=True)
    stat.write_text("usage_usec 1000\n")
    flag = tmp_path / "failed-once"
    # grows the cgroup's counter as a real run does; fails the first time only
    command = f"read -r _ u < {stat}; echo usage_usec $((u + 500)) > {stat}; [ -f {flag} ] || {{ : > {flag}; exit 1; }}"
    done = _wrapper(command, {"STATE_DIRECTORY": str(tmp_path), "INVOCATION_ID": "i",
                              "BAMON_SLICE": str(slice_dir), "BAMON_RETRY_DELAYS": "0 0"})
    fields = [dict(p.split("=", 1) for p in line.split()[1:]) for line in done.stderr.splitlines()]
    assert done.returncode == 0
    assert [(f["result"], f["attempt"], f["attempts"], f["cpu_usec"]) for f in fields] == [
        ("exit-code", "1", "3", "1500"), ("success", "2", "3", "500")]
    assert (tmp_path / "last").read_text().split()[1::5] == ["success", "2"]


@pytest.mark.parametrize("settings", [
    {},
    {"BAMON_WATCH": "probe/circuit db/failing"},
    {"BAMON_LOAD_MAX": "100000", "BAMON_CONDITION": "true"},
    {"BAMON_MAX_CONCURRENT": "100", "BAMON_TIMEOUT": "30"},
    {"BAMON_RETRY_DELAYS": "0"},
    {"BAMON_WATCH": "probe/circuit db/failing", "BAMON_LOAD_MAX": "100000", "BAMON_CONDITION": "true",
     "BAMON_MAX_CONCURRENT": "100", "BAMON_TIMEOUT": "30", "BAMON_RETRY_DELAYS": "0"},
], ids=["plain", "breaker+dependencies", "load+condition", "max_concurrent", "retry", "all"])
@pytest.mark.parametrize("inline", [True, False], ids=["inline", "subshell"])
def test_the_command_sees_none_of_bamons_settings(tmp_path: Path, settings: dict[str, str], inline: bool) -> None:
    """Each part of run-check unsets the settings it reads before the command runs."""
    state = tmp_path / "checks" / "probe"
    state.mkdir(parents=True)
    (tmp_path / "bamon.slice").mkdir()
    (tmp_path / "bamon.slice" / "cgroup.stat").write_text("nr_descendants 1\n")
    # a watched file that is not empty, whose closer look lets the run go on: every part is sourced
    (tmp_path / "checks" / "db").mkdir()
    (tmp_path / "checks" / "db" / "failing").write_text("1\n")
    (tmp_path / "checks" / "db" / "last").write_text("x success 0 1 2 0 1 -\n")
    env = {"STATE_DIRECTORY": str(state), "INVOCATION_ID": "i", "BAMON_SLICE": str(tmp_path / "bamon.slice"),
           **({"BAMON_INLINE": "1"} if inline else {}), **settings}
    done = _wrapper("env", env)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("BAMON_")] == []
    assert "INVOCATION_ID=i" in done.stdout.splitlines()  # what systemd sets stays


def test_cpu_time_is_what_the_units_cgroup_counted(run_check: RunCheck, tmp_path: Path) -> None:
    """usage_usec of bamon.slice/bamon-NAME.service/cpu.stat (the real one: tests/system)."""
    assert run_check("true").record["cpu_usec"] == str(CGROUP_CPU_USEC)
    # no cgroup of its own (another name): no CPU time rather than a wrong one
    assert run_check("true", name="other").record["cpu_usec"] == ""


def test_each_attempt_of_a_retried_run_gets_its_own_share_of_the_cgroups_cpu(tmp_path: Path) -> None:
    slice_dir = tmp_path / "bamon.slice"
    stat = slice_dir / "bamon-probe.service" / "cpu.stat"
    stat.parent.mkdir(parents=True)
    stat.write_text("usage_usec 1000\n")
    # the command itself makes the cgroup's counter grow, as a real run does
    command = f"read -r _ u < {stat}; echo usage_usec $((u + 500)) > {stat}; exit 1"
    done = _wrapper(command, {"STATE_DIRECTORY": str(tmp_path), "INVOCATION_ID": "i",
                              "BAMON_SLICE": str(slice_dir), "BAMON_RETRY_DELAYS": "0"})
    cpu = [dict(p.split("=", 1) for p in line.split()[1:])["cpu_usec"] for line in done.stderr.splitlines()]
    assert cpu == ["1500", "500"]


def test_duration_is_measured(run_check: RunCheck) -> None:
    run = run_check("sleep 0.2")
    duration = int(run.record["duration_usec"])
    assert 150_000 <= duration < 5_000_000
    assert duration == int(run.record["end_usec"]) - int(run.record["start_usec"])


def test_consecutive_failures_count_across_invocations(run_check: RunCheck) -> None:
    counts = [run_check("false", invocation=f"inv-{i}").record["consecutive_failures"] for i in range(3)]
    assert counts == ["1", "2", "3"]
    ok = run_check("true", invocation="inv-ok")
    assert ok.last.split()[5] == "0"
    assert run_check("false", invocation="inv-again").last.split()[5] == "1"


def test_the_same_invocation_is_not_counted_twice(run_check: RunCheck) -> None:
    run_check("false", invocation="first")
    assert run_check("false", invocation="second").last.split()[5] == "2"
    again = run_check("false", invocation="second")  # the same run recorded once more
    assert again.last.split()[5] == "2"


def test_a_success_after_a_success_rewrites_last_in_place_and_after_others_truncates(run_check: RunCheck,
                                                                              tmp_path: Path) -> None:
    """Truncating a written file makes ext4 write it to disk at close (auto_da_alloc): a success
    after a success of the same shape overwrites its line in place. What lies past the line (here a
    marker) shows that nothing truncated the file; readers take the first line."""
    last = tmp_path / "state" / "last"
    invocation = "0123456789abcdef0123456789abcdef"  # systemd's: always 32 hex digits
    previous = f"{'f' * 32} success 0 1795953752113532 1795953752114037 0 1 -\n"
    last.write_text(previous + "MARKER\n")
    run = run_check("true", invocation=invocation)
    first, rest = run.last.split("\n", 1)
    assert first.startswith(f"{invocation} success 0 ") and first.endswith(" 0 1 -") and rest == "MARKER\n"
    assert len(first) + 1 == len(previous)
    state = parse_state_line("probe", run.last)
    assert state is not None and (state.invocation, state.result, state.attempt) == (invocation, "success", 1)
    # after anything else (failures, a skip without failures): truncated first, one line
    for before in (f"{'f' * 32} exit-code 3 1795953752113532 1795953752114037 4 1 -\n",
                   f"{'f' * 32} skipped 0 1795953752113532 1795953752114037 0 0 dependency:db\n"):
        last.write_text(before + "MARKER\n")
        run = run_check("true", invocation=invocation)
        assert run.last.startswith(f"{invocation} success 0 ") and run.last.count("\n") == 1


def test_a_garbled_previous_line_restarts_the_count(run_check: RunCheck, tmp_path: Path) -> None:
    (tmp_path / "state" / "last").write_text("garbage\n")
    assert run_check("false").last.split()[5] == "1"


@pytest.mark.parametrize("status", [0, 1, 2, 3, 7, 42, 126, 127, 255])
def test_exit_status_is_propagated(run_check: RunCheck, status: int) -> None:
    run = run_check(f"exit {status}")
    assert run.returncode == status
    assert run.last.split()[2] == str(status)


def test_killed_command(run_check: RunCheck) -> None:
    run = run_check("kill -KILL $BASHPID")
    assert run.returncode == 137
    assert run.last.split()[1:3] == ["exit-code", "137"]


COMMANDS = [
    "exit 7",
    "printf 'no newline at the end'",
    "printf 'no newline on stderr' >&2; exit 3",
    "echo before; exit 3; echo after",
    "exec true",
    "echo a; exec false; echo b",
    "exec echo replaced",
    "trap 'echo trapped' EXIT; echo body",
    "trap 'echo bye; exit 5' EXIT; true",
    "f() { return 4; }; f",
    "echo \"double\" 'single' \"it's\" 'say \"hi\"'",
    "X=1; echo \"$X ${X} ${UNSET:-default} $HOME\"",
    "echo $((6 * 7)) $(echo sub) `echo back`",
    "printf '%s|' a 'b c' \"d e\"; echo",
    "echo '%{http_code}' '%n' '%%'",
    "echo 'x y z w v' | awk '{print $5}'",
    "for i in 1 2 3; do\n  echo line $i\ndone\nexit 2",
    "cat <<EOF\nhere $HOME\nEOF",
    "echo back\\\\slash 'tab\there'",
    "echo héllo ✓ 日本",
    "set -e; false; echo not reached",
    "echo out; echo err >&2; exit 1",
    "exit 300",
    "echo $#",
    "read -r line || echo no input",
    "(exit 9)",
    "false | true",
    "set -o pipefail; false | true",
    "[[ abc == a* ]] && echo bashism",
    "declare -A m=([k]=v); echo ${m[k]}",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_behaves_like_bash_c(run_check: RunCheck, tmp_path: Path, command: str) -> None:
    expected = _bash_c(command, tmp_path)
    run = run_check(command)
    assert (run.stdout, run.returncode) == (expected.stdout, expected.returncode)
    assert run.last.split()[2] == str(expected.returncode)


# Plain words (bamon/units/shell.py), which the generator lets run-check run without a subshell.
PLAIN = [
    "true",
    "false",
    "echo hello world",
    "test -d /tmp && echo dir",
    "[ -e /nonexistent ] || echo missing",
    "ls /nonexistent",
    "echo a b c | tr a-z A-Z",
    "echo one; echo two >&2; false",
    "sleep 0.1 && echo slept",
    "echo gone >/dev/null 2>&1; echo kept",
    "/bin/echo by path",
    "cat /nonexistent 2>&1 | wc -l",
    "echo x # a comment, then [ more ] words",
    "# what it checks\ntrue\nfalse",
    "false | true",
]


@pytest.mark.parametrize("command", PLAIN + [c for c in COMMANDS if runs_inline(c)])
def test_plain_words_behave_like_bash_c_without_a_subshell(run_check: RunCheck, tmp_path: Path,
                                                           command: str) -> None:
    assert runs_inline(command)
    expected = _bash_c(command, tmp_path)
    for inline in (True, False):
        run = run_check(command, inline=inline)
        assert (run.stdout, run.returncode) == (expected.stdout, expected.returncode)
        assert run.last.split()[2] == run.record["exit_status"] == str(expected.returncode)


def test_inline_runs_in_run_checks_own_shell_and_without_it_in_a_subshell(run_check: RunCheck) -> None:
    """BAMON_INLINE=1 is the generator's word that the command is plain; anything else keeps the subshell."""
    own, sub = (run_check("echo $BASHPID $$", inline=inline).stdout.split() for inline in (True, False))
    assert own[0] == own[1] and sub[0] != sub[1]


def test_a_retried_inline_command_gets_a_record_per_attempt(tmp_path: Path) -> None:
    done = _wrapper("false", {"STATE_DIRECTORY": str(tmp_path), "INVOCATION_ID": "i", "BAMON_INLINE": "1",
                              "BAMON_RETRY_DELAYS": "0 0"})
    results = [dict(p.split("=", 1) for p in line.split()[1:])["attempt"] for line in done.stderr.splitlines()]
    assert (done.returncode, results) == (1, ["1", "2", "3"])


def test_command_cannot_touch_the_wrappers_variables(run_check: RunCheck) -> None:
    run = run_check("__bamon_rc=0; __bamon_failures=99; __bamon_name=other; exit 5")
    assert run.returncode == 5
    assert run.last.split()[1:3] == ["exit-code", "5"]
    assert run.record["consecutive_failures"] == "1"


def test_without_a_state_directory_it_still_runs_and_records(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "INVOCATION_ID": "x"}
    done = subprocess.run(["/bin/bash", str(RUN_CHECK), "probe", "echo hi; exit 4"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=20, check=False)
    output, record = split_record(done.stderr)
    assert (done.returncode, done.stdout, output) == (4, "hi\n", "")
    assert record["exit_status"] == "4"
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere else


def test_the_record_starts_its_own_line_after_output_without_newline(run_check: RunCheck) -> None:
    run = run_check("printf partial; printf 'err partial' >&2")
    assert run.stdout == "partialerr partial"
    assert run.record["result"] == "success"


def test_the_first_run_creates_the_state_directory(tmp_path: Path) -> None:
    """Minimal-profile units have no StateDirectory=: run-check makes the directory itself."""
    state = tmp_path / "var" / "lib" / "bamon" / "checks" / "probe"
    env = {"PATH": os.environ["PATH"], "INVOCATION_ID": "first", "STATE_DIRECTORY": str(state)}
    done = subprocess.run(["/bin/bash", str(RUN_CHECK), "probe", "true"], capture_output=True, text=True,
                          env=env, timeout=20, check=False)
    assert done.returncode == 0
    assert (state / "last").read_text().split()[:3] == ["first", "success", "0"]


# --- skip decisions: run-check's watched files, run-check-gates and -queue, only when a setting asks ---

def _gated(tmp_path: Path, command: str, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """run-check for the check "probe" whose state directory is tmp_path/checks/probe."""
    state = tmp_path / "checks" / "probe"
    state.mkdir(parents=True, exist_ok=True)
    done = _wrapper(command, {"STATE_DIRECTORY": str(state), "INVOCATION_ID": "g", **env}, timeout=30)
    return done, split_record(done.stderr)[1]


def _state(tmp_path: Path, name: str, file: str, text: str) -> None:
    (tmp_path / "checks" / name).mkdir(parents=True, exist_ok=True)
    (tmp_path / "checks" / name / file).write_text(text)


def test_an_open_circuit_skips_until_its_cooldown_ends(tmp_path: Path) -> None:
    _state(tmp_path, "probe", "circuit", "open 99999999999999999\n")
    done, record = _gated(tmp_path, "echo ran", BAMON_WATCH="probe/circuit")
    assert (done.returncode, record["result"], record["skip"]) == (0, "skipped", "circuit-open:99999999999999999")
    assert "ran" not in done.stdout


def test_after_the_cooldown_one_trial_runs_and_its_result_closes_or_keeps_the_circuit(tmp_path: Path) -> None:
    circuit = tmp_path / "checks" / "probe" / "circuit"
    _state(tmp_path, "probe", "circuit", "open 1\n")
    done, record = _gated(tmp_path, "false", BAMON_WATCH="probe/circuit")
    assert (done.returncode, record["result"]) == (1, "exit-code")
    assert circuit.read_text() == "half-open 0\n"  # the notifier decides what a failed trial means
    _state(tmp_path, "probe", "circuit", "open 1\n")
    done, record = _gated(tmp_path, "true", BAMON_WATCH="probe/circuit")
    assert (done.returncode, record["result"], circuit.read_text()) == (0, "success", "")  # closed: empty


def test_a_failing_dependency_skips_and_a_passing_one_does_not(tmp_path: Path) -> None:
    _state(tmp_path, "db", "last", "i exit-code 1 1 2 3 1 -\n")
    _state(tmp_path, "db", "failing", "3\n")
    _state(tmp_path, "dns", "last", "i success 0 1 2 0 1 -\n")
    _state(tmp_path, "dns", "failing", "")
    assert _gated(tmp_path, "true", BAMON_WATCH="dns/failing db/failing")[1]["skip"] == "dependency:db"
    assert _gated(tmp_path, "true", BAMON_WATCH="dns/failing")[1]["result"] == "success"


def test_a_false_condition_skips(tmp_path: Path) -> None:
    assert _gated(tmp_path, "true", BAMON_CONDITION="test -e /nonexistent")[1]["skip"] == "condition"
    assert _gated(tmp_path, "true", BAMON_CONDITION="true")[1]["result"] == "success"


def _slice(tmp_path: Path, present: int, *running: str) -> Path:
    """A stand-in for bamon.slice: cgroup.stat's count and a directory per running check."""
    slice_dir = tmp_path / "bamon.slice"
    slice_dir.mkdir(exist_ok=True)
    (slice_dir / "cgroup.stat").write_text(f"nr_descendants {present}\nnr_dying_descendants 0\n")
    for name in ("probe", *running):
        (slice_dir / f"bamon-{name}.service").mkdir(exist_ok=True)
    return slice_dir


def test_max_concurrent_admits_on_the_count_alone_when_the_slice_is_not_full(tmp_path: Path) -> None:
    slice_dir = _slice(tmp_path, 2, "other")
    _, record = _gated(tmp_path, "true", BAMON_MAX_CONCURRENT="2", BAMON_SLICE=str(slice_dir))
    assert record["result"] == "success"
    assert not (tmp_path / "checks" / "probe" / "gate").exists()  # the fast path writes nothing


def test_max_concurrent_queue_skips_at_half_the_timeout_while_the_slots_stay_taken(tmp_path: Path) -> None:
    slice_dir = _slice(tmp_path, 3, "a", "b")  # a and b run (no gate file says otherwise)
    done, record = _gated(tmp_path, "echo ran", BAMON_MAX_CONCURRENT="2", BAMON_SLICE=str(slice_dir),
                          BAMON_TIMEOUT="2")
    assert (done.returncode, record["result"], record["skip"]) == (0, "skipped", "concurrency:2")
    assert (tmp_path / "checks" / "probe" / "gate").read_text() == "running\n"  # not left "waiting"


def test_max_concurrent_queue_does_not_count_checks_that_wait_themselves(tmp_path: Path) -> None:
    slice_dir = _slice(tmp_path, 3, "a", "b")
    _state(tmp_path, "b", "gate", "waiting\n")
    done, record = _gated(tmp_path, "echo ran", BAMON_MAX_CONCURRENT="2", BAMON_SLICE=str(slice_dir),
                          BAMON_TIMEOUT="2")
    assert (record["result"], done.stdout) == ("success", "ran\n")
