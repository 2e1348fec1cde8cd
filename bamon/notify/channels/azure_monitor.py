"""Azure Monitor: each alert as a row of a custom Log Analytics table, through the Logs
Ingestion API (a data collection endpoint and rule), for KQL queries and log alert rules.

API: https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview
(POST {endpoint}/dataCollectionRules/{dcr immutable id}/streams/{stream}?api-version=2023-01-01,
a JSON array of rows, Authorization: Bearer; 204 on success, 413 over 1 MB). The token comes
from Microsoft Entra ID's client-credentials flow for an app registration with the
"Monitoring Metrics Publisher" role on the rule:
https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
(POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token, scope
https://monitor.azure.com//.default). The stream's columns are those of `row()` below.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bamon.notify.alert import Alert, Delivery
from bamon.notify.channels.calls import Reply, access_token, call, flow, no_token
from bamon.notify.channels.http import Request, Retry

API_VERSION = "2023-01-01"
SCOPE = "https://monitor.azure.com//.default"
LOGIN = "https://login.microsoftonline.com"


def row(alert: Alert) -> dict[str, Any]:
    return {"TimeGenerated": datetime.fromtimestamp(alert.created, tz=UTC).isoformat().replace("+00:00", "Z"),
            "Check": alert.check, "Computer": alert.host, "Kind": alert.kind.value, "Status": alert.status,
            "Severity": alert.severity, "Title": alert.title, "Body": alert.body, "Episode": alert.dedup_key,
            "Rule": alert.rule, "ExitCode": alert.evidence.get("exit_code"),
            "Tags": ",".join(map(str, alert.evidence.get("tags") or ()))}


class AzureMonitor:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        login = str(settings.get("login_url") or LOGIN).rstrip("/")
        self.token_url = f"{login}/{settings['tenant_id']}/oauth2/v2.0/token"
        self.client = {"client_id": str(settings["client_id"]), "client_secret": str(settings["client_secret"]),
                       "scope": SCOPE, "grant_type": "client_credentials"}
        self.url = (f"{str(settings['endpoint']).rstrip('/')}/dataCollectionRules/{quote(str(settings['rule_id']))}"
                    f"/streams/{quote(str(settings.get('stream', 'Custom-BamonAlerts_CL')))}?api-version={API_VERSION}")
        self.retry = Retry.of(settings)

    def _steps(self, alert: Alert) -> Iterator[Reply]:
        token = call(Request.form(self.token_url, self.client), self.retry)
        yield token
        access = access_token(token)
        if not access:
            yield no_token(token)
            return
        yield call(Request.json(self.url, [row(alert)], {"Authorization": f"Bearer {access}"}), self.retry)

    def send(self, alert: Alert) -> Delivery:
        return flow(self.name, lambda: self._steps(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> AzureMonitor:
    return AzureMonitor(name, settings)
