"""Auto-recovery under the real systemd, on Debian 12 (systemd 252) and Debian 13 (systemd 257).

Every test runs on both: the same observable behaviour is the contract (issue 7). Checks are
written as scripts.d files (the recovery keys have no `bamon add` flags) and picked up by the
generator on daemon-reload, as an operator's editor + `systemctl daemon-reload` would.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nspawn import Container, wait_for
from support import bamon, history_runs, run_records, status, wait_status


@pytest.fixture
def box(each_debian: Container) -> Container:
    """The shared Debian 12 or Debian 13 container."""
    return each_debian


def add_check(box: Container, name: str, body: str) -> None:
    """Write scripts.d/NAME.yaml, let the generator pick it up, start its timer."""
    text = f"name: {name}\n" + textwrap.dedent(body)
    box.run(["tee", f"/etc/bamon/scripts.d/{name}.yaml"], input=text)
    box.run(f"systemctl daemon-reload && systemctl start bamon-{name}.timer")


def remove_check(box: Container, *names: str) -> None:
    for name in names:
        box.run(f"systemctl stop bamon-{name}.timer bamon-{name}.service; rm -f /etc/bamon/scripts.d/{name}.yaml",
                check=False)
    box.run("systemctl daemon-reload")


def runs(box: Container, name: str) -> list[dict[str, Any]]:
    """`bamon history NAME --json` runs, oldest first."""
    return history_runs(box, name, "-n", "0")[::-1]


def notifier_runs(box: Container, name: str) -> int:
    out = box.run(["journalctl", "--no-pager", "-o", "cat", f"_SYSTEMD_UNIT=bamon.notify@bamon-{name}.service"],
                  check=False).stdout
    started = box.run(["systemctl", "show", "-p", "InvocationID", "--value", f"bamon.notify@bamon-{name}.service"],
                      check=False).stdout.strip()
    return len(out.splitlines()) + (1 if started else 0)


def test_fails_twice_then_succeeds_no_alert_three_attempts_with_growing_delays(box: Container) -> None:
    box.run("rm -f /run/flaky_retry.n")
    add_check(box, "flaky_retry", """\
        command: 'f=/run/flaky_retry.n; n=$(( $(cat $f 2>/dev/null || echo 0) + 1 )); echo $n > $f; [ $n -ge 3 ]'
        interval: 1h
        sandbox: minimal
        retry_policy: {max_attempts: 4, delay: 1, backoff_multiplier: 2}
    """)
    wait_status(box, "flaky_retry", "OK", timeout=40)
    attempts = runs(box, "flaky_retry")
    assert [(r["attempt"], r["status"]) for r in attempts] == [(1, "FAILED"), (2, "FAILED"), (3, "OK")]
    assert len({r["invocationId"] for r in attempts}) == 1  # one run of the unit, three attempts
    records = [e["record"] for e in run_records(box, "flaky_retry")]
    assert [r["attempt"] for r in records] == ["1", "2", "3"]
    gaps = [(int(b["start_usec"]) - int(a["end_usec"])) / 1e6 for a, b in itertools.pairwise(records)]
    assert 1 <= gaps[0] < gaps[1] and gaps[1] >= 2  # delay 1 s, then 2 s: growing
    assert notifier_runs(box, "flaky_retry") == 0  # no failure reached the notifier: no alert
    assert status(box, "flaky_retry")["consecutiveFailures"] == 0
    assert "1/4" in bamon(box, "history", "flaky_retry")  # the ATTEMPT column
    remove_check(box, "flaky_retry")


DUMMY = """\
[Unit]
Description=a dummy service for bamon's recovery test
[Service]
ExecStartPre=/bin/sh -c 'echo $(( $(cat /run/dummy-web.count 2>/dev/null || echo 0) + 1 )) > /run/dummy-web.count'
ExecStart=/bin/sleep infinity
"""


def test_recovery_action_runs_once_restarts_a_service_and_the_rerun_passes(box: Container) -> None:
    box.run(["tee", "/etc/systemd/system/dummy-web.service"], input=DUMMY)
    box.run("rm -f /run/dummy-web.count; systemctl daemon-reload; systemctl restart dummy-web.service")
    add_check(box, "webapp", """\
        command: 'echo "started $(cat /run/dummy-web.count) times"; [ "$(cat /run/dummy-web.count)" -ge 2 ]'
        interval: 2s
        sandbox: minimal
        recovery_actions:
          - {restart_service: dummy-web, condition: "consecutive_failures >= 3", timeout: 20}
    """)
    wait_status(box, "webapp", "OK", timeout=60)
    actions = _events(box, "webapp", "recovery.action")
    assert len(actions) == 1
    action = actions[0]
    assert action["COMMAND"] == "systemctl restart dummy-web" and action["EXIT_STATUS"] == "0"
    assert action["RESULT"] == "success"
    assert box.run("cat /run/dummy-web.count").stdout.strip() == "2"
    history = runs(box, "webapp")
    failed = [r for r in history if r["status"] == "FAILED"]
    assert len(failed) == 3 and failed[-1]["consecutiveFailures"] == 3
    audit = box.run(["journalctl", "--no-pager", "-o", "json", "BAMON_AUDIT_ACTION=recovery",
                     "BAMON_CHECK=webapp"]).stdout.splitlines()
    assert len(audit) == 1 and "systemctl restart dummy-web" in json.loads(audit[0])["BAMON_AUDIT_BEFORE"]
    # it stays OK, and the action never runs again in this episode
    wait_for(lambda: len(run_records(box, "webapp")) >= len(history) + 2, 20, 0.5, "two more runs")
    wait_status(box, "webapp", "OK", timeout=10)  # a look inside a run reads RUNNING
    assert len(_events(box, "webapp", "recovery.action")) == 1
    remove_check(box, "webapp")
    box.run("systemctl stop dummy-web.service")


def _events(box: Container, name: str, event: str) -> list[dict[str, Any]]:
    out = box.run(["journalctl", "--no-pager", "-o", "json", f"BAMON_EVENT={event}", f"BAMON_CHECK={name}"],
                  check=False).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_dependent_is_skipped_while_its_dependency_fails_and_runs_again_after(box: Container) -> None:
    box.run("rm -f /run/db-ok")
    add_check(box, "db", "command: test -f /run/db-ok\ninterval: 2s\nsandbox: minimal\n")
    add_check(box, "app", "command: echo app ran\ninterval: 2s\ndependencies: [db]\n")
    entry = wait_status(box, "app", "SKIPPED", timeout=30)
    assert entry["skipReason"] == "dependency db failing" and entry["failureReason"] is None
    wait_status(box, "db", "FAILED", timeout=10)  # every 2 s: a look inside a run reads RUNNING
    assert "dependency db failing" in bamon(box, "status", "-n", "app")
    box.run("touch /run/db-ok")
    wait_status(box, "app", "OK", timeout=30, with_output=True)
    assert status(box, "app")["output"] == "app ran"
    assert notifier_runs(box, "app") == 0  # skipped runs never alert
    assert all(r["status"] in ("SKIPPED", "OK") for r in runs(box, "app"))
    remove_check(box, "db", "app")


def test_a_dependency_that_systemd_ended_holds_its_dependents_back(box: Container) -> None:
    """A run killed at its timeout never returns to run-check: the notifier records it, and keeps
    the `failing` file that dependents look at as run-check would."""
    add_check(box, "slowdb", "command: sleep 30\ninterval: 1h\ntimeout: 1\nsandbox: minimal\n")
    wait_for(lambda: status(box, "slowdb")["failureReason"] == "timeout", 30, 0.5, "the timeout record")
    assert box.run("cat /var/lib/bamon/checks/slowdb/failing").stdout == "1\n"
    add_check(box, "slowapp", "command: echo app ran\ninterval: 1h\ndependencies: [slowdb]\n")
    entry = wait_status(box, "slowapp", "SKIPPED", timeout=30)
    assert entry["skipReason"] == "dependency slowdb failing"
    remove_check(box, "slowdb", "slowapp")


def test_a_failing_condition_skips_and_never_fails(box: Container) -> None:
    add_check(box, "gated", "command: echo ran\ninterval: 2s\ncondition: test -f /etc/web-enabled\n")
    entry = wait_status(box, "gated", "SKIPPED", timeout=30)
    assert entry["skipReason"] == "condition not met" and entry["result"] == "Skipped"
    wait_for(lambda: len(run_records(box, "gated")) >= 2, 20, 0.5, "a second skipped run")
    assert {r["status"] for r in runs(box, "gated")} == {"SKIPPED"} and notifier_runs(box, "gated") == 0
    box.run("touch /etc/web-enabled")
    wait_status(box, "gated", "OK", timeout=30)
    box.run("rm /etc/web-enabled")
    remove_check(box, "gated")


BREAKER = """\
command: test -f /var/lib/brk-ok
interval: 1s
sandbox: minimal
circuit_breaker: {failures: 3, cooldown: 6s}
"""


def _executed(box: Container, name: str) -> int:
    return sum(1 for r in runs(box, name) if r["status"] != "SKIPPED")


def test_breaker_opens_after_n_failures_holds_during_cooldown_half_opens_and_closes(box: Container) -> None:
    box.run("rm -f /var/lib/brk-ok")
    add_check(box, "brk", BREAKER)
    wait_for(lambda: status(box, "brk")["circuit"]["state"] == "OPEN", 30, 0.3, "the circuit to open")
    assert status(box, "brk")["circuit"]["until"]
    assert "circuit open until" in bamon(box, "status", "-n", "brk")
    wait_for(lambda: status(box, "brk")["status"] == "SKIPPED", 10, 0.3, "a skipped run")
    wait_for(lambda: _executed(box, "brk") >= 3, 10, 0.5, "three failed runs in the history")
    executed = _executed(box, "brk")
    assert _executed(box, "brk") == executed  # nothing runs during the cooldown
    assert len(_events(box, "brk", "recovery.circuit")) == 1
    box.run("touch /var/lib/brk-ok")
    wait_for(lambda: status(box, "brk")["circuit"]["state"] == "CLOSED", 20, 0.3, "the trial run to close it")
    wait_status(box, "brk", "OK")
    assert _executed(box, "brk") >= executed + 1
    remove_check(box, "brk")
    box.run("rm -f /var/lib/brk-ok")


def test_bamon_reset_closes_an_open_circuit(box: Container) -> None:
    box.run("rm -f /var/lib/brk-ok")
    add_check(box, "brk2", BREAKER.replace("6s", "1h"))
    wait_for(lambda: status(box, "brk2")["circuit"]["state"] == "OPEN", 30, 0.3, "the circuit to open")
    assert "closed the circuit of brk2" in bamon(box, "reset", "brk2")
    assert status(box, "brk2")["circuit"]["state"] == "CLOSED"
    assert box.run("journalctl --no-pager -o cat BAMON_AUDIT_ACTION=reset BAMON_CHECK=brk2").stdout.strip()
    remove_check(box, "brk2")


def test_a_load_above_the_threshold_skips(box: Container) -> None:
    box.run("echo '97.50 97.00 96.00 1/100 1' > /run/fake-loadavg && mount --bind /run/fake-loadavg /proc/loadavg")
    try:
        # per CPU: far above any real load of the test host, far below the fake one
        box.run("grep -q '^performance:' /etc/bamon/config.yaml || printf 'performance:\\n  load_threshold: 20\\n'"
                " >> /etc/bamon/config.yaml")
        add_check(box, "loaded", "command: echo ran\ninterval: 2s\nsandbox: minimal\n")
        entry = wait_status(box, "loaded", "SKIPPED", timeout=30)
        cpus = int(box.run("nproc").stdout)
        assert entry["skipReason"] == f"load 97.50 above {20 * cpus:.2f} (performance.load_threshold × CPUs)"
        # a low load (faked too: the real one of a busy test host can be anything) lets it run
        box.run("echo '0.10 0.10 0.10 1/100 1' > /run/fake-loadavg")
        wait_status(box, "loaded", "OK", timeout=30)
    finally:
        box.run("umount /proc/loadavg", check=False)
    box.run("sed -i '/^performance:/,/load_threshold/d' /etc/bamon/config.yaml")
    remove_check(box, "loaded")


def _peak(spans: list[tuple[int, int]]) -> int:
    """The most runs in progress at one instant, from (start, end) pairs."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_max_concurrent_bounds_checks_started_in_the_same_instant(box: Container) -> None:
    """Six checks started together with max_concurrent: 2 — never more than two run, all six run."""
    names = [f"slow_{i}" for i in range(6)]
    box.run("sed -i 's/^daemon:$/daemon:\\n  max_concurrent: 2/' /etc/bamon/config.yaml")
    try:
        for name in names:  # no timer: the only runs are the ones started below, at once
            box.run(["tee", f"/etc/bamon/scripts.d/{name}.yaml"],
                    input=f"name: {name}\ncommand: sleep 1\nenabled: false\nsandbox: minimal\n")
        box.run("systemctl daemon-reload && systemctl start --no-block "
                + " ".join(f"bamon-{n}.service" for n in names))
        wait_for(lambda: all(run_records(box, n) for n in names), 60, 0.5, "every check to have run")
        records = [e["record"] for n in names for e in run_records(box, n)]
        assert [r["result"] for r in records] == ["success"] * 6, records  # waited, none skipped
        spans = [(int(r["start_usec"]), int(r["end_usec"])) for r in records]
        # two at a time, exactly: the limit holds, and the queue uses both slots
        assert _peak(spans) == 2, f"{_peak(spans)} checks ran at once with max_concurrent: 2: {sorted(spans)}"
    finally:
        box.run("sed -i '/^  max_concurrent: 2$/d' /etc/bamon/config.yaml")
        box.run("rm -f " + " ".join(f"/etc/bamon/scripts.d/{n}.yaml" for n in names) + "; systemctl daemon-reload")


