"""PagerDuty Events API v2: a failure triggers, a recovery resolves, one dedup_key per episode.

API: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and
https://developer.pagerduty.com/docs/events-api-v2/resolve-events/ (POST /v2/enqueue; 202 with
{"status": "success", "dedup_key": …}; 400 invalid event; 429 throttled; 5xx retry), overview at
https://developer.pagerduty.com/docs/events-api-v2-overview. The routing key is the integration
key of a service's "Events API V2" integration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from bamon.notify.alert import Alert, Kind
from bamon.notify.channels.http import JsonChannel, Retry

ENDPOINT = "https://events.pagerduty.com/v2/enqueue"
# PagerDuty's severities are critical, error, warning, info.
_SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}
SUMMARY_MAX = 1024


def event(alert: Alert, routing_key: str) -> dict[str, Any]:
    base = {"routing_key": routing_key, "dedup_key": alert.dedup_key[:255]}
    if alert.kind is Kind.RECOVERY:
        return {**base, "event_action": "resolve"}
    details = {"body": alert.body, "rule": alert.rule, "step": alert.step, **dict(alert.evidence)}
    payload = {"summary": alert.title[:SUMMARY_MAX], "source": alert.host,
               "severity": _SEVERITY.get(alert.severity, "error"), "component": alert.check,
               "class": str(alert.evidence.get("failure_reason") or alert.status),
               "custom_details": details}
    tags = ",".join(map(str, alert.evidence.get("tags") or ()))
    return {**base, "event_action": "trigger", "client": "bamon",
            "payload": {**payload, **({"group": tags} if tags else {})}}


def accepted(response: requests.Response) -> str | None:
    """PagerDuty documents a JSON answer with status "success"; anything else is not accepted."""
    try:
        data = response.json()
    except ValueError:
        return "the body is not JSON"
    if not isinstance(data, dict) or data.get("status") != "success":
        return "no status \"success\" in the answer"
    return None


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    routing_key = str(settings["routing_key"])
    return JsonChannel(name, str(settings.get("url") or ENDPOINT), lambda alert: event(alert, routing_key),
                       Retry.of(settings), check=accepted)
