"""Datadog: an event per alert (error on failure, success on recovery, aggregated per episode),
and optionally the check's state as a gauge metric for dashboards and monitors.

API: Events v1 https://docs.datadoghq.com/api/latest/events/#post-an-event
(POST /api/v1/events, header DD-API-KEY, 202 {"status": "ok", …}) and Metrics v2
https://docs.datadoghq.com/api/latest/metrics/#submit-metrics (POST /api/v2/series, type 3 =
gauge, 202). The site (datadoghq.com, datadoghq.eu, us3.datadoghq.com, …) picks the host:
https://docs.datadoghq.com/getting_started/site/.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bamon.notify.alert import Alert, Delivery, Kind
from bamon.notify.channels.calls import Reply, call, flow
from bamon.notify.channels.http import Request, Retry

_ALERT_TYPE = {"critical": "error", "warning": "warning", "info": "info"}
GAUGE = 3


def tags(alert: Alert) -> list[str]:
    return [f"check:{alert.check}", f"severity:{alert.severity}", "source:bamon",
            *(f"bamon_tag:{t}" for t in alert.evidence.get("tags") or ())]


def event(alert: Alert) -> dict[str, Any]:
    recovered = alert.kind is Kind.RECOVERY
    return {"title": alert.title[:500], "text": alert.body[:4000], "host": alert.host, "tags": tags(alert),
            "alert_type": "success" if recovered else _ALERT_TYPE.get(alert.severity, "error"),
            "aggregation_key": alert.dedup_key[:100], "source_type_name": "bamon",
            "date_happened": int(alert.created)}


def series(alert: Alert, metric: str) -> dict[str, Any]:
    return {"series": [{"metric": metric, "type": GAUGE, "tags": tags(alert),
                        "points": [{"timestamp": int(alert.created), "value": 1 if alert.kind is Kind.RECOVERY else 0}],
                        "resources": [{"name": alert.host, "type": "host"}]}]}


class Datadog:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.base = str(settings.get("url") or f"https://api.{settings.get('site', 'datadoghq.com')}").rstrip("/")
        self.headers = {"DD-API-KEY": str(settings["api_key"])}
        self.metric = str(settings.get("metric") or "")
        self.retry = Retry.of(settings)

    def _steps(self, alert: Alert) -> Iterator[Reply]:
        yield call(Request.json(f"{self.base}/api/v1/events", event(alert), self.headers), self.retry)
        if self.metric:
            yield call(Request.json(f"{self.base}/api/v2/series", series(alert, self.metric), self.headers),
                       self.retry)

    def send(self, alert: Alert) -> Delivery:
        return flow(self.name, lambda: self._steps(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> Datadog:
    return Datadog(name, settings)
