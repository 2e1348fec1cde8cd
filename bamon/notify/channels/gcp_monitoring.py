"""Google Cloud Monitoring: each alert as a point of a custom metric
(custom.googleapis.com/bamon/check_up: 0 failing, 1 recovered; labels check and severity, on a
generic_node resource per host), for Cloud Monitoring alerting policies and dashboards.

API: projects.timeSeries.create,
https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/create
(POST https://monitoring.googleapis.com/v3/projects/{project}/timeSeries, Authorization:
Bearer, 200 {} on success); custom metrics and the generic_node resource:
https://cloud.google.com/monitoring/custom-metrics/creating-metrics. The bearer token is minted
from a service-account key by google-auth (Debian: python3-google-auth), the only optional
dependency here; `access_token` instead serves short-lived setups and tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.channels import SettingsError
from bamon.notify.channels.http import Request, Retry, send

API = "https://monitoring.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/monitoring.write"


def series(alert: Alert, project: str, metric: str) -> dict[str, Any]:
    moment = datetime.fromtimestamp(alert.created, tz=UTC).isoformat().replace("+00:00", "Z")
    return {"timeSeries": [{
        "metric": {"type": metric, "labels": {"check": alert.check, "severity": alert.severity}},
        "resource": {"type": "generic_node",
                     "labels": {"project_id": project, "location": "global", "namespace": "bamon",
                                "node_id": alert.host}},
        "points": [{"interval": {"endTime": moment},
                    "value": {"int64Value": "1" if alert.kind is Kind.RECOVERY else "0"}}],
    }]}


def service_account_token(key: str) -> str:
    """An access token from a service-account key (JSON text) with google-auth."""
    import google.auth.transport.requests
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(json.loads(key), scopes=[SCOPE])
    credentials.refresh(google.auth.transport.requests.Request())
    return str(credentials.token)


class GcpMonitoring:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.project = str(settings["project_id"])
        self.url = f"{str(settings.get('url') or API).rstrip('/')}/v3/projects/{self.project}/timeSeries"
        self.metric = str(settings.get("metric_type", "custom.googleapis.com/bamon/check_up"))
        self.key, self.token = settings.get("service_account_key"), settings.get("access_token")
        if not self.key and not self.token:
            raise SettingsError("gcp_monitoring needs service_account_key (or access_token)")
        self.retry = Retry.of(settings)

    def send(self, alert: Alert) -> Delivery:
        token = self.token
        if not token:
            try:
                token = service_account_token(str(self.key))
            except ImportError:
                return Delivery(self.name, Outcome.PERMANENT,
                                "service_account_key needs google-auth (Debian: apt install python3-google-auth)")
            except Exception as exc:  # noqa: BLE001 - google-auth's refresh errors: retry from the outbox
                return Delivery(self.name, Outcome.TRANSIENT, f"no access token: {type(exc).__name__}")
        payload = series(alert, self.project, self.metric)
        return send(self.name, Request.json(self.url, payload, {"Authorization": f"Bearer {token}"}), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> GcpMonitoring:
    return GcpMonitoring(name, settings)
