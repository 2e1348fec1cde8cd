"""ServiceNow: an incident per failure episode through the Table API, work notes on repeats,
resolved (state 6) with close notes on recovery.

API: https://developer.servicenow.com/dev.do#!/reference/api/latest/rest/c_TableAPI
(POST /api/now/table/incident: 201 {"result": {"sys_id", "number", …}}; PATCH
/api/now/table/incident/{sys_id}; GET with sysparm_query). Incident fields and the resolved
state: https://docs.servicenow.com/bundle/latest/page/product/incident-management/reference/r_IncidentStates.html
(6 = Resolved; close_code and close_notes are mandatory to resolve). Basic authentication with
an integration user, or an OAuth bearer token.

The episode's key is the incident's correlation_id, so a lost mapping is found again by a
query instead of opening a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.channels.calls import Api, EpisodeTickets, Reply, basic, episode_label, failed, flow
from bamon.notify.channels.http import Retry

TABLE = "/api/now/table/incident"
# bamon severity → ServiceNow impact/urgency (1 high, 2 medium, 3 low)
LEVEL = {"critical": "1", "warning": "2", "info": "3"}
RESOLVED = "6"


class ServiceNow:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        user, password, token = settings.get("user"), settings.get("password"), settings.get("token")
        self.retry = Retry.of(settings)
        self.api = Api(str(settings["url"]), basic(user, password) if user else f"Bearer {token}", self.retry)
        self.extra = {str(k): str(v) for k, v in (settings.get("fields") or {}).items()}
        self.close_code = str(settings.get("close_code", "Solved (Permanently)"))
        state = settings.get("state_dir")
        self.tickets = EpisodeTickets(name, Path(str(state)) if state else None)

    def _known(self, alert: Alert) -> Iterator[Reply]:
        """Fill the mapping from an active incident with this episode's correlation_id."""
        if self.tickets.get(alert.dedup_key):
            return
        query = quote(f"correlation_id={episode_label(alert.dedup_key)}^active=true")
        reply = self.api.request("GET", f"{TABLE}?sysparm_query={query}&sysparm_fields=sys_id,number&sysparm_limit=1")
        yield reply
        found = reply.data.get("result") if reply.ok and isinstance(reply.data, dict) else None
        if isinstance(found, list) and found and isinstance(found[0], dict) and found[0].get("sys_id"):
            self.tickets.put(alert.dedup_key, str(found[0]["sys_id"]))

    def _open(self, alert: Alert) -> Iterator[Reply]:
        yield from self._known(alert)
        sys_id = self.tickets.get(alert.dedup_key)
        if sys_id:
            yield self.api.request("PATCH", f"{TABLE}/{sys_id}", {"work_notes": f"{alert.title}\n\n{alert.body}"})
            return
        level = LEVEL.get(alert.severity, "2")
        record = {"short_description": alert.title[:160], "description": alert.body, "impact": level,
                  "urgency": level, "correlation_id": episode_label(alert.dedup_key),
                  "correlation_display": "bamon", **self.extra}
        reply = self.api.request("POST", TABLE, record)
        result = reply.data.get("result") if reply.ok and isinstance(reply.data, dict) else None
        result = result if isinstance(result, dict) else {}
        if reply.ok and not result.get("sys_id"):
            reply = failed(Outcome.PERMANENT, f"{reply.detail} (no sys_id in the answer)")
        elif reply.ok:
            self.tickets.put(alert.dedup_key, str(result["sys_id"]))
            reply.detail += f" (opened {result.get('number', result['sys_id'])})"
        yield reply

    def _resolve(self, alert: Alert) -> Iterator[Reply]:
        yield from self._known(alert)
        sys_id = self.tickets.get(alert.dedup_key)
        if not sys_id:
            return
        yield self.api.request("PATCH", f"{TABLE}/{sys_id}", {
            "state": RESOLVED, "close_code": self.close_code, "close_notes": f"{alert.title}\n\n{alert.body}"})
        self.tickets.drop(alert.dedup_key)

    def send(self, alert: Alert) -> Delivery:
        steps = self._resolve if alert.kind is Kind.RECOVERY else self._open
        return flow(self.name, lambda: steps(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> ServiceNow:
    if not settings.get("user") and not settings.get("token"):
        from bamon.notify.channels import SettingsError

        raise SettingsError("servicenow needs user and password, or token")
    return ServiceNow(name, settings)
