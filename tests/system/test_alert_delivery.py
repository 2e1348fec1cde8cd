"""Alert delivery under the real systemd: `bamon alert test` to a local HTTP receiver and a local
SMTP server on the host (the container shares the host's network), secrets that never show, and
the outbox keeping an alert through a receiver outage and a reboot.

Ports 18650-18699 (the unit tier's receiver uses 18600-18649, the rule-side tests 18500-18599).
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_receiver import Receiver, free_port
from nspawn import Container
from support import bamon

PORTS = range(18650, 18700)
TOKEN = "T0p-s3cret-a1b2c3d4"
SAMPLES = ("disk_root", "memory_available", "load_average")  # the checks the package ships


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver(PORTS)
    yield server
    server.close()


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[list[Any], int]]:
    from aiosmtpd.controller import Controller  # python3-aiosmtpd, on the host

    inbox: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            inbox.append(envelope)
            return "250 2.0.0 Ok: queued as TEST42"

    port = free_port(PORTS)
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def channels(receiver: Receiver, smtp_port: int) -> str:
    return textwrap.dedent(f"""
        alerts:
          channels:
            - {{name: hook, type: webhook, url: "{receiver.url('/hook')}"}}
            - {{name: mail, type: email, smtp_server: 127.0.0.1, port: {smtp_port}, security: none,
                from: bamon@example.com, to: [ops@example.com, oncall@example.com]}}
            - {{name: secret_hook, type: webhook, url: "${{secret:hook_url}}"}}
        """)


@pytest.fixture(scope="module")
def box(system_host: None, bamon_deb: Path, receiver: Receiver, smtp: tuple[list[Any], int]) -> Iterator[Container]:
    container = Container()
    container.boot()
    try:
        container.install_deb(bamon_deb)
        for sample in SAMPLES:  # on a loaded host load_average fails, and would alert here too
            bamon(container, "remove", "-f", sample)
        # the value goes in on stdin: never on a command line
        container.run(["bamon", "secret", "set", "hook_url"], input=receiver.url(f"/s/{TOKEN}") + "\n")
        config = container.path("/etc/bamon/config.yaml")
        config.write_text(config.read_text() + channels(receiver, smtp[1]))
        validate = container.run(["bamon", "config", "validate"], check=False)
        assert validate.returncode == 0, validate.stdout + validate.stderr
        yield container
    finally:
        container.shutdown()


def test_alert_test_prints_what_the_http_receiver_answered(box: Container, receiver: Receiver) -> None:
    out = bamon(box, "alert", "test", "hook")
    assert out.splitlines() == ["hook (webhook): delivered after 1 attempt",
                                '  answer: HTTP 202 Accepted: {"status": "success", "message": "Event processed"}']
    (request,) = receiver.at("/hook")
    assert request.body["kind"] == "test" and request.body["host"] == "bamon-test"
    record = json.loads(box.run(["journalctl", "-o", "json", "--no-pager", "BAMON_EVENT=alert.delivery",
                                 "CHANNEL=hook"]).stdout.splitlines()[-1])
    assert record["OUTCOME"] == "delivered" and record["ALERT_ID"] == request.body["id"]


def test_alert_test_prints_what_the_smtp_server_answered(box: Container, smtp: tuple[list[Any], int]) -> None:
    inbox, _ = smtp
    out = bamon(box, "alert", "test", "mail")
    assert out.splitlines() == ["mail (email): delivered after 1 attempt",
                                "  answer: 250 2.0.0 Ok: queued as TEST42"]
    (mail,) = inbox
    assert mail.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    assert b"Subject: bamon test alert from bamon-test to mail" in mail.content


def test_a_secret_webhook_url_reaches_the_notifier_and_nowhere_else(box: Container, receiver: Receiver) -> None:
    # stored encrypted, handed to the units as a credential
    cred = box.path("/etc/bamon/credentials/hook_url.cred")
    assert TOKEN.encode() not in cred.read_bytes() and (cred.stat().st_mode & 0o777) == 0o600
    assert bamon(box, "secret", "list").split() == ["hook_url"]
    dropin = box.run("systemctl cat bamon.notify@.service bamon.outbox.service").stdout
    assert "LoadCredentialEncrypted=hook_url:/etc/bamon/credentials/hook_url.cred" in dropin
    # a real failure: the notifier (a systemd service) decrypts it via $CREDENTIALS_DIRECTORY
    box.path("/etc/bamon/scripts.d/leaky.yaml").write_text("name: leaky\ncommand: 'exit 4'\ninterval: 2s\n")
    bamon(box, "apply")
    try:
        box.wait_for(lambda: receiver.at(f"/s/{TOKEN}") or None, 40, 0.3, "the alert at the secret URL")
    except TimeoutError as exc:
        log = box.run("journalctl --no-pager -o short-precise -u 'bamon.notify@bamon-leaky.service' "
                      "-u 'bamon.outbox.*' | grep -v -e Starting -e Deactivated -e Finished | tail -25",
                      check=False).stdout
        raise AssertionError(f"{exc}; received {[r.path for r in receiver.requests]}\n{log}") from None
    assert receiver.at(f"/s/{TOKEN}")[0].body["check"] == "leaky"
    # bamon alert test, run by root outside the unit, decrypts with systemd-creds
    assert "delivered" in bamon(box, "alert", "test", "secret_hook")
    bamon(box, "remove", "-f", "leaky")
    # …and it shows nowhere
    places = {
        # every field of every entry, binary ones included (grep -a), counted inside the container
        "journal": TOKEN if box.run(f"journalctl --no-pager -o export | grep -ac -- {TOKEN}",
                                    check=False).stdout.strip() != "0" else "",
        "config show": bamon(box, "config", "show"),
        "systemctl cat": box.run("systemctl cat 'bamon*' 'bamon.notify@leaky.service'", check=False).stdout,
        "ps": box.run("ps -eo args").stdout,
        "bamon alerts": bamon(box, "alerts", "--json"),
        "unit files": box.run("grep -rl -- " + TOKEN + " /etc/systemd /run/systemd /lib/systemd || true").stdout,
    }
    assert {where for where, text in places.items() if TOKEN in text} == set()
    # the journal search does find what is there: the channel's name is in its delivery records
    assert box.run("journalctl --no-pager -o export | grep -ac -- secret_hook").stdout.strip() != "0"
    # removing it regenerates the drop-in and validation names the channel that still uses it
    bamon(box, "secret", "remove", "hook_url")
    assert "hook_url" not in box.run("systemctl cat bamon.notify@.service").stdout
    problem = box.run(["bamon", "config", "validate"], check=False)
    assert problem.returncode == 1 and "secret 'hook_url' does not exist" in problem.stdout + problem.stderr
    box.run(["bamon", "secret", "set", "hook_url"], input=receiver.url(f"/s/{TOKEN}"))



def test_the_outbox_units_and_the_secret_dropins_pass_systemd_analyze_verify(box: Container) -> None:
    units = ["/lib/systemd/system/bamon.outbox.path", "/lib/systemd/system/bamon.outbox.service",
             "/lib/systemd/system/bamon.outbox.timer"]
    result = box.run(["systemd-analyze", "verify", "--man=no", "--recursive-errors=yes", *units], check=False)
    assert result.returncode == 0 and "Unknown" not in result.stderr, result.stderr
    # the drop-ins as systemd reads them (with the template and the service they extend)
    shown = box.run("systemctl show -p LoadState,DropInPaths bamon.outbox.service").stdout
    assert "LoadState=loaded" in shown and "bamon-secrets.conf" in shown
    assert box.run("systemctl is-active bamon.outbox.path").stdout.strip() == "active"
    # the path unit created the outbox, and left its parents traversable for checks run as `bamon`
    assert box.run("stat -c %a /var/lib/bamon /var/lib/bamon/outbox/new").stdout.split() == ["755", "755"]


# --- the outbox: a receiver outage, and a reboot in the middle of it -----------------------------

def outbox(box: Container, check: str = "flaky") -> list[dict[str, Any]]:
    # only this test's check: a sample check of the package may fail on a loaded host too
    waiting: list[dict[str, Any]] = json.loads(bamon(box, "alerts", "--json"))["outbox"]
    return [w for w in waiting if w["check"] == check]


def test_an_alert_waits_in_the_outbox_across_a_reboot_and_arrives_when_the_receiver_is_back(
        system_host: None, bamon_deb: Path) -> None:
    port = free_port(PORTS)
    box = Container(persistent=True)
    box.boot()
    try:
        box.install_deb(bamon_deb)
        for sample in SAMPLES:  # only flaky may alert here
            bamon(box, "remove", "-f", sample)
        config = box.path("/etc/bamon/config.yaml")
        config.write_text(config.read_text() + textwrap.dedent(f"""
            alerts:
              channels:
                - {{name: later, type: webhook, url: "http://127.0.0.1:{port}/later", retries: 0, timeout: 2}}
            """))
        box.path("/etc/bamon/scripts.d/flaky.yaml").write_text("name: flaky\ncommand: 'exit 2'\ninterval: 1h\n")
        bamon(box, "apply")
        # nobody listens: the alert is spooled and the path unit's drain moves it to wait/
        waiting = box.wait_for(lambda: outbox(box) or None, 40, 0.5, "the alert in the outbox")
        assert [(w["check"], w["channel"]) for w in waiting] == [("flaky", "later")]
        assert "connection refused" in waiting[0]["last_answer"]
        human = bamon(box, "alerts")
        assert "waiting" in human and re.search(r"flaky\s+failure\s+later\s+transient", human)
        box.wait_for(lambda: box.run("ls /var/lib/bamon/outbox/wait", check=False).stdout.strip() or None,
                     30, 0.5, "the drain to park it in wait/")
        assert box.run("systemctl is-active bamon.outbox.service", check=False).stdout.strip() == "inactive"

        box.reboot()
        assert [w["alert"] for w in outbox(box)] == [w["alert"] for w in waiting]
        receiver = Receiver(range(port, port + 1))
        try:
            # bamon.outbox.timer fires 15 s after boot; the first retry is due 15 s after spooling
            def flaky_alerts() -> list[Any]:
                return [r for r in receiver.at("/later") if r.body["check"] == "flaky"]
            box.wait_for(lambda: flaky_alerts() or None, 90, 0.5, "the alert after the outage")
            (request,) = flaky_alerts()
            assert request.body["check"] == "flaky" and request.body["kind"] == "failure"
            box.wait_for(lambda: outbox(box) == [] or None, 20, 0.5, "an empty outbox")
        finally:
            receiver.close()
        report = json.loads(bamon(box, "alerts", "--json"))["alerts"]
        (later,) = [c for a in report if a["check"] == "flaky" for c in a["channels"] if c["channel"] == "later"]
        assert later["outcome"] == "delivered" and later["via"] == "outbox" and later["attempts"] >= 2
        # an empty outbox: the service is skipped by its condition, nothing stays resident
        time.sleep(1)
        assert box.run("pgrep -f bamon-outbox", check=False).returncode == 1
    finally:
        box.shutdown()
        box.discard()
