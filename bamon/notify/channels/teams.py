"""Microsoft Teams: an Adaptive Card posted to a Workflows ("Post to a channel when a webhook
request is received") or a classic incoming-webhook URL.

API: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
(section "Send Adaptive Cards using an Incoming Webhook": a `message` whose attachment has
contentType application/vnd.microsoft.card.adaptive); card schema https://adaptivecards.io/explorer/.
Workflows answer 202 Accepted, classic webhooks 200 "1"; 429 when throttled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Alert, Kind
from bamon.notify.channels import layout
from bamon.notify.channels.http import JsonChannel, Retry

# Adaptive Cards have named colours only.
_TITLE_COLOUR = {Kind.RECOVERY: "good", Kind.TEST: "accent"}
_SEVERITY_COLOUR = {"critical": "attention", "warning": "warning", "info": "accent"}


def card(alert: Alert) -> dict[str, Any]:
    colour = _TITLE_COLOUR.get(alert.kind) or _SEVERITY_COLOUR.get(alert.severity, "warning")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": alert.title, "weight": "bolder", "size": "medium",
         "color": colour, "wrap": True},
        {"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in layout.facts(alert)]},
    ]
    tail = layout.output_tail(alert)
    if tail:
        body.append({"type": "TextBlock", "text": tail, "fontType": "monospace", "wrap": True,
                     "separator": True})
    command = layout.journal_command(alert)
    if command:
        body.append({"type": "TextBlock", "text": command, "fontType": "monospace", "isSubtle": True,
                     "size": "small", "wrap": True})
    return {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body, "msteams": {"width": "Full"}}


def payload(alert: Alert) -> dict[str, Any]:
    return {"type": "message", "summary": alert.title,
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                             "content": card(alert)}]}


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    return JsonChannel(name, str(settings["webhook_url"]), payload, Retry.of(settings))
