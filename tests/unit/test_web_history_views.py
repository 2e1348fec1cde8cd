"""The dashboard's history views through the API: alert delivery history (/api/v1/deliveries,
per check too) folded from the notifier's journald records, and a check's success rate per
time bucket (/api/v1/scripts/{id}/success-rate). The journal is replaced at its read seam."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_runs import entries_of, record
from web_support import FeedSource, cheap_hasher, make_app

from bamon.journal import Journal
from bamon.notify import ledger
from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.deliver import record as record_delivery
from bamon.notify.drain import drain
from bamon.notify.outbox import Outbox
from bamon.paths import Paths
from bamon.web import auth as auth_mod
from bamon.web.api_history import WINDOWS
from bamon.web.events import to_event

CONFIG = """\
scripts:
  - {name: web, command: 'curl -f http://localhost/', interval: 60}
  - {name: disk, command: 'df -h /', interval: 60}
"""


class Recorded:
    """What the notifier and the outbox drain write (a Journal sink), read back as journalctl
    would give it: each entry with its __REALTIME_TIMESTAMP, FIELD=value matches applied."""

    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []
        self.clock = 1_800_000_000.0
        self.asked: list[dict[str, Any]] = []

    def sink(self, **fields: str) -> None:
        self.clock += 1
        self.entries.append({**fields, "__REALTIME_TIMESTAMP": str(int(self.clock * 1e6))})

    def read(self, matches: Sequence[str], **options: Any) -> list[dict[str, str]]:
        self.asked.append({"matches": list(matches), **options})
        by_field: dict[str, set[str]] = {}
        for match in matches:
            name, _, value = match.partition("=")
            by_field.setdefault(name, set()).add(value)
        found = [e for e in self.entries if all(e.get(k) in values for k, values in by_field.items())]
        return found[-options["lines"]:] if options.get("lines") else found


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    journal = Recorded()
    monkeypatch.setattr(Journal, "entries", lambda self, matches, **options: journal.read(matches, **options))
    return journal


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    (tmp_path / "config.yaml").write_text(CONFIG)
    monkeypatch.setattr(Paths, "generator_installed", lambda self: True)
    monkeypatch.setattr(auth_mod, "_hasher", cheap_hasher)
    app, tokens = make_app(tmp_path, FeedSource())
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {tokens['viewer']}"
        yield client


def alert(check: str, rule: str = "page-ops") -> Alert:
    return Alert(id=f"id-{check}-{time.monotonic_ns()}", kind=Kind.FAILURE, check=check, host="h", status="FAILED",
                 severity="critical", title="t", body="b", dedup_key="d", created=0.0, rule=rule)


def notify(journal: Journal, sent: Alert, *answers: tuple[str, Outcome, str]) -> None:
    """What deliver() records for one alert: one record per channel, transient ones spooled."""
    for channel, outcome, detail in answers:
        spooled = "outbox" if outcome is Outcome.TRANSIENT else None
        record_delivery(journal, sent, Delivery(channel, outcome, detail, attempts=2 if spooled else 1),
                        spooled=spooled)


def test_delivered_failed_queued_and_retried(api: Any, recorded: Recorded, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(sink=recorded.sink)
    first, second = alert("web"), alert("disk", rule="")
    notify(journal, first, ("hook", Outcome.DELIVERED, "HTTP 202 Accepted"),
           ("reject", Outcome.PERMANENT, "HTTP 410 Gone"), ("down", Outcome.TRANSIENT, "connection refused"))
    # the outbox drain (the real one, with its real outbox) retries "down": refused again, then accepted
    outbox = Outbox(tmp_path / "outbox")
    outbox.spool(first, Delivery("down", Outcome.TRANSIENT, "connection refused"), now=0.0)
    answers = iter([Delivery("down", Outcome.TRANSIENT, "connection refused"),
                    Delivery("down", Outcome.DELIVERED, "HTTP 200 OK")])
    monkeypatch.setattr("bamon.notify.drain.send_one", lambda a, spec, resolver: next(answers))
    specs: dict[str, Any] = {"down": object()}
    assert drain(outbox, specs, None, journal, now=100.0).waiting == 1  # type: ignore[arg-type]
    notify(journal, second, ("hook", Outcome.DELIVERED, "HTTP 202 Accepted"))
    page = api.get("/api/v1/deliveries").json()
    assert page["total"] == 4
    rows = {(d["check"], d["channel"]): d for d in page["items"]}
    assert page["items"][0]["check"] == "disk"  # newest first
    assert rows["web", "hook"]["outcome"] == "delivered" and rows["web", "hook"]["rule"] == "page-ops"
    assert rows["web", "hook"]["severity"] == "critical" and rows["web", "hook"]["kind"] == "failure"
    assert rows["web", "reject"]["outcome"] == "failed" and rows["web", "reject"]["detail"] == "HTTP 410 Gone"
    down = rows["web", "down"]
    assert (down["outcome"], down["retries"], down["attempts"], down["via"]) == ("queued", 1, 3, "outbox")
    assert down["nextTry"] is not None
    assert [s["event"] for s in down["steps"]] == ["transient", "transient", "retry"]
    # the retry is due: the drain delivers it, and the history says so
    assert drain(outbox, specs, None, journal, now=10_000.0).delivered == 1  # type: ignore[arg-type]
    down = next(d for d in api.get("/api/v1/scripts/web/deliveries").json()["items"] if d["channel"] == "down")
    assert (down["outcome"], down["retries"], down["nextTry"]) == ("delivered", 2, None)
    assert api.get("/api/v1/deliveries?outcome=failed").json()["items"][0]["channel"] == "reject"
    # one check's: asked of journald by its field, not filtered afterwards
    assert {d["check"] for d in api.get("/api/v1/scripts/disk/deliveries").json()["items"]} == {"disk"}
    assert "BAMON_CHECK=disk" in recorded.asked[-1]["matches"]
    assert rows["disk", "hook"]["rule"] == ""


def test_an_expired_alert_is_failed_and_says_why(recorded: Recorded) -> None:
    journal = Journal(sink=recorded.sink)
    sent = alert("web")
    notify(journal, sent, ("down", Outcome.TRANSIENT, "timeout"))
    journal.send("alert.outbox", BAMON_EVENT="alert.outbox", ALERT_ID=sent.id, BAMON_CHECK="web", CHANNEL="down",
                 ACTION="expired", DETAIL="undelivered after 86400 s; last answer: timeout")
    (one,) = ledger.fold(recorded.entries)
    assert (one.outcome, one.answer) == ("failed", "expired")
    assert one.detail == "undelivered after 86400 s; last answer: timeout"


def test_bad_queries_are_400_and_unknown_checks_404(api: Any, recorded: Recorded) -> None:
    for query in ("outcome=lost", "since=banana", "limit=0"):
        response = api.get(f"/api/v1/deliveries?{query}")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_query", query
    assert api.get("/api/v1/scripts/nope/deliveries").status_code == 404
    assert api.get("/api/v1/scripts/nope/success-rate").status_code == 404
    bad = api.get("/api/v1/scripts/web/success-rate?window=2y")
    assert bad.status_code == 400 and "1h, 24h, 7d, 30d" in bad.json()["error"]["message"]


def test_since_goes_to_journalctl_as_a_moment(api: Any, recorded: Recorded) -> None:
    api.get("/api/v1/deliveries?since=2h")
    since = recorded.asked[-1]["since"]
    assert since.startswith("@") and abs(float(since[1:]) - (time.time() - 7200)) < 5


def test_success_rate_per_bucket(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    two_hours_ago = int(now // 3600) * 3600 - 7200  # the start of an hour that is wholly past
    # 3 runs in that hour (1 failed), 2 in the next (both OK), and one more than 24 h ago
    starts = [two_hours_ago + 100, two_hours_ago + 200, two_hours_ago + 300, two_hours_ago + 3700,
              two_hours_ago + 3800, now - 90_000]
    results = ["success", "exit-code", "success", "success", "success", "exit-code"]
    runs = [(record(f"i{i}", result, 0 if result == "success" else 1, at=start), ["out"], None)
            for i, (start, result) in enumerate(zip(starts, results, strict=True))]
    asked: list[Any] = []

    def scan(self: Journal, groups: Any, fields: Any, since_us: int | None = None, **kw: Any) -> list[dict[str, Any]]:
        asked.append(since_us)
        return entries_of("web", runs)
    monkeypatch.setattr(Journal, "scan", scan)
    monkeypatch.setattr(Journal, "_reader", lambda self: None)  # as without python-systemd
    body = api.get("/api/v1/scripts/web/success-rate?window=24h").json()
    assert asked and abs(asked[-1] / 1e6 - (now - 86400)) < 5  # read from 24 h back
    assert (body["bucket"], body["bucketSeconds"], body["window"]) == ("hour", 3600, "24h")
    assert [(b["runs"], b["successRate"]) for b in body["buckets"]] == [(3, 0.6667), (2, 1.0)]
    assert body["buckets"][0]["start"] == time.strftime("%Y-%m-%dT%H:00Z", time.gmtime(two_hours_ago))
    assert body["runs"] == 5 and body["successRate"] == 0.8
    minute = api.get("/api/v1/scripts/web/success-rate?window=1h").json()
    assert minute["bucket"] == "minute" and minute["bucketSeconds"] == 60


def test_live_feed_says_when_a_delivery_lands() -> None:
    event = to_event({"BAMON_EVENT": "alert.delivery", "BAMON_CHECK": "web", "CHANNEL": "hook", "OUTCOME": "delivered",
                      "MESSAGE": "alert.delivery channel=hook", "SYSLOG_IDENTIFIER": "bamon-notify"})
    assert event == {"type": "delivery", "check": "web", "channel": "hook", "answer": "delivered",
                     "message": "alert.delivery channel=hook"}


def test_the_openapi_document_offers_what_the_routes_accept(api: Any) -> None:
    paths = api.get("/api/v1/openapi.json").json()["paths"]

    def enum(path: str, name: str) -> list[str]:
        (found,) = [p["schema"]["enum"] for p in paths[path]["get"]["parameters"] if p["name"] == name]
        return list(found)
    assert enum("/api/v1/scripts/{id}/success-rate", "window") == list(WINDOWS)
    assert enum("/api/v1/deliveries", "outcome") == enum("/api/v1/scripts/{id}/deliveries", "outcome") \
        == list(ledger.OUTCOMES)
