"""Discord channel webhook: one embed with the evidence as fields.

API: https://discord.com/developers/docs/resources/webhook#execute-webhook (JSON body with
`content`, `username`, `embeds`; 204 No Content on success), embed limits at
https://discord.com/developers/docs/resources/message#embed-object-embed-limits, and rate limits
(429 with Retry-After) at https://discord.com/developers/docs/topics/rate-limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bamon.notify.alert import Alert
from bamon.notify.channels import layout
from bamon.notify.channels.http import JsonChannel, Retry

TITLE_MAX, DESCRIPTION_MAX, FIELD_MAX = 256, 4096, 1024


def embed(alert: Alert) -> dict[str, Any]:
    fields = [{"name": label, "value": value[:FIELD_MAX] or "-", "inline": len(value) < 40}
              for label, value in layout.facts(alert)]
    tail = layout.output_tail(alert)
    if tail:
        fields.append({"name": "Output", "value": f"```\n{tail[-(FIELD_MAX - 8):]}\n```", "inline": False})
    command = layout.journal_command(alert)
    if command:
        fields.append({"name": "Journal", "value": f"`{command[:FIELD_MAX - 2]}`", "inline": False})
    return {"title": alert.title[:TITLE_MAX], "description": alert.body[:DESCRIPTION_MAX],
            "color": layout.colour(alert), "fields": fields[:25],
            "timestamp": datetime.fromtimestamp(alert.created, UTC).isoformat()}


def payload(alert: Alert, username: str) -> dict[str, Any]:
    # Mentions off: an output line saying "@everyone" must not page a whole server.
    return {"username": username, "content": alert.title[:2000], "embeds": [embed(alert)],
            "allowed_mentions": {"parse": []}}


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    username = str(settings.get("username", "bamon"))
    return JsonChannel(name, str(settings["webhook_url"]), lambda alert: payload(alert, username),
                       Retry.of(settings))
