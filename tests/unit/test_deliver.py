"""deliver(): every channel tried, one journald record each, transient ones spooled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import JournalSink
from receiver import Receiver, closed_port, http_reply
from test_channels import ALERT

from bamon.config.channels import ChannelSpec
from bamon.journal import Journal
from bamon.notify.alert import Outcome
from bamon.notify.deliver import deliver
from bamon.paths import Paths
from bamon.secrets import Resolver

FAST = {"timeout": 0.5, "retries": 0}


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(user_mode=True, config_file=tmp_path / "config.yaml", scripts_dir=tmp_path / "scripts.d",
                 state_dir=tmp_path / "state", check_state_dirs=(tmp_path / "state" / "checks",),
                 unit_dir=tmp_path / "units", config_overridden=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(reply=http_reply("200 OK", "thanks"))
    yield server
    server.close()


def test_a_broken_channel_never_stops_the_others(paths: Paths, receiver: Receiver, sink: JournalSink) -> None:
    hanging = Receiver(mode="hang")  # accepts and never answers: bounded by the channel's timeout
    specs = [
        ChannelSpec("down", "webhook", {"url": f"http://127.0.0.1:{closed_port()}/x", **FAST}),
        ChannelSpec("stuck", "webhook", {"url": f"{hanging.url}/x", **FAST}),
        ChannelSpec("nosecret", "webhook", {"url": "${secret:missing_hook}", **FAST}),
        ChannelSpec("bogus", "carrier-pigeon", {}),
        ChannelSpec("up", "webhook", {"url": f"{receiver.url}/hook", **FAST}),
    ]
    try:
        got = deliver(ALERT, specs, paths=paths, journal=Journal(sink=sink),
                      resolver=lambda p: Resolver(p, environ={}))
    finally:
        hanging.close()
    assert [(d.channel, d.outcome) for d in got] == [
        ("down", Outcome.TRANSIENT), ("stuck", Outcome.TRANSIENT), ("nosecret", Outcome.PERMANENT),
        ("bogus", Outcome.PERMANENT), ("up", Outcome.DELIVERED)]
    assert "timeout" in got[1].detail and "secret 'missing_hook' is not stored" in got[2].detail
    assert json.loads(receiver.received[0].split(b"\r\n\r\n", 1)[1])["id"] == ALERT.id
    records = [e for e in sink.entries if e["BAMON_EVENT"] == "alert.delivery"]
    assert [(r["CHANNEL"], r["OUTCOME"], r["ALERT_ID"], r["BAMON_CHECK"]) for r in records] == [
        ("down", "transient", "a1", "web"), ("stuck", "transient", "a1", "web"),
        ("nosecret", "permanent", "a1", "web"), ("bogus", "permanent", "a1", "web"), ("up", "delivered", "a1", "web")]
    assert records[0]["SPOOLED"] == records[1]["SPOOLED"] == "outbox" and "SPOOLED" not in records[4]
    assert not any("SPOOLED" in r for r in records[2:4])  # permanent: reported once, never retried
    spooled = list((paths.outbox_dir / "new").glob("*.json"))
    assert sorted(p.name for p in spooled) == ["a1.down.json", "a1.stuck.json"]


def test_a_secret_is_resolved_at_send_time_and_never_recorded(paths: Paths, receiver: Receiver,
                                                               sink: JournalSink) -> None:
    paths.credentials_dir.mkdir(parents=True)
    (paths.credentials_dir / "hook_token").write_text("s3cr3t-token\n")
    specs = [ChannelSpec("up", "webhook", {"url": f"{receiver.url}/hook/${{secret:hook_token}}",
                                           "headers": {"X-Env": "${env:HOOK_ENV}"}, **FAST})]
    (got,) = deliver(ALERT, specs, paths=paths, journal=Journal(sink=sink),
                     resolver=lambda p: Resolver(p, environ={"HOOK_ENV": "from-env"}))
    assert got.outcome is Outcome.DELIVERED
    assert receiver.received[0].startswith(b"POST /hook/s3cr3t-token ")
    assert b"X-Env: from-env" in receiver.received[0]
    assert "s3cr3t" not in repr(sink.entries)
