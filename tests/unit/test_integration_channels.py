"""Integration channels (Alertmanager, cloud monitors, ticketing) against the local receiver:
the method, path, headers, authentication and body shape each vendor documents.
The shared error replay (refused, timeout, 4xx, 5xx, 429) is in test_channels.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from receiver import Receiver, http_reply
from test_channels import ALERT

from bamon.notify.alert import Kind, Outcome
from bamon.notify.channels import SettingsError, build


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def seen(receiver: Receiver, index: int = -1) -> Seen:
    head, _, body = receiver.received[index].partition(b"\r\n\r\n")
    first, *lines = head.decode().split("\r\n")
    method, path, _ = first.split(" ", 2)
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return Seen(method, path, headers, json.loads(body) if body else None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.reply = http_reply("200 OK", "")
    yield server
    server.close()


def test_alertmanager_posts_labels_then_ends_the_alert_on_recovery(receiver: Receiver) -> None:
    channel = build("alertmanager", "am", {"url": receiver.url, "labels": {"team": "ops"},
                                           "headers": {"Authorization": "Bearer t0k"}, "retries": 0})
    tagged = replace(ALERT, evidence={**ALERT.evidence, "tags": ["web", "prod"], "episode_start": 1699999990.0})
    assert channel.send(tagged).outcome is Outcome.DELIVERED
    fired = seen(receiver)
    assert (fired.method, fired.path) == ("POST", "/api/v2/alerts")
    assert fired.headers["content-type"] == "application/json" and fired.headers["authorization"] == "Bearer t0k"
    [alert] = fired.body
    assert alert["labels"] == {"alertname": "BamonCheckFailed", "check": "web", "host": "box", "instance": "box",
                               "severity": "critical", "source": "bamon", "tags": "web,prod", "team": "ops"}
    assert alert["startsAt"] == "2023-11-14T22:13:10Z" and alert["endsAt"] > "2023-11-21"  # held a week
    assert alert["annotations"]["summary"] == "web FAILED" and "journalctl" in alert["annotations"]
    recovery = replace(tagged, kind=Kind.RECOVERY, status="OK", created=ALERT.created + 60)
    assert channel.send(recovery).outcome is Outcome.DELIVERED
    [ended] = seen(receiver).body
    assert ended["labels"] == alert["labels"]  # the same alert, so Alertmanager resolves it
    assert ended["endsAt"] == "2023-11-14T22:14:20Z"  # now: Alertmanager resolves it


def test_alertmanager_refuses_label_names_prometheus_cannot_carry() -> None:
    with pytest.raises(SettingsError, match="label names"):
        build("alertmanager", "am", {"url": "http://am", "labels": {"bad-name": "x"}})
