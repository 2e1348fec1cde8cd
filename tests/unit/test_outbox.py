"""The outbox: spooled atomically, drained with backoff, delivered once the receiver is back,
given up (and recorded) on expiry or when its channel is gone."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import JournalSink
from receiver import Receiver, closed_port, http_reply
from test_channels import ALERT

from bamon.config.channels import ChannelSpec
from bamon.journal import Journal
from bamon.notify.alert import Delivery, Outcome
from bamon.notify.drain import drain
from bamon.notify.outbox import FIRST_RETRY, Outbox, backoff
from bamon.paths import Paths
from bamon.secrets import Resolver

T0 = 1_700_000_000.0


def _paths(tmp_path: Path) -> Paths:
    return Paths(user_mode=True, config_file=tmp_path / "c.yaml", scripts_dir=tmp_path / "s",
                 state_dir=tmp_path / "state", check_state_dirs=(tmp_path / "state" / "checks",),
                 unit_dir=tmp_path / "u", config_overridden=False)


def _events(sink: JournalSink, event: str) -> list[dict[str, str]]:
    return [e for e in sink.entries if e["BAMON_EVENT"] == event]


def test_backoff_doubles_and_honours_retry_after() -> None:
    assert [backoff(n, None) for n in (1, 2, 3)] == [FIRST_RETRY, 2 * FIRST_RETRY, 4 * FIRST_RETRY]
    assert backoff(1, 120) == 120 and backoff(30, None) == 3600


def test_an_alert_waits_while_the_receiver_is_down_and_arrives_when_it_is_back(tmp_path: Path,
                                                                              sink: JournalSink) -> None:
    paths, journal = _paths(tmp_path), Journal(sink=sink)
    outbox = Outbox(paths.outbox_dir)
    port = closed_port()
    spec = ChannelSpec("hook", "webhook", {"url": f"http://127.0.0.1:{port}/x", "timeout": 0.5, "retries": 0})
    outbox.spool(ALERT, Delivery("hook", Outcome.TRANSIENT, "connection refused"), now=T0)
    (item,) = [i for _, i in outbox.items()]
    assert (paths.outbox_dir / "new" / "a1.hook.json").is_file() and item.due == T0 + FIRST_RETRY
    assert (paths.outbox_dir / "new" / "a1.hook.json").stat().st_mode & 0o777 == 0o600
    resolver = Resolver(paths, environ={})

    # not due yet: parked in wait/ untouched, so the path unit (watching new/) does not fire again
    summary = drain(outbox, {"hook": spec}, resolver, journal, now=T0 + 1)
    assert summary.waiting == 1 and not list((paths.outbox_dir / "new").iterdir())
    # due, receiver still down: retried, rescheduled with a longer backoff
    summary = drain(outbox, {"hook": spec}, resolver, journal, now=T0 + FIRST_RETRY)
    (_, item), = outbox.items()
    assert summary.waiting == 1 and item.attempts == 2 and item.due == T0 + 3 * FIRST_RETRY
    assert _events(sink, "alert.outbox")[-1]["ACTION"] == "retry"
    # back: delivered, outbox empty, the delivery recorded as coming from the outbox
    receiver = Receiver(reply=http_reply("200 OK", "thanks"))
    try:
        spec = ChannelSpec("hook", "webhook", {"url": f"{receiver.url}/x", "timeout": 0.5, "retries": 0})
        summary = drain(outbox, {"hook": spec}, resolver, journal, now=T0 + 3 * FIRST_RETRY)
        assert summary.delivered == 1 and outbox.items() == []
        assert json.loads(receiver.received[0].split(b"\r\n\r\n", 1)[1])["id"] == "a1"
    finally:
        receiver.close()
    last = _events(sink, "alert.delivery")[-1]
    assert (last["OUTCOME"], last["SOURCE"], last["ALERT_ID"]) == ("delivered", "outbox", "a1")


def test_expiry_and_a_removed_channel_are_given_up_and_recorded(tmp_path: Path, sink: JournalSink) -> None:
    paths = _paths(tmp_path)
    outbox = Outbox(paths.outbox_dir)
    outbox.spool(ALERT, Delivery("hook", Outcome.TRANSIENT, "HTTP 503"), now=T0)
    outbox.spool(ALERT, Delivery("gone", Outcome.TRANSIENT, "HTTP 503"), now=T0)
    spec = ChannelSpec("hook", "webhook", {"url": "http://127.0.0.1:9/x"})
    summary = drain(outbox, {"hook": spec}, Resolver(paths, environ={}), Journal(sink=sink),
                    now=T0 + 2 * 86400)
    assert summary.given_up == 2 and outbox.items() == []
    actions = {(e["CHANNEL"], e["ACTION"]): e["DETAIL"] for e in _events(sink, "alert.outbox")}
    assert actions[("hook", "expired")].startswith("undelivered after 172800 s; last answer: HTTP 503")
    assert actions[("gone", "dropped")] == "the channel is no longer configured"


def test_an_unreadable_item_does_not_stop_the_drain(tmp_path: Path, sink: JournalSink) -> None:
    paths = _paths(tmp_path)
    outbox = Outbox(paths.outbox_dir)
    outbox.new.mkdir(parents=True)
    (outbox.new / "broken.json").write_text("{not json")
    outbox.spool(ALERT, Delivery("hook", Outcome.TRANSIENT, "x"), now=T0)
    assert [i.channel for _, i in outbox.items()] == ["hook"]
    assert not (outbox.new / "broken.json").exists() and (outbox.broken / "broken.json").is_file()
