"""Prometheus Alertmanager: the alert as a postable alert, so Alertmanager deduplicates, groups,
routes, silences and inhibits bamon's alerts together with everything else it receives.

API: the Alertmanager v2 OpenAPI spec, `POST /api/v2/alerts` with a JSON array of
postableAlert {labels, annotations, startsAt, endsAt, generatorURL}
(https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml; client behaviour
https://prometheus.io/docs/alerting/latest/clients/). 200 with an empty body on success;
400 when it rejects the label set.

The labels are the alert's identity: alertname, check, host (and instance, which Prometheus'
own rules carry), severity, tags, plus the channel's static `labels`. A recovery posts the
same labels with endsAt = now, which resolves the alert (at every severity: see postable()).
bamon posts once per failure episode (and per reminder), not every few minutes as Prometheus
does, so a firing alert says how long it holds (`hold`, default 7 days) instead of falling back on resolve_timeout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bamon.notify.alert import Alert, Kind
from bamon.notify.channels import SettingsError
from bamon.notify.channels.http import JsonChannel, Retry

PATH = "/api/v2/alerts"
HOLD_S = 7 * 86400
# Alertmanager label names follow Prometheus': [a-zA-Z_][a-zA-Z0-9_]*
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*\Z")


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).isoformat().replace("+00:00", "Z")


def labels(alert: Alert, static: Mapping[str, str], alertname: str) -> dict[str, str]:
    tags = ",".join(map(str, alert.evidence.get("tags") or ()))
    own = {"alertname": alertname, "check": alert.check, "host": alert.host, "instance": alert.host,
           "severity": alert.severity, "source": "bamon", **({"tags": tags} if tags else {})}
    return {**static, **own}


SEVERITIES = ("info", "warning", "critical")


def postable(alert: Alert, static: Mapping[str, str], alertname: str, hold: float,
             generator_url: str) -> list[dict[str, Any]]:
    """The alert at its severity, plus the same labels at every other severity ended now.

    Severity is a label, hence part of the alert's identity in Alertmanager, but bamon's
    severity moves within an episode (an escalation raises it, a recovery is sent as info):
    ending the other severities' alerts keeps exactly one active per episode and resolves it
    on recovery, whatever the severity of each message.
    """
    started = float(alert.evidence.get("episode_start") or alert.created)
    recovered = alert.kind is Kind.RECOVERY
    ends = alert.created if recovered else alert.created + hold
    annotations = {"summary": alert.title, "description": alert.body}
    for key in ("journalctl", "hint", "failure_reason"):
        if alert.evidence.get(key):
            annotations[key] = str(alert.evidence[key])
    current = alert.severity if alert.severity in SEVERITIES else "warning"
    bodies = []
    for severity in SEVERITIES:
        ending = recovered or severity != current
        body: dict[str, Any] = {"labels": labels(replace(alert, severity=severity), static, alertname),
                                "annotations": annotations,
                                "startsAt": _iso(min(started, alert.created)),
                                "endsAt": _iso(alert.created if ending else ends)}
        if generator_url:
            body["generatorURL"] = generator_url
        bodies.append(body)
    return bodies


def build(name: str, settings: Mapping[str, Any]) -> JsonChannel:
    static = {str(k): str(v) for k, v in (settings.get("labels") or {}).items()}
    bad = [k for k in static if not LABEL_NAME.match(k)]
    if bad:
        raise SettingsError(f"label names must match [a-zA-Z_][a-zA-Z0-9_]*: {', '.join(bad)}")
    alertname, hold = str(settings.get("alertname", "BamonCheckFailed")), float(settings.get("hold", HOLD_S))
    generator_url = str(settings.get("generator_url", ""))
    url = str(settings["url"]).rstrip("/")
    headers = {str(k): str(v) for k, v in (settings.get("headers") or {}).items()}
    return JsonChannel(name, url if url.endswith(PATH) else url + PATH,
                       lambda alert: postable(alert, static, alertname, hold, generator_url),
                       Retry.of(settings), headers=headers)
