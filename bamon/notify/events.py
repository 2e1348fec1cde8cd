"""The notifier's structured journald records: one per decision and one per delivery.

structlog builds the event (bound context, key/value fields); the last processor turns it into
one journald entry whose fields an operator can match on (`journalctl BAMON_EVENT=alert.delivery
BAMON_CHECK=web`) and whose MESSAGE is a short logfmt line for humans. Writing goes through
bamon.journal.Journal, the one module that talks to journald, so unit tests pass their own sink.

Bind `bamon_check=NAME` so that `journalctl BAMON_CHECK=NAME` shows alerts beside the runs.
Never bind a secret (a webhook URL with a token, a password) to an event: channels report the
receiver's answer, not their settings.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog

from bamon.journal import Journal

# MESSAGE_IDs (journalctl MESSAGE_ID=…), one per kind of event, stable across releases.
MESSAGE_IDS = {
    "alert.decision": "3f0d5d1ed6a54bc2a3a1c6c0f7f0a101",  # the rules decided: send, suppress, silence…
    "alert.delivery": "3f0d5d1ed6a54bc2a3a1c6c0f7f0a102",  # one channel's result for one alert
    "alert.outbox": "3f0d5d1ed6a54bc2a3a1c6c0f7f0a103",  # queued, retried, expired
}
# structlog method → syslog priority
_PRIORITY = {"debug": 7, "info": 6, "warning": 4, "warn": 4, "error": 3, "critical": 2}


def _logfmt(value: object) -> str:
    text = " ".join(str(value).split())
    return f'"{text}"' if (" " in text or not text) else text


class JournaldRenderer:
    """structlog's final processor: send the event to journald as fields, return the line."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def __call__(self, logger: object, method: str, event_dict: MutableMapping[str, Any]) -> str:
        event = str(event_dict.pop("event", ""))
        fields = {k.upper(): v for k, v in event_dict.items() if v is not None}
        message = " ".join([event, *(f"{k.lower()}={_logfmt(v)}" for k, v in fields.items())])
        self._journal.send(message, BAMON_EVENT=event, PRIORITY=_PRIORITY.get(method, 6),
                           MESSAGE_ID=MESSAGE_IDS.get(event), **fields)
        return message


def logger(journal: Journal, **context: Any) -> Any:
    """A structlog logger whose every call is one journald record, with `context` bound."""
    log = structlog.wrap_logger(structlog.ReturnLogger(), processors=[JournaldRenderer(journal)],
                                context_class=dict, cache_logger_on_first_use=False)
    return log.bind(**context)
