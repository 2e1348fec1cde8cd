"""Alerting under the real systemd: failing checks in a booted Debian 12, alerts received by a
local HTTP receiver on the host (the container shares the host's network).

One container for the module, one config: each test has its own check and channels, routed
by tag. Checks fail until the test creates /etc/bamon/NAME.ok (readable in every sandbox).
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_alert_delivery
from alert_receiver import Receiver, free_port
from nspawn import Container
from support import append_config, bamon, status

PD_KEY = "0123456789abcdef0123456789abcdef"
smtp = test_alert_delivery.smtp  # the local SMTP server (aiosmtpd) fixture, shared with the delivery tests


def check(name: str, tag: str) -> str:
    return textwrap.dedent(f"""\
        name: {name}
        command: 'test -e /etc/bamon/{name}.ok && echo fine || {{ echo "disk on fire in {name}"; exit 3; }}'
        interval: 2s
        severity: critical
        tags: [{tag}]
        hint: "see the {name} runbook"
        """)


def alerts_config(receiver: Receiver, smtp_port: int) -> str:
    return textwrap.dedent(f"""
        alerts:
          channels:
            - {{name: mail, type: email, smtp_server: 127.0.0.1, port: {smtp_port}, security: none,
                from: bamon@example.com, to: [ops@example.com]}}
            - {{name: broken, type: webhook, url: "http://127.0.0.1:{free_port()}/down", retries: 0, timeout: 1}}
            - {{name: plain, type: webhook, url: "{receiver.url('/plain')}"}}
            - {{name: pd, type: pagerduty, routing_key: "{PD_KEY}", url: "{receiver.url('/pd')}"}}
            - {{name: first, type: webhook, url: "{receiver.url('/first')}"}}
            - {{name: second, type: webhook, url: "{receiver.url('/second')}"}}
            - {{name: quiet, type: webhook, url: "{receiver.url('/quiet')}"}}
            - {{name: rate, type: webhook, url: "{receiver.url('/rate')}"}}
          gradual_step: 8s
          rules:
            - {{name: plain-failures, condition: "status == 'FAILED'", tags: [plain],
                channels: [broken, plain, pd, mail], cooldown: 1h}}
            - {{name: stepwise, tags: [stepwise], channels: [first, second], escalation: gradual}}
            - {{name: hushed, tags: [hushed], channels: [quiet]}}
            - {{name: mostly-failing, condition: "error_rate > 0.5 and consecutive_failures >= 2", window: 10m,
                tags: [plain], channels: [rate]}}
        """)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def box(system_host: None, bamon_deb: Path, receiver: Receiver, smtp: tuple[list[Any], int]) -> Iterator[Container]:
    container = Container()
    container.boot()
    try:
        container.install_deb(bamon_deb)
        append_config(container, alerts_config(receiver, smtp[1]))
        # before the checks exist: a tag silence covers hushed_check from its first run
        bamon(container, "silence", "add", "--tag", "hushed", "--for", "1h", "--reason", "planned work")
        container.run("touch /etc/bamon/stepwise_check.ok")  # it starts failing when its test begins
        for name, tag in (("plain_check", "plain"), ("stepwise_check", "stepwise"), ("hushed_check", "hushed")):
            container.path(f"/etc/bamon/scripts.d/{name}.yaml").write_text(check(name, tag))
        assert container.run(["bamon", "config", "validate"], check=False).returncode == 0, \
            container.run(["bamon", "config", "validate"], check=False).stderr
        bamon(container, "apply")
        yield container
    finally:
        container.shutdown()


def wait_requests(box: Container, receiver: Receiver, path: str, count: int, timeout: float = 40) -> list[Any]:
    try:
        box.wait_for(lambda: len(receiver.at(path)) >= count or None, timeout, 0.2, f"{count} request(s) at {path}")
    except TimeoutError:
        # where a stuck notifier is (it prints its stack on SIGUSR1), and what it logged
        box.run("systemctl kill -s USR1 'bamon.notify@*' 'bamon.recovered@*'; sleep 1", check=False)
        notifier = box.run("systemctl list-jobs --no-pager; ps -eo pid,stat,wchan:24,args --forest | grep -v ' \\[' "
                           "| tail -30; journalctl --no-pager -o short-precise -u 'bamon.notify@*' "
                           "-u 'bamon.recovered@*' -u 'bamon.recover@*' | grep -v hushed | tail -60",
                           check=False).stdout
        raise AssertionError(f"{len(receiver.at(path))} request(s) at {path}; the notifier said:\n{notifier}") from None
    return receiver.at(path)


def decisions(box: Container, name: str) -> list[dict[str, Any]]:
    out = box.run(["journalctl", "-o", "json", "--no-pager", "BAMON_EVENT=alert.decision",
                   f"BAMON_CHECK={name}"]).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_failure_alerts_each_routed_channel_once_with_evidence_then_recovers(
        box: Container, receiver: Receiver, smtp: tuple[list[Any], int]) -> None:
    inbox, _ = smtp
    [first] = wait_requests(box, receiver, "/plain", 1)
    alert = first.body
    assert alert["kind"] == "failure" and alert["check"] == "plain_check" and alert["status"] == "FAILED"
    assert alert["rule"] == "plain-failures" and alert["severity"] == "critical"
    ev = alert["evidence"]
    assert ev["exit_code"] == 3 and ev["failure_reason"] == "exit-code" and ev["reason_text"] == "exit code"
    assert ev["host"] == "bamon-test" and ev["duration_s"] >= 0 and ev["cpu_s"] is not None
    assert "disk on fire in plain_check" in ev["output_tail"]
    # the notifier reports the check's latest run: with a 2 s interval, the first run (at once)
    # and the first point of its grid may both be over before the first notifier reads them
    assert "see the plain_check runbook" in ev["hint"] and ev["consecutive_failures"] in (1, 2)
    assert ev["journalctl"].startswith("journalctl --no-pager INVOCATION_ID=") and ev["episode_start"] > 0
    assert "disk on fire in plain_check" in alert["body"] and "Full log:" in alert["body"]
    # the exact journalctl command shows that run's output, also the lines journald stored
    # without the invocation id (matched by the run's stdout stream)
    assert " + _STREAM_ID=" in ev["journalctl"]
    shown = box.run(ev["journalctl"] + " -o cat").stdout
    assert "disk on fire in plain_check" in shown
    # PagerDuty (Events API v2 shape): a trigger keyed by the episode
    [trigger] = wait_requests(box, receiver, "/pd", 1)
    assert trigger.body["event_action"] == "trigger" and trigger.body["routing_key"] == PD_KEY
    assert trigger.body["dedup_key"] == alert["dedup_key"]
    assert trigger.body["payload"]["severity"] == "critical" and trigger.body["payload"]["source"]
    # more failures inside the cooldown (and the same episode): nothing more is sent
    box.wait_for(lambda: status(box, "plain_check")["consecutiveFailures"] >= 4 or None, 30, 0.5, "4 failures")
    time.sleep(1)
    assert len(receiver.at("/plain")) == 1 and len(receiver.at("/pd")) == 1
    def by_rule() -> dict[str, list[str]] | None:  # the 4th run's notifier may still be at work
        found: dict[str, list[str]] = {"plain-failures": [], "mostly-failing": []}
        for d in decisions(box, "plain_check"):
            found[d["RULE"]].append(d["ACTION"])
        return found if len(found["plain-failures"]) >= 4 and len(found["mostly-failing"]) >= 3 else None
    actions = box.wait_for(by_rule, 20, 0.5, "the decisions of 4 failures")
    assert actions["plain-failures"][:4] == ["send"] + ["already-alerted"] * 3
    assert actions["mostly-failing"][:3] == ["send"] + ["already-alerted"] * 2
    # a second rule, on the error rate read back from the run records in journald: its own alert
    [rate] = receiver.at("/rate")
    # (at or past its threshold of 2: as above, a notifier reports the latest run, and with runs
    # 2 s apart the next one may have ended before it reads)
    assert rate.body["rule"] == "mostly-failing" and rate.body["evidence"]["consecutive_failures"] >= 2
    # the broken channel was tried and recorded, and did not stop the others
    deliveries = box.run(["journalctl", "-o", "json", "--no-pager", "BAMON_EVENT=alert.delivery",
                          "BAMON_CHECK=plain_check"]).stdout
    outcomes = {(e["CHANNEL"], e["OUTCOME"]) for e in map(json.loads, deliveries.splitlines())}
    assert {("broken", "transient"), ("plain", "delivered"), ("pd", "delivered"), ("mail", "delivered")} <= outcomes
    # and by mail (a local SMTP server): one message, with the evidence in its text
    (mail,) = inbox
    assert mail.rcpt_tos == ["ops@example.com"] and b"disk on fire in plain_check" in mail.content

    # the first success: one "recovered", and PagerDuty resolves the same dedup key
    box.run("touch /etc/bamon/plain_check.ok")
    recovered = wait_requests(box, receiver, "/plain", 2, timeout=20)[1].body
    assert recovered["kind"] == "recovery" and recovered["status"] == "OK"
    assert recovered["dedup_key"] == alert["dedup_key"] and "RECOVERED" in recovered["title"]
    resolve = wait_requests(box, receiver, "/pd", 2, timeout=10)[1].body
    box.wait_for(lambda: len(inbox) == 2 or None, 10, 0.2, "the recovered mail")
    assert b"RECOVERED" in inbox[1].content
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == alert["dedup_key"]
    # later successes start no notifier and send nothing
    time.sleep(6)
    assert len(receiver.at("/plain")) == 2 and len(receiver.at("/pd")) == 2
    starts = box.run("journalctl --no-pager -o cat -u 'bamon.recovered@plain_check.service' | grep -c Finished",
                     check=False).stdout.strip()
    assert starts == "1"
    assert box.run("systemctl is-active bamon.recover@plain_check.path", check=False).stdout.strip() == "inactive"


def test_gradual_escalation_reaches_the_second_channel_only_after_its_delay(box: Container,
                                                                            receiver: Receiver) -> None:
    box.run("rm /etc/bamon/stepwise_check.ok")
    [first] = wait_requests(box, receiver, "/first", 1)
    assert first.body["check"] == "stepwise_check" and first.body["step"] == 0
    time.sleep(max(0.0, first.received + 4 - time.time()))
    assert receiver.at("/second") == []  # not yet: the step is 8 s
    [second] = wait_requests(box, receiver, "/second", 1, timeout=30)
    assert second.body["step"] == 1 and second.body["severity"] == "critical"
    assert second.received - first.received >= 6, second.received - first.received
    assert second.body["dedup_key"] == first.body["dedup_key"]
    box.run("touch /etc/bamon/stepwise_check.ok")
    for path in ("/first", "/second"):
        assert wait_requests(box, receiver, path, 2, timeout=20)[1].body["kind"] == "recovery"


def test_a_silenced_check_sends_nothing_and_the_silence_is_listed(box: Container, receiver: Receiver) -> None:
    box.wait_for(lambda: status(box, "hushed_check")["consecutiveFailures"] >= 3 or None, 40, 0.5, "3 failures")
    time.sleep(1)
    assert receiver.at("/quiet") == []
    found = decisions(box, "hushed_check")
    assert found and {d["ACTION"] for d in found} == {"silenced"}
    assert "planned work" in found[0]["REASON"]
    listed = json.loads(bamon(box, "silence", "list", "--json"))["silences"]
    assert [(s["tag"], s["reason"]) for s in listed] == [("hushed", "planned work")]
    assert "tag:hushed" in bamon(box, "silence", "list")


def test_a_check_still_failing_at_a_reboot_sends_recovered_after_it(system_host: None, bamon_deb: Path) -> None:
    # The recovery watch (bamon.recover@NAME.path) is started at runtime and gone after a reboot;
    # bamon.rearm.service starts it again at boot for every check with an open episode.
    # The receiver answers 2 s late, so the reboot begins while the notifier waits for it: the
    # notifier must finish and save the episode (it lets SIGTERM wait), or no "recovered" comes.
    receiver = Receiver(delays={"/reboot": 2.0})
    box = Container(persistent=True)
    box.boot()
    try:
        box.install_deb(bamon_deb)
        append_config(box, f"""
            alerts:
              channels:
                - {{name: hook, type: webhook, url: "{receiver.url('/reboot')}"}}
              rules: [{{name: boot, tags: [any]}}]  # not the sample checks (load_average fails on a busy host)
            """)
        box.path("/etc/bamon/scripts.d/boot_check.yaml").write_text(check("boot_check", "any").replace("2s", "1h"))
        bamon(box, "apply")
        [failure] = wait_requests(box, receiver, "/reboot", 1)
        assert failure.body["kind"] == "failure" and failure.body["check"] == "boot_check"
        box.run("touch /etc/bamon/boot_check.ok")  # the first run after the boot succeeds
        box.reboot()
        recovered = wait_requests(box, receiver, "/reboot", 2, timeout=60)[1].body
        assert recovered["kind"] == "recovery" and recovered["dedup_key"] == failure.body["dedup_key"]
        assert box.run("journalctl -b --no-pager -o cat -u bamon.rearm.service | grep -c Finished",
                       check=False).stdout.strip() == "1"
    finally:
        box.shutdown()
        box.discard()
        receiver.close()


def test_user_mode_alerts_and_recovers(box: Container, receiver: Receiver) -> None:
    user = "alice"
    box.run(f"id {user} >/dev/null 2>&1 || useradd -m {user}; loginctl enable-linger {user}")
    box.wait_for(lambda: box.run(f"test -S /run/user/$(id -u {user})/systemd/private", check=False).returncode == 0,
                 30, 0.5, "the user manager")

    def as_user(script: str) -> str:
        return box.run(f"export XDG_RUNTIME_DIR=/run/user/$(id -u); cd; {script}", user=user).stdout

    as_user("bamon --user config reset --yes")
    as_user(f"""cat >> ~/.config/bamon/config.yaml <<'EOT'