def test_max_concurrent_one_runs_checks_one_after_another(box: Container) -> None:
    box.run("sed -i 's/^daemon:$/daemon:\\n  max_concurrent: 1/' /etc/bamon/config.yaml")
    try:
        for name in ("slow_a", "slow_b", "slow_c"):
            add_check(box, name, "command: sleep 2\ninterval: 1h\nsandbox: minimal\n")
        wait_for(lambda: all(len(run_records(box, n)) >= 1 for n in ("slow_a", "slow_b", "slow_c")), 40, 0.5,
                 "the timers' first runs")
        # a running oneshot is "activating"
        box.run("while systemctl is-active bamon-slow_a bamon-slow_b bamon-slow_c | grep -q activating; "
                "do sleep 0.2; done; "
                "sleep 1; systemctl start --no-block bamon-slow_a.service bamon-slow_b.service bamon-slow_c.service")
        wait_for(lambda: all(len(run_records(box, n)) >= 2 for n in ("slow_a", "slow_b", "slow_c")), 40, 0.5,
                 "every check to have run twice")  # the timer's first run and ours
        spans = sorted((int(e["record"]["start_usec"]), int(e["record"]["end_usec"]))
                       for n in ("slow_a", "slow_b", "slow_c") for e in run_records(box, n))
        assert _peak(spans) == 1, f"{_peak(spans)} checks ran at once with max_concurrent: 1: {spans}"
        assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans)), spans
    finally:
        box.run("sed -i '/^  max_concurrent: 1$/d' /etc/bamon/config.yaml")
        remove_check(box, "slow_a", "slow_b", "slow_c")


