"""New Relic: each alert as a custom event (eventType BamonAlert), queryable with NRQL
(`SELECT * FROM BamonAlert WHERE check = 'web'`) and usable in New Relic alert conditions.

API: the Event API, https://docs.newrelic.com/docs/data-apis/ingest-apis/event-api/introduction-event-api/
(POST https://insights-collector.newrelic.com/v1/accounts/{account_id}/events, EU accounts
insights-collector.eu01.nr-data.net; header Api-Key with a license (ingest) key; a JSON
array of flat events; 200 means accepted, 4xx a payload or key problem, 413 too large). Attribute values are strings or
numbers only, names ≤ 255 characters, values ≤ 4,096.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Alert
from bamon.notify.channels.http import JsonChannel, Retry

HOSTS = {"us": "insights-collector.newrelic.com", "eu": "insights-collector.eu01.nr-data.net"}
VALUE_MAX = 4096


def events(alert: Alert, event_type: str) -> list[dict[str, Any]]:
    flat = {k: v for k, v in alert.evidence.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    body = {**{f"evidence.{k}": v for k, v in flat.items()}, "eventType": event_type, "alertId": alert.id,
            "kind": alert.kind.value, "check": alert.check, "hostname": alert.host, "status": alert.status,
            "severity": alert.severity, "title": alert.title, "body": alert.body, "episode": alert.dedup_key,
            "rule": alert.rule, "step": alert.step, "tags": ",".join(map(str, alert.evidence.get("tags") or ())),
            "timestamp": int(alert.created)}
    return [{k: v[:VALUE_MAX] if isinstance(v, str) else v for k, v in body.items()}]


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    url = settings.get("url") or \
        f"https://{HOSTS[str(settings.get('region', 'us'))]}/v1/accounts/{settings['account_id']}/events"
    event_type = str(settings.get("event_type", "BamonAlert"))
    return JsonChannel(name, str(url), lambda alert: events(alert, event_type), Retry.of(settings),
                       headers={"Api-Key": str(settings["license_key"])})
