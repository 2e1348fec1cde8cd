"""Checks running under the real systemd: results, reasons, quoting, the per-run record.

Each test adds its own uniquely named check to the shared container with `bamon add`, as an
operator would, and reads the results back with `bamon status --json`, `bamon history`,
`journalctl` and `systemctl`.
"""

from __future__ import annotations

import json
import shlex

from nspawn import Container, wait_for
from support import bamon, history_runs, output_text, run_records, status, wait_status

NASTY = r"""printf '<%s>' '%n %% %{http_code}' "a\"b" 'c\d' "tab	x" 'ünï€ ✓' "$((1+2))"; echo
awk 'BEGIN { print "{print $5}" }'
v='$HOME'; echo "${v} \$PATH \\ \"quoted\" `echo backticks`"
cat <<'EOT'
heredoc $NOT_EXPANDED %s
EOT"""


def test_sample_checks_from_the_package_are_ok(container: Container) -> None:
    for name in ("disk_root", "memory_available", "load_average"):
        entry = wait_status(container, name, "OK", timeout=60, with_output=True)
        assert entry["exitCode"] == 0 and entry["output"]


def test_two_second_check_runs_repeatedly_and_reports_ok_with_output(container: Container) -> None:
    bamon(container, "add", "tick", "-c", 'echo "tick $(date +%s%N)"', "-i", "2s")
    wait_for(lambda: len(run_records(container, "tick")) >= 3, 30, 0.5, "three runs of tick")
    entry = wait_status(container, "tick", "OK", with_output=True)
    assert entry["status"] == "OK" and entry["result"] == "Success" and entry["exitCode"] == 0
    assert entry["output"].startswith("tick ")
    assert entry["unit"] == "bamon-tick.service" and entry["failureReason"] is None
    assert entry["consecutiveFailures"] == 0 and entry["nextExecution"] and entry["lastExecution"]
    entry = run_records(container, "tick")[-1]
    record = entry["record"]
    for key in ("invocation", "result", "exit_status", "start_usec", "end_usec", "duration_usec"):
        assert record[key], key
    assert record["result"] == "success" and record["exit_status"] == "0"
    assert int(record["end_usec"]) - int(record["start_usec"]) == int(record["duration_usec"])
    assert entry["_SYSTEMD_UNIT"] == "bamon-tick.service" and entry["BAMON_CHECK"] == "tick"
    assert entry["PRIORITY"] == "6"
    # journald files the record with the run's own invocation id where it still knows it: when it
    # reads the line after systemd has stopped the unit (a loaded host), the field is missing,
    # which is why bamon's readers match by name (bamon/history/records.py) and the record names
    # its invocation itself. What journald does file must be the same invocation.
    assert entry.get("_SYSTEMD_INVOCATION_ID", record["invocation"]) == record["invocation"]
    invocations = {e.get("_SYSTEMD_INVOCATION_ID") for e in run_records(container, "tick")} - {None}
    assert invocations <= {e["record"]["invocation"] for e in run_records(container, "tick")}
    # No Python on the success path: the only Python a check can start is its OnFailure=
    # notifier, which never ran, and the unit's processes were bash alone.
    notifier = container.run("systemctl show -p InvocationID --value bamon.notify@bamon-tick.service").stdout
    assert notifier.strip() == ""
    commands = container.run("journalctl -o json --no-pager _SYSTEMD_UNIT=bamon-tick.service").stdout
    assert {json.loads(line).get("_COMM") for line in commands.splitlines()} <= {"bash", None}
    bamon(container, "remove", "-f", "tick")


def test_cpu_time_of_a_run_comes_from_its_cgroup_to_the_microsecond(container: Container) -> None:
    """run-check reads the unit's cgroup (cpu.stat), not `times` (whole milliseconds, a file write)."""
    bamon(container, "add", "burn", "-c", "i=0; while ((i < 100000)); do ((i++)); done", "-i", "1h")
    for _ in range(3):
        container.run("systemctl start bamon-burn.service")
    cpu = [int(e["record"]["cpu_usec"]) for e in run_records(container, "burn")]
    assert len(cpu) >= 3 and all(50_000 <= c < 20_000_000 for c in cpu), cpu  # the loop's CPU is counted
    # `times` counts whole milliseconds; three cgroup readings all on a millisecond: one in 10^9
    assert any(c % 1000 for c in cpu), f"CPU times look like `times` output, not the cgroup's: {cpu}"
    # no `times` file: `last` and `failing` (empty while it passes, what dependents look at) alone
    assert container.run("ls /var/lib/bamon/checks/burn/").stdout.split() == ["failing", "last"]
    assert container.run("stat -c %s /var/lib/bamon/checks/burn/failing").stdout.strip() == "0"
    bamon(container, "remove", "-f", "burn")