# --- across a reboot: /var/lib/bamon on a directory of the host that outlives the container ----


@pytest.fixture(params=["bookworm", "trixie"])
def rebootable(request: pytest.FixtureRequest, bamon_deb: Path, tmp_path: Path) -> Iterator[tuple[Container, Path]]:
    state = tmp_path / "state"
    state.mkdir()
    yield Container(suite=request.param, nspawn_args=[f"--bind={state}:/var/lib/bamon"]), bamon_deb


def _boot_with_check(box: Container, deb: Path, body: str) -> None:
    box.boot()
    box.install_deb(deb)
    add_check(box, "persist", body)


def test_an_open_circuit_stays_open_across_a_reboot_then_half_opens_and_closes(
        rebootable: tuple[Container, Path]) -> None:
    box, deb = rebootable
    body = BREAKER.replace("6s", "45s").replace("/var/lib/brk-ok", "/var/lib/bamon/ok")
    _boot_with_check(box, deb, body)
    try:
        wait_for(lambda: status(box, "persist")["circuit"]["state"] == "OPEN", 30, 0.3, "the circuit to open")
        until = status(box, "persist")["circuit"]["until"]
        wait_for(lambda: _executed(box, "persist") >= 3, 10, 0.5, "three failed runs in the history")
    finally:
        box.shutdown()
    second = Container(suite=box.suite, nspawn_args=box.nspawn_args)
    _boot_with_check(second, deb, body)
    try:
        entry = wait_status(second, "persist", "SKIPPED", timeout=20)
        assert entry["circuit"] == {"state": "OPEN", "until": until}  # the same circuit, after the reboot
        second.run("touch /var/lib/bamon/ok")
        wait_for(lambda: status(second, "persist")["circuit"]["state"] == "CLOSED", 60, 0.5, "the trial to close it")
        wait_status(second, "persist", "OK")
    finally:
        second.shutdown()
