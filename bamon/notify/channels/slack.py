"""Slack incoming webhook: a coloured attachment holding Block Kit blocks.

API: https://api.slack.com/messaging/webhooks (payload, errors such as 400 invalid_payload,
403 action_prohibited, 404 channel_not_found, 410 channel_is_archived) and Block Kit,
https://api.slack.com/reference/block-kit/blocks. Slack answers 200 with the body "ok";
rate limits are 429 with Retry-After (https://api.slack.com/apis/rate-limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Alert
from bamon.notify.channels import layout
from bamon.notify.channels.http import JsonChannel, Retry

MAX_FIELDS = 10  # a section block takes at most 10 fields


def _escape(text: str) -> str:
    # mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(alert: Alert) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{_escape(value)}"}
                                       for label, value in layout.facts(alert)[:MAX_FIELDS]]},
    ]
    tail = layout.output_tail(alert)
    if tail:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{_escape(tail)}```"}})
    command = layout.journal_command(alert)
    if command:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"`{_escape(command)}`"}]})
    # `text` is the notification and screen-reader fallback; the attachment gives the colour bar.
    return {"text": alert.title,
            "attachments": [{"color": f"#{layout.colour(alert):06x}", "blocks": blocks}]}


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    return JsonChannel(name, str(settings["webhook_url"]), payload, Retry.of(settings))
