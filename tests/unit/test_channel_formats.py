"""What each channel puts on the wire, and the retry rules of the shared HTTP helper."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from receiver import Receiver, http_reply
from test_channels import ALERT

from bamon.notify.alert import Kind, Outcome
from bamon.notify.channels import SettingsError, build
from bamon.notify.channels.http import retry_after


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(reply=http_reply("200 OK", '{"status": "success"}'))
    yield server
    server.close()


def _body(receiver: Receiver, index: int = -1) -> bytes:
    return receiver.received[index].split(b"\r\n\r\n", 1)[1]


def _headers(receiver: Receiver) -> str:
    return receiver.received[-1].split(b"\r\n\r\n", 1)[0].decode()


def test_webhook_signs_the_exact_body_and_renders_a_template(receiver: Receiver) -> None:
    hook = build("webhook", "h", {"url": f"{receiver.url}/h", "signing_secret": "k3y", "method": "PUT",
                                  "template": '{"text": {{ title | tojson }}, "exit": {{ evidence.exit_code }}}',
                                  "headers": {"X-Team": "ops"}})
    assert hook.send(ALERT).outcome is Outcome.DELIVERED
    body = _body(receiver)
    assert json.loads(body) == {"text": "web FAILED", "exit": 7}
    signature = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert f"X-Bamon-Signature: {signature}" in _headers(receiver)
    assert _headers(receiver).startswith("PUT /h ") and "X-Team: ops" in _headers(receiver)


def test_a_broken_template_is_a_settings_error_or_a_permanent_delivery(receiver: Receiver) -> None:
    with pytest.raises(SettingsError, match="body template"):
        build("webhook", "h", {"url": receiver.url, "template": "{{ title"})
    hook = build("webhook", "h", {"url": receiver.url, "template": "{{ title.__class__.__mro__[1].__subclasses__() }}"})
    delivery = hook.send(ALERT)
    assert delivery.outcome is Outcome.PERMANENT and "template failed: SecurityError" in delivery.detail
    assert receiver.received == []


def test_pagerduty_triggers_then_resolves_with_the_episode_key(receiver: Receiver) -> None:
    pd = build("pagerduty", "pd", {"routing_key": "R0", "url": f"{receiver.url}/v2/enqueue"})
    assert pd.send(ALERT).outcome is Outcome.DELIVERED
    assert pd.send(replace(ALERT, id="a2", kind=Kind.RECOVERY)).outcome is Outcome.DELIVERED
    trigger, resolve = json.loads(_body(receiver, 0)), json.loads(_body(receiver, 1))
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == ALERT.dedup_key
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "box"
    assert trigger["payload"]["custom_details"]["exit_code"] == 7
    assert resolve == {"routing_key": "R0", "dedup_key": ALERT.dedup_key, "event_action": "resolve"}


def test_pagerduty_does_not_take_a_2xx_garbage_answer_as_delivered(receiver: Receiver) -> None:
    receiver.reply = http_reply("200 OK", "<html>captive portal</html>")
    delivery = build("pagerduty", "pd", {"routing_key": "R0", "url": receiver.url, "retries": 0}).send(ALERT)
    assert delivery.outcome is Outcome.TRANSIENT and "malformed reply: the body is not JSON" in delivery.detail


@pytest.mark.parametrize("type_, key", [("slack", "attachments"), ("teams", "attachments"),
                                        ("discord", "embeds")])
def test_chat_layouts_carry_the_evidence(type_: str, key: str, receiver: Receiver) -> None:
    assert build(type_, "c", {"webhook_url": receiver.url}).send(ALERT).outcome is Outcome.DELIVERED
    sent = json.loads(_body(receiver))
    text = json.dumps(sent)
    assert sent[key] and "curl: (7) refused" in text and "journalctl _SYSTEMD_INVOCATION_ID=abc" in text
    assert "Exit code" in text and "critical" in text


def test_ntfy_publishes_json_with_priority_and_token(receiver: Receiver) -> None:
    build("ntfy", "n", {"topic": "ops", "server": receiver.url, "token": "tk_1"}).send(ALERT)
    sent = json.loads(_body(receiver))
    assert sent["topic"] == "ops" and sent["priority"] == 5 and sent["title"] == "web FAILED"
    assert "Authorization: Bearer tk_1" in _headers(receiver)


def test_retries_are_bounded_and_a_long_retry_after_is_left_to_the_outbox(receiver: Receiver) -> None:
    receiver.reply = http_reply("503 Service Unavailable", "busy")
    delivery = build("webhook", "h", {"url": receiver.url, "retries": 1}).send(ALERT)
    assert (delivery.outcome, delivery.attempts, len(receiver.received)) == (Outcome.TRANSIENT, 2, 2)
    receiver.reply = http_reply("429 Too Many Requests", "", {"Retry-After": "120"})
    started = time.monotonic()
    delivery = build("webhook", "h", {"url": receiver.url, "retries": 5}).send(ALERT)
    assert delivery.attempts == 1 and delivery.retry_after == 120 and time.monotonic() - started < 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("30") == 30 and retry_after(None) is None and retry_after("soon") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 55 < (retry_after(later) or 0) <= 60


def test_a_non_http_url_is_permanent(receiver: Receiver) -> None:
    delivery = build("webhook", "h", {"url": "ftp://example.com/x", "retries": 0}).send(ALERT)
    assert delivery.outcome is Outcome.PERMANENT and "ftp" not in delivery.detail