alerts:
  channels: [{{name: mine, type: webhook, url: "{receiver.url('/user')}"}}]
EOT""")
    as_user("bamon --user add own_check -c 'test -e ~/ok || { echo down; exit 4; }' -i 2s")
    as_user("bamon --user start")
    [failure] = wait_requests(box, receiver, "/user", 1)
    ev = failure.body["evidence"]
    assert failure.body["check"] == "own_check" and ev["exit_code"] == 4
    assert ev["journalctl"].startswith("journalctl --user --no-pager USER_INVOCATION_ID=")
    as_user("touch ~/ok")
    recovered = wait_requests(box, receiver, "/user", 2, timeout=30)[1].body
    assert recovered["kind"] == "recovery" and recovered["check"] == "own_check"
    uid = box.run(f"id -u {user}").stdout.strip()
    records = box.run(f"journalctl --no-pager -o cat _UID={uid} BAMON_EVENT=alert.decision "
                      "BAMON_CHECK=own_check").stdout
    assert "action=send" in records and "kind=recovery" in records


def test_the_recovery_units_pass_systemd_analyze_verify(box: Container) -> None:
    # templates are verified as an instance of themselves (verify wants a concrete unit)
    box.run("mkdir -p /tmp/verify && cd /lib/systemd/system && "
            "cp bamon.recover@.path /tmp/verify/bamon.recover@probe.path && "
            "cp bamon.recovered@.service /tmp/verify/bamon.recovered@probe.service && "
            "cp bamon.rearm.service /tmp/verify/")
    result = box.run("cd /tmp/verify && systemd-analyze verify --man=no --recursive-errors=yes "
                     "bamon.recover@probe.path bamon.recovered@probe.service bamon.rearm.service", check=False)
    assert result.returncode == 0 and "Unknown" not in result.stderr, result.stderr
    shown = box.run("systemctl show -p Wants --value bamon.target").stdout
    assert "bamon.rearm.service" in shown
