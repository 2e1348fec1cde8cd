"""ntfy (ntfy.sh or self-hosted): a push notification published as JSON.

API: https://docs.ntfy.sh/publish/#publish-as-json (POST to the server root with topic, title,
message, priority 1-5, tags), authentication https://docs.ntfy.sh/publish/#access-tokens
(Authorization: Bearer), limits https://docs.ntfy.sh/config/#rate-limiting (429). The server
answers 200 with the published message as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Alert, Kind
from bamon.notify.channels import layout
from bamon.notify.channels.http import JsonChannel, Retry, json_reply

SERVER = "https://ntfy.sh"
_PRIORITY = {"critical": 5, "warning": 4, "info": 3}  # ntfy: 5 max/urgent … 1 min
# Tags that ntfy shows as emoji (https://docs.ntfy.sh/emojis/).
_TAGS = {Kind.FAILURE: "rotating_light", Kind.RECOVERY: "white_check_mark", Kind.TEST: "test_tube"}


def message(alert: Alert, topic: str) -> dict[str, Any]:
    text = alert.body
    tail = layout.output_tail(alert)
    if tail and tail not in text:
        text += "\n\n" + tail
    priority = 3 if alert.kind is not Kind.FAILURE else _PRIORITY.get(alert.severity, 4)
    return {"topic": topic, "title": alert.title, "message": text[:4000], "priority": priority,
            "tags": [_TAGS[alert.kind], alert.check]}


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    topic, token = str(settings["topic"]), settings.get("token")
    server = str(settings.get("server") or SERVER).rstrip("/")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return JsonChannel(name, server + "/", lambda alert: message(alert, topic), Retry.of(settings),
                       check=json_reply, headers=headers)
