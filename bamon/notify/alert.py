"""What the notifier hands to channels: one Alert in, one Delivery out per channel.

This is the seam between deciding (rules, state, escalation: bamon/notify/) and delivering
(bamon/notify/channels/, one module per channel). Channels never see the config, the journal or
the alert state; the decision side never speaks a channel's protocol.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Kind(enum.Enum):
    """Why the alert is sent."""

    FAILURE = "failure"  # a failure episode began (or escalated / is reminded: see `step`)
    RECOVERY = "recovery"  # the first success after a failure episode
    TEST = "test"  # `bamon alert test CHANNEL`


@dataclass(frozen=True)
class Alert:
    """One message about one check, already rendered, with its evidence as data.

    `title` and `body` come from the operator-overridable Jinja2 templates; channels that have
    rich layouts (Slack blocks, Teams cards, PagerDuty custom_details) use `evidence` instead of
    parsing the text.
    """

    id: str  # unique per alert (a UUID): outbox file name, journald ALERT_ID=
    kind: Kind
    check: str
    host: str
    status: str  # OK | FAILED | WARNING | UNKNOWN …
    severity: str  # info | warning | critical (after escalation)
    title: str  # one line
    body: str  # plain text, several lines
    dedup_key: str  # stable for the whole episode: PagerDuty dedup_key, Alertmanager labels
    created: float  # UNIX time
    rule: str = ""  # the rule that decided to send it
    step: int = 0  # escalation step (0 = first alert of the episode)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    # evidence keys: exit_code, failure_reason, reason_text, duration_s, cpu_s, memory_peak_bytes,
    # output_tail (list of lines), episode_start (UNIX time), consecutive_failures,
    # journalctl (the exact command), hint, tags (list), invocation, unit,
    # recovery (list of lines: actions run and their outcome, the circuit breaker; bamon/recovery/)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (outbox files, the webhook channel's default body)."""
        return {
            "id": self.id, "kind": self.kind.value, "check": self.check, "host": self.host,
            "status": self.status, "severity": self.severity, "title": self.title, "body": self.body,
            "dedup_key": self.dedup_key, "created": self.created, "rule": self.rule, "step": self.step,
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        return cls(**{**data, "kind": Kind(data["kind"]), "evidence": dict(data.get("evidence") or {})})


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"  # worth retrying later: timeout, refused, 5xx, 429 — goes to the outbox
    PERMANENT = "permanent"  # retrying cannot help: 4xx, bad settings — recorded, not retried


@dataclass(frozen=True)
class Delivery:
    """What one channel did with one alert; every Delivery becomes one journald record."""

    channel: str  # the channel's name
    outcome: Outcome
    detail: str  # what the receiver answered, in one line ("HTTP 202", "550 mailbox unavailable")
    attempts: int = 1
    retry_after: float | None = None  # seconds, when the receiver said (429 Retry-After)


class Channel(Protocol):
    """One configured channel. Implementations live one per module in bamon/notify/channels/."""

    name: str

    def send(self, alert: Alert) -> Delivery:
        """Deliver (with the channel's own timeout and bounded retries); never raises."""
        ...
