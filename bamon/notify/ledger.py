"""Alert delivery history, read back from the notifier's own journald records.

Every channel's answer to every alert is one `alert.delivery` record (deliver.py) and every
outbox step one `alert.outbox` record (drain.py): the journal is the history, bamon keeps no
copy. This folds those records into one entry per (alert, channel) — where that delivery
stands now and how it got there — for `bamon alerts` and the web API.

Plain data in and out, and no structlog or channel code: every CLI command imports this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bamon.journal import Journal
from bamon.journal import field as entry_field

EVENTS = ("alert.delivery", "alert.outbox")
MATCHES = tuple(f"BAMON_EVENT={event}" for event in EVENTS)  # the same field twice: either event
# what journalctl needs to print (-o json --output-fields): far less than the whole record
# (journalctl prints __REALTIME_TIMESTAMP always)
FIELDS = ("BAMON_EVENT", "ALERT_ID", "BAMON_CHECK", "KIND", "RULE", "SEVERITY", "CHANNEL",
          "OUTCOME", "DETAIL", "ATTEMPTS", "SOURCE", "ACTION", "DUE")

# The latest answer of a channel → where the delivery stands. A transient answer means the alert
# waits in the outbox (deliver.py spools every one; the drain retries it until it expires).
STANDING = {"delivered": "delivered", "transient": "queued", "permanent": "failed",
            "expired": "failed", "dropped": "failed"}
OUTCOMES = ("delivered", "failed", "queued")
GIVEN_UP = ("expired", "dropped")  # alert.outbox actions that end a delivery


@dataclass
class ChannelDelivery:
    """One alert to one channel: every record about it, folded."""

    alert: str
    check: str
    channel: str
    first: float  # UNIX time of its first record
    kind: str = ""
    rule: str = ""
    severity: str = ""
    answer: str = ""  # the last answer: delivered | transient | permanent | expired | dropped
    detail: str = ""  # what the receiver said, in one line
    attempts: int = 0  # sends, counting the channel's own quick retries
    retries: int = 0  # sends from the outbox, after the notifier's
    via: str = "notifier"  # who sent last: the notifier or the outbox drain
    updated: float = 0.0
    next_try: float | None = None  # while it waits in the outbox, when the drain tries again
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """delivered | failed | queued (waiting in the outbox)."""
        return STANDING.get(self.answer, "queued")

    def as_json(self) -> dict[str, Any]:
        return {"alert": self.alert, "check": self.check, "kind": self.kind, "rule": self.rule,
                "severity": self.severity, "channel": self.channel, "time": iso(self.first),
                "updated": iso(self.updated or self.first), "outcome": self.outcome, "answer": self.answer,
                "detail": self.detail, "attempts": self.attempts, "retries": self.retries, "via": self.via,
                "nextTry": None if self.next_try is None else iso(self.next_try), "steps": self.steps}


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def fold(entries: Iterable[dict[str, Any]]) -> list[ChannelDelivery]:
    """Journal entries (oldest first) → one ChannelDelivery per (alert, channel), in order of
    their first record. Entries without an alert id are not about a delivery and are skipped."""
    found: dict[tuple[str, str], ChannelDelivery] = {}
    for entry in entries:
        alert, channel = entry_field(entry, "ALERT_ID"), entry_field(entry, "CHANNEL")
        if not alert:
            continue
        stamp = entry_field(entry, "__REALTIME_TIMESTAMP")
        when = int(stamp) / 1e6 if stamp.isdigit() else 0.0
        one = found.setdefault((alert, channel), ChannelDelivery(alert, entry_field(entry, "BAMON_CHECK"), channel,
                                                                 when))
        one.kind = one.kind or entry_field(entry, "KIND")
        one.rule = one.rule or entry_field(entry, "RULE")
        one.severity = one.severity or entry_field(entry, "SEVERITY")
        detail = entry_field(entry, "DETAIL")
        if entry_field(entry, "BAMON_EVENT") == "alert.delivery":
            one.via = entry_field(entry, "SOURCE") or "notifier"
            one.retries += one.via == "outbox"
            one.attempts += _number(entry_field(entry, "ATTEMPTS"))
            one.answer, one.detail, one.updated, one.next_try = entry_field(entry, "OUTCOME"), detail, when, None
            one.steps.append({"time": iso(when), "event": one.answer, "via": one.via, "detail": detail})
            continue
        action = entry_field(entry, "ACTION")
        if action in GIVEN_UP:
            one.answer, one.detail, one.updated, one.next_try = action, detail, when, None
        elif action == "retry" and entry_field(entry, "DUE").isdigit():
            one.next_try = float(entry_field(entry, "DUE"))
        one.steps.append({"time": iso(when), "event": action, "via": "outbox", "detail": detail})
    return list(found.values())


def read(journal: Journal, check: str | None = None, *, since: str | None = None, records: int = 5000,
         ) -> list[ChannelDelivery]:
    """The deliveries among the last `records` delivery records (of one check, when given).

    A bound on records, not on alerts: an alert whose first records fall outside it shows
    with what is left (its kind and rule may then be unknown).
    """
    matches: Sequence[str] = [*MATCHES, *([f"BAMON_CHECK={check}"] if check else [])]
    return fold(journal.entries(matches, lines=records, since=since, fields=FIELDS))
