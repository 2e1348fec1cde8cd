"""History, metrics and analytics under the real systemd, read back as an operator would.

Checks are added without a timer (`--disabled`) and run with `bamon now`, so each test knows
exactly how many runs there were. Commands keep their state in $STATE_DIRECTORY, which the
unit makes writable inside the sandbox.
"""

from __future__ import annotations

import json
import textwrap
import time
from typing import Any

from alert_receiver import Receiver
from nspawn import Container
from support import bamon, history_runs, status

# fails every third run; says which run it is
EVERY_THIRD_FAILS = ('n=$(cat "$STATE_DIRECTORY/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE_DIRECTORY/n"; '
                     'echo "run $n"; [ $((n % 3)) -ne 0 ]')


def analytics(box: Container, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(bamon(box, "analytics", name, "--json"))
    return doc


def test_history_shows_exactly_the_runs_with_statuses_cpu_and_output(container: Container) -> None:
    bamon(container, "add", "counted", "-c", EVERY_THIRD_FAILS, "--disabled")
    for _ in range(9):
        bamon(container, "now", "-n", "counted", check=False)
    runs = history_runs(container, "counted")
    assert len(runs) == 9
    assert [r["output"] for r in runs] == [[f"run {n}"] for n in range(9, 0, -1)]  # newest first
    assert [r["status"] for r in runs] == ["FAILED" if n % 3 == 0 else "OK" for n in range(9, 0, -1)]
    assert all(r["exitCode"] == (1 if n % 3 == 0 else 0) for r, n in zip(runs, range(9, 0, -1), strict=True))
    assert all(r["cpu"] is not None and 0 <= r["cpu"] < 5 for r in runs)
    failed = history_runs(container, "counted", "--status", "FAILED")
    assert [r["output"] for r in failed] == [["run 9"], ["run 6"], ["run 3"]]
    assert len(history_runs(container, "counted", "-n", "4")) == 4
    table = bamon(container, "history", "counted")  # piped: plain rows, no sparklines
    assert table.splitlines()[0].split()[:3] == ["START", "STATUS", "DURATION"] and len(table.splitlines()) == 10
    bad = container.run(["bamon", "history", "counted", "--since", "banana"], check=False)
    assert bad.returncode == 1 and "cannot read 'banana' as a time" in bad.stderr and "Traceback" not in bad.stderr
    bamon(container, "remove", "-f", "counted")


def test_status_right_after_now_always_carries_the_output(container: Container) -> None:
    bamon(container, "add", "talkative", "-c", 'echo "first $RANDOM"; echo "token $INVOCATION_ID"', "--disabled")
    for attempt in range(50):
        bamon(container, "now", "-n", "talkative", check=False)
        entry = status(container, "talkative")
        lines = entry["output"] if isinstance(entry["output"], list) else entry["output"].splitlines()
        assert lines and lines[-1] == f"token {entry['invocationId']}", (attempt, entry)
    bamon(container, "remove", "-f", "talkative")


def test_history_and_status_read_runs_across_rotated_journal_files(container: Container) -> None:
    """Readers open only the journal files whose span meets the time asked for (bamon/journal.py):
    runs spread over several files, some before --since, still read back exactly."""
    bamon(container, "add", "rotated", "-c", EVERY_THIRD_FAILS, "--disabled")
    files_before = int(container.run("journalctl --header | grep -c '^File path:'").stdout)
    starts = []
    for _ in range(6):
        bamon(container, "now", "-n", "rotated", check=False)
        starts.append(status(container, "rotated")["lastExecution"])
        container.run("journalctl --rotate")  # the next run lands in a new file
        time.sleep(1.1)  # whole seconds apart: --since below falls between two runs
    assert int(container.run("journalctl --header | grep -c '^File path:'").stdout) >= files_before + 6
    runs = history_runs(container, "rotated")
    assert [r["output"] for r in runs] == [[f"run {n}"] for n in range(6, 0, -1)]
    assert [r["status"] for r in runs] == ["FAILED" if n % 3 == 0 else "OK" for n in range(6, 0, -1)]
    since = container.run(["date", "-d", starts[3], "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    since_then = history_runs(container, "rotated", "--since", since)
    assert [r["output"] for r in since_then] == [["run 6"], ["run 5"], ["run 4"]]
    last = status(container, "rotated")
    assert last["output"] == "run 6" and last["result"] == "Failed" and last["error"] == "Exit code 1: run 6"
    bamon(container, "remove", "-f", "rotated")


def test_a_run_made_slow_is_flagged_as_an_anomaly(container: Container) -> None:
    bamon(container, "add", "usually_fast", "-c",
          '[ -f "$STATE_DIRECTORY/slow" ] && sleep 1.5; echo done', "--disabled")
    for _ in range(12):
        bamon(container, "now", "-n", "usually_fast")
    assert analytics(container, "usually_fast")["checks"][0]["durationAnomaly"] is None
    container.run("touch /var/lib/bamon/checks/usually_fast/slow")
    bamon(container, "now", "-n", "usually_fast")
    anomaly = analytics(container, "usually_fast")["checks"][0]["durationAnomaly"]
    assert anomaly is not None and anomaly["value"] >= 1.5 and anomaly["z"] > 3.5
    assert "usually takes" in bamon(container, "analytics", "usually_fast")
    bamon(container, "remove", "-f", "usually_fast")


def test_two_checks_failing_together_are_correlated(container: Container) -> None:
    for name in ("db_probe", "api_probe"):
        bamon(container, "add", name, "-c", "test ! -f /etc/bamon-test-outage", "--disabled")
    # One run a second, outages apart by several passing runs: a time slot is at least 2 s
    # (docs/analytics.md), so faster runs or failures one run apart would put a failure in every
    # slot and leave nothing to correlate.
    # Five outages of three runs: on a busy host the two runs of a step can start a few hundred ms
    # apart, and an outage's edge may then fall in a slot for one check only; with a handful of
    # failing slots one such split took r to 0.54 in a whole-suite run, with ten it costs ~0.1.
    outage = [0, 0, 0, *([1, 1, 1, 0, 0, 0, 0] * 5), 0, 0]
    for down in outage:
        began = time.monotonic()
        container.run("touch /etc/bamon-test-outage" if down else "rm -f /etc/bamon-test-outage")
        bamon(container, "now", "-n", "db_probe", "-n", "api_probe", check=False)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    container.run("rm -f /etc/bamon-test-outage")
    doc = json.loads(bamon(container, "analytics", "--json"))
    pairs = [c for c in doc["correlations"] if set(c["checks"]) == {"db_probe", "api_probe"}]
    # listed means r >= 0.5 with 3 shared failing slots (bamon/history/fleet.py); their failures
    # are the same steps, so r is near 1 — less when the two runs of a step land on either side
    # of a slot boundary, which a loaded host makes likelier
    # on a failure: when each run started, and how it ended, to see which slot split
    runs = {name: [(r["start"][11:23], r["status"][0])
                   for r in json.loads(bamon(container, "history", name, "--json"))["runs"]]
            for name in ("db_probe", "api_probe")} if not pairs or pairs[0]["correlation"] < 0.6 else {}
    assert pairs and pairs[0]["correlation"] >= 0.6 and pairs[0]["sharedFailures"] >= 3, (doc["correlations"], runs)
    assert "fail together" in bamon(container, "analytics")
    for name in ("db_probe", "api_probe"):
        bamon(container, "remove", "-f", name)


def _metrics(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["label"]: m for m in run["metrics"]}


def test_perfdata_of_the_real_check_disk_and_check_load_plugins(container: Container) -> None:
    container.run("command -v /usr/lib/nagios/plugins/check_disk >/dev/null || apt-get install -y -qq "
                  "--no-install-recommends monitoring-plugins-basic >/dev/null",
                  env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    plugins = "/usr/lib/nagios/plugins"
    bamon(container, "add", "root_disk", "-c", f"{plugins}/check_disk -w 20% -c 10% -p /",
          "--output-format", "nagios", "--disabled")
    # thresholds far above any load: the container sees the host's load average, and a shared
    # CI host under load must not turn this test about perfdata into one about the host
    bamon(container, "add", "load", "-c", f"{plugins}/check_load -w 5000,5000,5000 -c 9000,9000,9000",
          "--output-format", "nagios", "--disabled")
    bamon(container, "now", "-n", "root_disk", "-n", "load", check=False)
    (disk,) = history_runs(container, "root_disk")
    assert disk["status"] in ("OK", "WARNING", "FAILED") and disk["problems"] == []
    root = _metrics(disk)["/"]
    assert root["unit"] in ("B", "MB") and root["value"] > 0 and root["crit"] and root["max"] > root["value"]
    (load,) = history_runs(container, "load")
    assert load["status"] == "OK" and load["problems"] == []
    assert {"load1", "load5", "load15"} <= set(_metrics(load)) and _metrics(load)["load1"]["crit"] == "9000.000"
    for name in ("root_disk", "load"):
        bamon(container, "remove", "-f", name)


def test_nagios_exit_1_is_warning_not_failed(container: Container) -> None:
    # exits with the code in $STATE_DIRECTORY/code (1 until the test writes 2 there)
    plugin = ('code=$(cat "$STATE_DIRECTORY/code" 2>/dev/null || echo 1); '
              'echo "QUEUE $code - 42 waiting | queue=42;40;80;0"; exit $code')
    bamon(container, "add", "queue", "-c", plugin, "--output-format", "nagios", "--disabled")
    bamon(container, "add", "queue_plain", "-c", plugin, "--disabled")
    bamon(container, "now", "-n", "queue", "-n", "queue_plain", check=False)
    assert status(container, "queue")["status"] == "WARNING"
    assert status(container, "queue_plain")["status"] == "FAILED"  # plain scripts: non-zero is a failure
    (run,) = history_runs(container, "queue")
    assert run["status"] == "WARNING" and _metrics(run)["queue"]["value"] == 42
    assert [r["status"] for r in history_runs(container, "queue", "--status", "warning")] == ["WARNING"]
    container.run("echo 2 > /var/lib/bamon/checks/queue/code")
    bamon(container, "now", "-n", "queue", check=False)
    assert status(container, "queue")["status"] == "FAILED"  # CRITICAL
    assert [r["status"] for r in history_runs(container, "queue")] == ["FAILED", "WARNING"]
    for name in ("queue", "queue_plain"):
        bamon(container, "remove", "-f", name)


def test_a_rule_routes_nagios_warning_apart_from_critical(container: Container) -> None:
    receiver = Receiver(ports=range(18300, 18400))
    try:
        config = container.path("/etc/bamon/config.yaml")
        original = config.read_text()
        config.write_text(original + textwrap.dedent(f"""
            alerts:
              channels:
                - {{name: warn-desk, type: webhook, url: "{receiver.url('/warn')}"}}
                - {{name: on-call, type: webhook, url: "{receiver.url('/crit')}"}}
              rules:
                - {{name: warnings, condition: "status == 'WARNING'", tags: [routing], channels: [warn-desk]}}
                - {{name: criticals, condition: "status == 'FAILED'", tags: [routing], channels: [on-call]}}
            """))
        plugin = ('code=$(cat "$STATE_DIRECTORY/code" 2>/dev/null || echo 1); '
                  'echo "QUEUE $code | queue=42;40;80;0"; exit $code')
        bamon(container, "add", "routed", "-c", plugin, "--output-format", "nagios", "--tag", "routing", "--disabled")
        bamon(container, "now", "-n", "routed", check=False)
        container.wait_for(lambda: receiver.at("/warn") or None, 40, 0.2, "the WARNING alert")
        (warning,) = receiver.at("/warn")
        assert warning.body["status"] == "WARNING" and warning.body["rule"] == "warnings"
        assert receiver.at("/crit") == []
        container.run("echo 2 > /var/lib/bamon/checks/routed/code")
        bamon(container, "now", "-n", "routed", check=False)
        container.wait_for(lambda: receiver.at("/crit") or None, 40, 0.2, "the CRITICAL alert")
        (critical,) = receiver.at("/crit")
        assert critical.body["status"] == "FAILED" and critical.body["rule"] == "criticals"
        assert len(receiver.at("/warn")) == 1
        config.write_text(original)
        bamon(container, "remove", "-f", "routed")
    finally:
        receiver.close()
