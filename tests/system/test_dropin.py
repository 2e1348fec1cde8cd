"""The original BAMON's interface against a real systemd: status, now, log and performance as a
migrating user drives them, and the two defects found on the way (a calendar check never showed
its next run on systemd 252; cron steps became enumerations).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from nspawn import Container, wait_for
from support import bamon, run_records, status, wait_status

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "status.schema.json").read_text())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_calendar_check_shows_its_next_run(container: Container) -> None:
    bamon(container, "add", "nightly", "-c", "true", "-s", "Mon..Fri *-*-* 02:00")
    try:
        # systemd 252 prints this property as a date even with --timestamp=unix; bamon read
        # only the "@epoch" form and showed "-" / null
        raw = container.run(["systemctl", "show", "--timestamp=unix", "-p", "NextElapseUSecRealtime",
                             "--value", "bamon-nightly.timer"]).stdout.strip()
        assert raw and raw != "n/a"
        entry = status(container, "nightly")
        assert entry["nextExecution"] is not None, raw
        moment = when(entry["nextExecution"])
        now = datetime.now(UTC)
        assert now < moment <= now + timedelta(days=4) and moment.hour == 2 and moment.minute == 0
        assert moment.weekday() < 5
        row = next(line for line in bamon(container, "status", "-n", "nightly").splitlines()
                   if line.startswith("nightly"))
        assert row.split("never", 1)[1].strip().startswith("in "), row  # NEXT EXECUTION: "in 2d 22h", never "-"
    finally:
        bamon(container, "remove", "-f", "nightly")


def _systemd_next(box: Container, timer: str) -> datetime:
    """NextElapseUSecRealtime as systemd gives it (a date on 252, "@epoch" later)."""
    raw = box.run(["systemctl", "show", "--timestamp=unix", "-p", "NextElapseUSecRealtime", "--value", timer]).stdout
    raw = raw.strip()
    if raw.startswith("@"):
        return datetime.fromtimestamp(float(raw[1:]), tz=UTC)
    out = box.run(["date", "-u", "-d", raw, "+%s"]).stdout
    return datetime.fromtimestamp(int(out), tz=UTC)


def test_interval_checks_started_together_run_at_their_own_phases(each_debian: Container) -> None:
    """Three 5-s checks started in one go: after the first run (at once) each runs on the 5-s grid
    of UTC time at the phase its timer names, and status's next run is systemd's next elapse."""
    container = each_debian
    names = ["grid_a", "grid_b", "grid_c"]
    calendars = {}
    try:
        for name in names:
            bamon(container, "add", name, "-c", "true", "-i", "5s", "--sandbox", "minimal")
        bamon(container, "restart")  # the timers start together, as after an upgrade
        for name in names:
            unit = container.run(["systemctl", "cat", f"bamon-{name}.timer"]).stdout
            calendars[name] = next(line.split("=", 1)[1] for line in unit.splitlines()
                                   if line.startswith("OnCalendar="))
        assert len(set(calendars.values())) == 3, calendars  # three phases, not one
        wait_for(lambda: all(len(run_records(container, n)) >= 4 for n in names) or None, 60, 1, "four runs each")
        for name in names:
            # "*-*-* *:*:SS.T/5 UTC": the phase within every 5 s
            phase = float(calendars[name].split(":")[-1].split("/")[0])
            starts = [int(r["record"]["start_usec"]) / 1e6 for r in run_records(container, name)][1:]
            # the run starts when systemd has started the unit: a little after the elapse, never before
            lags = [(start - phase) % 5 for start in starts]
            assert all(lag < 1.0 for lag in lags), (name, calendars[name], lags)
            elapse = _systemd_next(container, f"bamon-{name}.timer")  # whole seconds on 252
            ahead = (when(status(container, name)["nextExecution"]) - elapse).total_seconds()
            # the same instant, or the one after it when the grid point passed between the two
            assert -1.0 < ahead < 1.0 or 4.0 < ahead < 6.0, (name, elapse, ahead)
    finally:
        for name in names:
            bamon(container, "remove", "-f", name)


def test_cron_steps_stay_steps(container: Container) -> None:
    bamon(container, "add", "every5", "-c", "true", "-s", "*/5 * * * *")
    bamon(container, "add", "every1", "-c", "true", "-s", "*/1 * * * *", "--disabled")
    try:
        listed = {s["name"]: s["schedule"] for s in json.loads(bamon(container, "list", "--json"))["scripts"]}
        assert listed["every5"] == "*-*-* *:00/5:00" and listed["every1"] == "*-*-* *:*:00"
        assert "00,05" not in bamon(container, "list")
        # systemd reads the step as written, and fires on the fives
        calendar = container.run(["systemd-analyze", "calendar", "--iterations=3", listed["every5"]]).stdout
        assert "Normalized form: *-*-* *:00/5:00" in calendar
        moment = when(status(container, "every5")["nextExecution"])
        assert moment.minute % 5 == 0 and moment.second == 0
    finally:
        bamon(container, "remove", "-f", "every5")
        bamon(container, "remove", "-f", "every1")


def _document(box: Container, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(bamon(box, "status", "--json", *args))
    jsonschema.validate(document, SCHEMA)
    return document


def test_status_json_matches_the_schema_for_every_kind_of_check(container: Container) -> None:
    checks = {
        "c_pass": ["-c", "echo fine", "-i", "1h"],
        "c_lines": ["-c", "printf 'one\\ntwo\\n'", "-i", "1h"],
        "c_fail": ["-c", "echo 'disk on fire' >&2; echo more; exit 3", "-i", "1h"],
        "c_slow": ["-c", "echo starting; sleep 30", "-i", "1h", "-t", "2"],
        "c_never": ["-c", "true", "-s", "2099-01-01"],
        "c_off": ["-c", "true", "--disabled"],
    }
    for name, args in checks.items():
        bamon(container, "add", name, *args)
    try:
        # run them now rather than wait for their timers (a loaded container is slow to fire)
        container.run(["bamon", "now", "-n", "c_pass", "-n", "c_lines", "-n", "c_fail", "-n", "c_slow"],
                      check=False, timeout=60)
        wait_status(container, "c_pass", "OK", timeout=60, with_output=True)
        wait_status(container, "c_lines", "OK", timeout=60, with_output=True)
        wait_status(container, "c_fail", "FAILED", timeout=60, with_output=True)
        wait_status(container, "c_slow", "FAILED", timeout=60)
        document = _document(container, *[a for n in checks for a in ("-n", n)])
        got = {s["name"]: s for s in document["scripts"]}
        assert (got["c_pass"]["result"], got["c_pass"]["output"]) == ("Success", "fine")
        assert got["c_lines"]["output"] == ["one", "two"]
        assert got["c_fail"]["result"] == "Failed" and "disk on fire" in got["c_fail"]["output"]
        assert got["c_slow"]["failureReason"] == "timeout" and got["c_slow"]["exitCode"] is None
        assert (got["c_never"]["status"], got["c_never"]["result"]) == ("UNKNOWN", "Unknown")
        assert got["c_off"]["status"] == "DISABLED" and got["c_off"]["nextExecution"] is None
        table = bamon(container, "status")
        assert "two (truncated - use --json)" in table and "Success" in table and "Failed" in table
        failed = json.loads(bamon(container, "status", "--failed-only", "--json"))["scripts"]
        assert {"c_fail", "c_slow"} <= {s["name"] for s in failed} and "c_pass" not in {s["name"] for s in failed}
        # now: the same document, after running the check; -a is accepted with one note
        ran = container.run(["bamon", "now", "-n", "c_pass", "--json", "-a"])
        assert jsonschema.validate(json.loads(ran.stdout), SCHEMA) is None
        assert ran.stderr.strip().startswith("bamon: --async") and len(ran.stderr.strip().splitlines()) == 1
    finally:
        for name in checks:
            bamon(container, "remove", "-f", name)


def test_log_with_the_originals_options(container: Container) -> None:
    name = f"chatter{time.monotonic_ns() % 100000}"  # the journal remembers earlier tests' checks
    bamon(container, "add", name, "-c", "echo alpha; echo 'needle here' >&2; echo omega; exit 1", "-i", "1h")
    try:
        wait_status(container, name, "FAILED", with_output=True)
        context = bamon(container, "log", name, "-g", "needle", "-b", "1", "-a", "1", "-s", "1h")
        lines = [line for line in context.splitlines() if f"[{name}]" in line]
        assert [line.split("] ", 1)[1] for line in lines][:3] == ["alpha", "needle here", "omega"], context
        assert bamon(container, "log", name, "-g", "no-such-text") == ""
        assert bamon(container, "log", name, "-n", "0") == ""
        assert bamon(container, "log", name, "-g", "need.e", "-r", "-n", "5").count("needle here") == 1
        entries = [json.loads(line) for line in bamon(container, "log", name, "-o", "json").splitlines()]
        assert entries and all(set(e) == {"timestamp", "level", "script", "message"} for e in entries)
        assert any(e["message"] == "needle here" and e["script"] == name for e in entries)
        errors = bamon(container, "log", name, "-l", "ERROR", "-o", "json", "-n", "100").splitlines()
        assert all(json.loads(line)["level"] == "ERROR" for line in errors)
        info = bamon(container, "log", "--info")
        assert "Location:" in info and "Size:" in info and "Retention:" in info
        wrong = container.run(["bamon", "log", "-l", "LOUD"], check=False)
        assert wrong.returncode == 1 and wrong.stderr.startswith("bamon: error: unknown level")
        bad_time = container.run(["bamon", "log", "-s", "not a time"], check=False)
        assert bad_time.returncode == 1 and bad_time.stderr.startswith("bamon: error: journalctl:")
        assert "Traceback" not in wrong.stderr + bad_time.stderr
    finally:
        bamon(container, "remove", "-f", name)


def test_performance_reads_systemds_accounting(container: Container) -> None:
    bamon(container, "add", "busy", "-c", "for i in $(seq 20000); do :; done; echo done", "-i", "2s")
    try:
        wait_for(lambda: len(run_records(container, "busy")) >= 2, 30, 0.5, "two runs of busy")
        document = json.loads(bamon(container, "performance", "--json"))
        assert {"load", "memory", "disk"} <= set(document["system_metrics"])
        assert document["system_metrics"]["memory"]["total_bytes"] > 0
        busy = document["script_performance"]["busy"]
        assert busy["runs"] >= 2 and busy["avg_time"] > 0 and busy["failures"] == 0
        assert busy["cpu_seconds"] > 0  # systemd's CPU accounting of the runs
        spent = [c["cpu_seconds"] for c in document["script_performance"].values()]
        assert spent == sorted(spent, reverse=True)  # the most expensive first
        table = bamon(container, "performance", "-v")
        assert "Load:" in table and "busy" in table and "CPU/RUN" in table
    finally:
        bamon(container, "remove", "-f", "busy")
