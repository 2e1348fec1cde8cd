"""Recovery, the pure parts: backoff arithmetic, the dependency graph, the circuit breaker's state
machine, the recovery keys' validation, and the notifier's actions against a fake systemd-run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bamon.history.records import RunRecord
from bamon.journal import Journal
from bamon.recovery import actions, breaker, graph, skips
from bamon.recovery.breaker import Circuit, State
from bamon.recovery.policy import Breaker, Retry, from_raw, load_centi, run_timeout
from bamon.systemd import Systemd
from tests.unit.conftest import FakeRunner, JournalSink, LoadConfig

# --- backoff -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retry", "delays"), [
    (Retry(attempts=1, delay=10), ()),
    (Retry(attempts=3, delay=10, multiplier=2, max_delay=300), (10, 20)),
    (Retry(attempts=6, delay=10, multiplier=2, max_delay=60), (10, 20, 40, 60, 60)),  # capped
    (Retry(attempts=4, delay=3, multiplier=1.5, max_delay=300), (3, 5, 7)),  # 4.5 and 6.75 rounded up
    (Retry(attempts=3, delay=30, multiplier=1, max_delay=30), (30, 30)),  # the short form: constant
])
def test_attempt_n_waits_delay_times_multiplier_to_the_n_minus_1_capped(retry: Retry, delays: tuple[int, ...]) -> None:
    assert retry.delays() == delays


def test_the_unit_timeout_covers_every_attempt_and_delay() -> None:
    assert run_timeout(30, None) == 30
    assert run_timeout(30, Retry(attempts=3, delay=10, multiplier=2)) == 3 * 30 + 10 + 20


def test_short_and_long_forms() -> None:
    assert from_raw({"retry": {"attempts": 3, "delay": "30s"}}).retry == Retry(3, 30, 1.0, 30)
    long = from_raw({"retry_policy": {"max_attempts": 4, "delay": "1min", "backoff_multiplier": 3}})
    assert long.retry == Retry(4, 60, 3.0, 300) and long.retry.delays() == (60, 180, 300)
    action = from_raw({"recovery_actions": [{"restart_service": "web"}]}).actions[0]
    assert (action.command, action.timeout, action.max_runs, action.condition) == ("systemctl restart web", 60, 1, None)
    assert from_raw({"circuit_breaker": {}}).breaker == Breaker(5, 600)
    assert load_centi(0.8) == 80 and load_centi(None) is None


# --- dependency graph ------------------------------------------------------------------------------


def test_cycles_are_named_in_order_once() -> None:
    found = graph.problems({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert [p.message for p in found] == ["dependency cycle: a → b → c → a"]


def test_unknown_self_and_two_cycles() -> None:
    found = graph.problems({"web": ["db", "ghost", "web"], "db": ["web"], "x": ["y"], "y": ["x"]})
    messages = sorted(p.message for p in found)
    assert messages == sorted([
        "depends on unknown check 'ghost'", "a check cannot depend on itself",
        "dependency cycle: db → web → db", "dependency cycle: x → y → x"])
    assert next(p for p in found if "ghost" in p.message).index == 1


def test_a_diamond_is_not_a_cycle() -> None:
    assert graph.problems({"app": ["db", "cache"], "db": ["disk"], "cache": ["disk"], "disk": []}) == []


# --- the breaker's state machine -------------------------------------------------------------------

B = Breaker(failures=3, cooldown=600)
NOW = 1_700_000_000_000_000


def test_closed_opens_after_n_consecutive_failures() -> None:
    assert breaker.after_failure(breaker.CLOSED, B, 2, NOW) == breaker.CLOSED
    assert breaker.after_failure(breaker.CLOSED, B, 3, NOW) == Circuit(State.OPEN, NOW + 600_000_000)


def test_open_skips_during_the_cooldown_then_one_trial_half_opens() -> None:
    opened = Circuit(State.OPEN, NOW + 600_000_000)
    assert breaker.before_run(opened, NOW + 1) == (opened, False)
    assert breaker.before_run(opened, NOW + 600_000_000) == (Circuit(State.HALF_OPEN, 0), True)


def test_half_open_closes_on_success_and_reopens_on_failure() -> None:
    half = Circuit(State.HALF_OPEN, 0)
    assert breaker.after_success(half) == breaker.CLOSED
    opened = Circuit(State.OPEN, NOW)
    assert breaker.after_failure(opened, B, 9, NOW + 5) == opened  # a run by hand does not extend it
    assert breaker.after_failure(half, B, 1, NOW) == Circuit(State.OPEN, NOW + 600_000_000)


def test_the_circuit_file_round_trips_and_bad_files_read_closed(tmp_path: Path) -> None:
    file = tmp_path / "circuit"
    breaker.write(file, Circuit(State.OPEN, 5))
    assert file.read_text() == "open 5\n" and breaker.read(file) == Circuit(State.OPEN, 5)
    breaker.write(file, breaker.CLOSED)  # empty: run-check tells it by its size, without reading it
    assert file.read_text() == "" and breaker.read(file) == breaker.CLOSED
    file.write_text("closed 0\n")  # as earlier builds wrote it
    assert breaker.read(file) == breaker.CLOSED
    file.write_text("garbage")
    assert breaker.read(file) == breaker.CLOSED
    assert breaker.read(tmp_path / "missing") == breaker.CLOSED


@pytest.mark.parametrize(("token", "text"), [
    ("dependency:database_check", "dependency database_check failing"),
    ("condition", "condition not met"),
    ("load:1.93/160", "load 1.93 above 1.60 (performance.load_threshold × CPUs)"),
    ("concurrency:10", "10 checks already running (daemon.max_concurrent)"),
])
def test_skip_reasons_in_words(token: str, text: str) -> None:
    assert skips.describe(token) == text
    assert skips.describe("circuit-open:0").startswith("circuit open until ")


# --- validation ----------------------------------------------------------------------------------

BAD = """\
scripts:
  - name: web
    command: "true"
    retry_policy: {max_attempts: 0, backoff_multiplier: 0.5}
    recovery_actions:
      - {command: "", condition: "consecutive_failures >= "}
      - {condition: "failure_reason == 'timeout'"}
    dependencies: [web, ghost]
  - name: a
    command: "true"
    dependencies: [b]
  - name: b
    command: "true"
    dependencies: [a]
  - name: both
    command: "true"
    retry: {attempts: -1}