def test_a_plain_command_runs_without_a_subshell_and_others_keep_theirs(container: Container) -> None:
    """A fork fewer per run for plain words (bamon/units/shell.py): bash and the command alone."""
    bamon(container, "add", "plain_wait", "-c", "sleep 4", "-i", "1h")
    bamon(container, "add", "shell_wait", "-c", "sleep 4 || exit 1", "-i", "1h")
    container.run("systemctl start --no-block bamon-plain_wait.service bamon-shell_wait.service")

    def processes(name: str) -> list[str]:  # the commands of the processes in the run's cgroup
        procs = f"/sys/fs/cgroup/bamon.slice/bamon-{name}.service/cgroup.procs"
        return sorted(container.run(f"xargs -r -I{{}} cat /proc/{{}}/comm < {procs}", check=False).stdout.split())

    for name in ("plain_wait", "shell_wait"):
        wait_for(lambda: "sleep" in processes(name), 10, 0.2, f"{name}'s sleep")  # noqa: B023 (used at once)
    assert processes("plain_wait") == ["bash", "sleep"] and processes("shell_wait") == ["bash", "bash", "sleep"]
    env = container.run("systemctl show -p Environment --value bamon-plain_wait.service").stdout
    assert "BAMON_INLINE=1" in env.split()
    assert "BAMON_INLINE" not in container.run("systemctl show -p Environment --value bamon-shell_wait.service").stdout
    for name in ("plain_wait", "shell_wait"):
        entry = wait_status(container, name, "OK", timeout=20)
        assert entry["exitCode"] == 0
        bamon(container, "remove", "-f", name)


def test_exit_3_with_stderr_is_failed_with_exit_code_and_text(container: Container) -> None:
    bamon(container, "add", "broken_app", "-c", 'echo "disk on fire" >&2; exit 3', "-i", "2s")
    entry = wait_status(container, "broken_app", "FAILED", with_output=True)
    assert entry["exitCode"] == 3 and entry["result"] == "Failed"
    assert entry["failureReason"] == "exit-code"
    assert "disk on fire" in entry["output"] and "disk on fire" in entry["error"]
    wait_for(lambda: status(container, "broken_app")["consecutiveFailures"] >= 2, 20, 0.5, "a second failure")
    table = bamon(container, "status", "-n", "broken_app")
    assert "Failed" in table and "disk on fire" in table
    bamon(container, "remove", "-f", "broken_app")


def test_command_past_its_timeout_fails_with_reason_timeout(container: Container) -> None:
    bamon(container, "add", "slowpoke", "-c", "echo starting; sleep 30", "-i", "1h", "-t", "2")
    entry = wait_status(container, "slowpoke", "FAILED", timeout=40)
    assert entry["failureReason"] == "timeout"
    assert entry["exitCode"] is None  # killed, no exit status
    assert 1.5 <= entry["duration"] <= 10
    assert "Timeout after 2s" in bamon(container, "status", "-n", "slowpoke")
    assert "Result: timeout" in container.run("systemctl status bamon-slowpoke --no-pager", check=False).stdout
    bamon(container, "remove", "-f", "slowpoke")


def test_a_check_run_as_another_user_keeps_its_state_file_after_a_timeout(container: Container) -> None:
    """The notifier (root) records the timeout; the check's user must still own `last`."""
    bamon(container, "add", "nobody_slow", "-c", "sleep 30", "-i", "1h", "-t", "1", "--user", "nobody")
    wait_status(container, "nobody_slow", "FAILED", timeout=30)
    wait_for(lambda: status(container, "nobody_slow")["failureReason"] == "timeout", 20, 0.5, "the timeout record")
    owner = container.run("stat -c %U /var/lib/bamon/checks/nobody_slow/last").stdout.strip()
    assert owner == "nobody"
    bamon(container, "remove", "-f", "nobody_slow")


def test_memory_hog_past_max_virtual_memory_fails_with_a_memory_reason(container: Container) -> None:
    # 300 MB in a shell variable, against the default max_virtual_memory of 100 MiB
    bamon(container, "add", "hog", "-c", 'x=$(head -c 300000000 /dev/zero | tr "\\0" a); echo ${#x}', "-i", "1h")
    entry = wait_status(container, "hog", "FAILED", timeout=60)
    # oom-kill where systemd has the cgroup memory controller; memory where only LimitAS= holds
    wait_for(lambda: status(container, "hog")["failureReason"] in ("oom-kill", "memory"), 20, 0.5,
             "a memory reason")
    assert entry["exitCode"] != 0
    assert "memory" in bamon(container, "status", "-n", "hog").lower()
    bamon(container, "remove", "-f", "hog")