"""


def test_bad_recovery_input_is_reported_with_line_path_and_hint(load_config: LoadConfig) -> None:
    config = load_config(BAD)
    found = {(i.path, i.message) for i in config.errors}
    assert ("scripts[0].retry_policy.max_attempts", "0 is below the minimum of 1") in found
    assert ("scripts[0].retry_policy.backoff_multiplier", "0.5 is below the minimum of 1") in found
    assert ("scripts[0].recovery_actions[0].command", "'' is too short") in found
    assert ("scripts[3].retry.attempts", "-1 is below the minimum of 1") in found
    assert all(i.line and i.hint and i.file.endswith("config.yaml") for i in config.errors)
    assert [s.name for s in config.scripts] == []


def test_conditions_and_dependencies_of_otherwise_valid_scripts(load_config: LoadConfig) -> None:
    config = load_config("""\
        scripts:
          - name: web
            command: "true"
            recovery_actions:
              - {restart_service: web, condition: "consecutive_failures >= "}
              - {condition: "failure_reason == 'timeout'"}
            dependencies: [web, ghost, db]
          - name: db
            command: "true"
            dependencies: [cache]
          - name: cache
            command: "true"
            dependencies: [db]
          - name: ok
            command: "true"
            dependencies: [web]
            retry: {attempts: 2}
            retry_policy: {max_attempts: 2}
    """)
    by_path: dict[str, list[str]] = {}
    for issue in config.errors:
        by_path.setdefault(issue.path, []).append(issue.message)
        assert issue.line and issue.hint
    assert by_path["scripts[0].recovery_actions[0].condition"][0].startswith("condition does not parse: ")
    assert by_path["scripts[0].recovery_actions[1]"] == ["a recovery action needs a command"]
    assert by_path["scripts[3].retry"] == ["retry and retry_policy are both set"]
    # web: entry rules failed, so the graph only holds db, cache (and ok's dependency is unknown)
    assert by_path["scripts[2].dependencies"] == ["dependency cycle: cache → db → cache"]
    assert config.scripts == ()


def test_self_dependency_and_unknown_names(load_config: LoadConfig) -> None:
    config = load_config("""\
        scripts:
          - {name: web, command: "true", dependencies: [web, ghost]}
          - {name: db, command: "true"}
          - {name: app, command: "true", dependencies: [db]}
    """)
    assert sorted((i.path, i.message) for i in config.errors) == [
        ("scripts[0].dependencies[0]", "a check cannot depend on itself"),
        ("scripts[0].dependencies[1]", "depends on unknown check 'ghost'"),
    ]
    app = config.script("app")
    assert [s.name for s in config.scripts] == ["db", "app"] and app and app.recovery.dependencies == ("db",)


def test_load_threshold_is_no_longer_a_no_effect_note(load_config: LoadConfig) -> None:
    config = load_config("performance: {load_threshold: 0.8}\ndaemon: {max_concurrent: 4}\n")
    assert config.issues == () and config.load_threshold == 0.8 and config.daemon.max_concurrent == 4


# --- the notifier's actions ---------------------------------------------------------------------------

FAILED = RunRecord("web", "inv", "exit-code", 1, NOW, NOW + 1, 3)


def test_an_action_runs_once_per_episode_in_a_transient_unit_and_confirms(
        tmp_path: Path, load_config: LoadConfig, runner: FakeRunner) -> None:
    config = load_config("""\
        scripts:
          - name: web
            command: "false"
            recovery_actions:
              - {restart_service: web-service, condition: "consecutive_failures >= 3", timeout: 20}
              - {command: "echo never", condition: "failure_reason == 'timeout'"}
    """)
    script = config.script("web")
    assert script is not None
    runner.on(["systemd-run"], stdout="restarted\n")
    sink = JournalSink()
    systemd, journal = Systemd(runner=runner), Journal(sink=sink)
    facts = {"consecutive_failures": 3, "failure_reason": "exit-code"}

    def fail(episode: str) -> actions.Outcome:
        return actions.on_failure(script, FAILED, facts, episode, state_dir=tmp_path, check_dir=None,
                                  systemd=systemd, journal=journal)

    first = fail("episode-1")
    assert first.lines == ["recovery: systemctl restart web-service → exit 0", "re-running the check to confirm"]
    run = next(c for c in runner.calls if c[0] == "systemd-run")
    assert "--property=RuntimeMaxSec=20s" in run and run[-3:] == ["/bin/sh", "-c", "systemctl restart web-service"]
    assert ["systemctl", "start", "--no-block", "bamon-web.service"] in runner.calls
    assert fail("episode-1").lines == []  # the same episode: not again
    assert fail("episode-2").lines[0].startswith("recovery: systemctl restart web-service")
    records = [e for e in sink.entries if e.get("BAMON_EVENT") == "recovery.action"]
    assert len(records) == 2 and records[0]["OUTPUT"] == "restarted" and str(records[0]["EXIT_STATUS"]) == "0"
    assert [e["BAMON_AUDIT_ACTION"] for e in sink.entries if "BAMON_AUDIT_ACTION" in e] == ["recovery", "recovery"]


def test_a_hanging_action_is_reported_killed_at_its_timeout(runner: FakeRunner) -> None:
    runner.rules.insert(0, (lambda argv: argv[0] == "systemd-run", "", 1))
    systemd = Systemd(runner=lambda argv: __import__("subprocess").CompletedProcess(
        argv, 1, "", "Running as unit: x.service\nFinished with result: timeout\n"
                     "Main processes terminated with: code=killed/status=TERM\n"))
    done = systemd.run_transient("x.service", "sleep 99", 2, "test")
    assert (done.result, done.exit_status, done.output) == ("timeout", None, "")
    action = from_raw({"recovery_actions": [{"command": "sleep 99", "timeout": 2}]}).actions[0]
    assert actions.describe(action, done) == "recovery: sleep 99 → killed after its 2s timeout"


def test_the_notifier_opens_the_circuit(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config('scripts:\n  - {name: web, command: "false", circuit_breaker: {failures: 3, cooldown: 60}}\n')
    script = config.script("web")
    assert script is not None
    sink = JournalSink()
    assert actions.open_circuit(script, FAILED, tmp_path, Journal(sink=sink)).startswith("circuit open until ")
    assert breaker.read(tmp_path / "circuit").state is State.OPEN
    assert actions.open_circuit(script, FAILED, tmp_path, Journal(sink=sink)) == ""  # already open
    assert [e["BAMON_EVENT"] for e in sink.entries] == ["recovery.circuit"]


# --- what status shows --------------------------------------------------------------------------------


def test_status_shows_skipped_runs_and_the_circuit(load_config: LoadConfig) -> None:
    from bamon.cli.status import render_table
    from bamon.history.status import CheckStatus
    from bamon.status_json import check as as_json

    config = load_config('scripts:\n  - {name: app, command: "true", dependencies: [db], '
                         'circuit_breaker: {failures: 3, cooldown: 60}}\n  - {name: db, command: "true"}\n')
    script = config.script("app")
    assert script is not None
    skipped = RunRecord("app", "inv", "skipped", 0, NOW, NOW + 1, 2, attempt=0, skip="dependency:db")
    entry = as_json(CheckStatus(script, "SKIPPED", skipped, (), None, circuit=breaker.CLOSED))
    assert (entry["status"], entry["result"], entry["skipReason"]) == ("SKIPPED", "Skipped", "dependency db failing")
    assert entry["failureReason"] is None and entry["error"] is None
    assert entry["circuit"] == {"state": "CLOSED", "until": None}
    opened = CheckStatus(script, "SKIPPED", skipped, (), None, circuit=Circuit(State.OPEN, NOW))
    assert as_json(opened)["circuit"] == {"state": "OPEN", "until": "2023-11-14T22:13:20Z"}
    assert "circuit open until " in render_table([opened])


def test_max_concurrent_needs_no_gate_when_there_are_not_more_checks(load_config: LoadConfig) -> None:
    from bamon.units.render import generate

    two = 'scripts:\n  - {name: a, command: "true"}\n  - {name: b, command: "true"}\n'
    assert not any("BAMON_MAX_CONCURRENT" in text
                   for text in generate(load_config("daemon: {max_concurrent: 2}\n" + two)).units.values())
    unit = generate(load_config("daemon: {max_concurrent: 1}\n" + two)).units["bamon-a.service"]
    assert 'Environment="BAMON_MAX_CONCURRENT=1"' in unit
    assert 'Environment="BAMON_SLICE=/sys/fs/cgroup/bamon.slice"' in unit