def test_nasty_quoting_reaches_bash_byte_for_byte(container: Container) -> None:
    bamon(container, "add", "nasty", "-c", NASTY, "-i", "1h")
    wait_status(container, "nasty", "OK", with_output=True)
    # The check's only run (interval 1h), by its identifier: journald files a run's last lines
    # without _SYSTEMD_INVOCATION_ID when it reads them after systemd stopped the unit, which is
    # why bamon's readers match by name too (bamon/history/records.py).
    lines = container.run(["journalctl", "-o", "json", "SYSLOG_IDENTIFIER=bamon-nasty",
                           "_TRANSPORT=stdout"]).stdout.splitlines()
    # everything the run printed, plus run-check's record line (from its own stream)
    messages = [json.loads(line)["MESSAGE"] for line in lines]
    records = [m for m in messages if m.startswith("bamon-run ")]
    from_unit = [m for m in messages if not m.startswith("bamon-run ")]
    assert len(records) == 1 and records[0].startswith("bamon-run result=success ")
    expected = container.run(["env", "-i", "PATH=/usr/bin:/bin", "/bin/bash", "-c", NASTY]).stdout.splitlines()
    assert expected[0] == "<%n %% %{http_code}><a\"b><c\\d><tab\tx><ünï€ ✓><3>"
    assert from_unit == expected
    bamon(container, "remove", "-f", "nasty")


def test_output_without_a_final_newline_leaves_the_record_a_line_of_its_own(each_debian: Container) -> None:
    """The command's output and run-check's record share one journal stream: journald ends a line at
    a newline or where the writing process changes. `echo -n` in run-check's own process would glue
    its text to the record line, and history would lose the run (bamon/units/shell.py)."""
    box = each_debian
    commands = {"nonl_echo": "echo -n partial", "nonl_program": "/usr/bin/printf partial",
                "nonl_subshell": "printf partial"}
    for name, command in commands.items():
        bamon(box, "add", name, "-c", command, "-i", "1h")
    for name in commands:
        entry = wait_status(box, name, "OK", timeout=30, with_output=True)
        assert output_text(entry) == "partial", name
        assert [r["record"]["result"] for r in run_records(box, name)][-1:] == ["success"], name
        runs = history_runs(box, name)
        assert runs and runs[0]["status"] == "OK", name
    inline = box.run("systemctl show -p Environment --value bamon-nonl_echo.service").stdout
    assert "BAMON_INLINE=1" not in inline.split()  # echo -n keeps its subshell
    for name in commands:
        bamon(box, "remove", "-f", name)


def test_journalctl_shows_the_checks_output(container: Container) -> None:
    bamon(container, "add", "chatty", "-c", "echo hello-journal", "-i", "1h")
    wait_status(container, "chatty", "OK", with_output=True)
    out = container.run("journalctl -u bamon-chatty --no-pager -o cat").stdout
    assert "hello-journal" in out
    assert "hello-journal" in bamon(container, "log", "chatty", "-n", "20")
    assert "hello-journal" in container.run("journalctl BAMON_CHECK=chatty -o cat --no-pager").stdout
    bamon(container, "remove", "-f", "chatty")


def test_bamon_now_runs_waits_and_prints_the_table(container: Container) -> None:
    bamon(container, "add", "manual", "-c", "echo ran-now", "--disabled")
    result = container.run(["bamon", "now", "-n", "manual"], check=False)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["NAME", "STATUS", "EXIT"]
    assert "manual" in result.stdout and "Success" in result.stdout and "ran-now" in result.stdout
    failing = container.run(["bamon", "now", "-n", "manual", "--json"], check=False)
    assert json.loads(failing.stdout)["scripts"][0]["output"] == "ran-now"
    bamon(container, "add", "nowfail", "-c", "exit 4", "--disabled")
    result = container.run(["bamon", "now", "-n", "nowfail"], check=False)
    assert result.returncode == 1 and "Failed" in result.stdout
    for name in ("manual", "nowfail"):
        bamon(container, "remove", "-f", name)


def test_history_lists_every_run_newest_first(container: Container) -> None:
    bamon(container, "add", "flaky", "-c", "test -e /tmp/flaky-ok", "-i", "1h", "--sandbox", "minimal")
    container.run(["bamon", "now", "-n", "flaky"], check=False)
    container.run("touch /tmp/flaky-ok")
    container.run(["bamon", "now", "-n", "flaky"], check=False)
    runs = json.loads(bamon(container, "history", "flaky", "--json"))["runs"]
    assert [r["status"] for r in runs[:2]] == ["OK", "FAILED"]
    assert runs[1]["exitCode"] == 1 and runs[1]["result"] == "exit-code"
    assert "FAILED" in bamon(container, "history", "flaky")
    bamon(container, "remove", "-f", "flaky")
    container.run(shlex.join(["rm", "-f", "/tmp/flaky-ok"]))
