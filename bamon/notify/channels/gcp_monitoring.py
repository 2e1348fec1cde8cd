"""Google Cloud Monitoring: each alert as a point of a custom metric
(custom.googleapis.com/bamon/check_up: 0 failing, 1 recovered; labels check and severity, on a
generic_node resource per host), for Cloud Monitoring alerting policies and dashboards.

API: projects.timeSeries.create,
https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/create
(POST https://monitoring.googleapis.com/v3/projects/{project}/timeSeries, Authorization:
Bearer, 200 {} on success); custom metrics and the generic_node resource:
https://cloud.google.com/monitoring/custom-metrics/creating-metrics.

The bearer token comes from a service account's JSON key through Google's OAuth 2.0 flow for
server-to-server applications,
https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests:
a JWT signed RS256 with the key (header kid = private_key_id; claims iss = client_email, scope,
aud = the key's token_uri, iat, exp at most an hour later) is posted to token_uri as
grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT, which answers
{"access_token": …} (400 invalid_grant for a wrong, revoked or disabled key). PyJWT signs
(Debian: python3-jwt with python3-cryptography), the only optional dependency here. Both
requests go through the shared HTTP helper, as Azure Monitor's do, so the token request has the
same timeout and its answers are sorted the same way (a refused key is permanent, a 5xx
transient). `access_token` instead serves short-lived setups.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bamon.notify.alert import Alert, Delivery, Kind
from bamon.notify.channels import SettingsError
from bamon.notify.channels.calls import Reply, access_token, call, flow, no_token
from bamon.notify.channels.http import Request, Retry

API = "https://monitoring.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/monitoring.write"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # what a key without token_uri means
LIFETIME = 3600  # seconds; Google refuses assertions that live longer than an hour
NEEDS = "python3-jwt python3-cryptography"


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


@dataclass(frozen=True)
class ServiceAccount:
    """What of a service account's JSON key the token flow needs; the private key already loaded,
    so that a broken key is a settings error before anything is sent."""

    email: str
    key_id: str
    private_key: Any  # cryptography's RSAPrivateKey
    token_uri: str

    @classmethod
    def parse(cls, text: str) -> ServiceAccount:
        """The key's fields; SettingsError (never quoting the key) when it is not a usable key."""
        try:
            info = json.loads(text)
        except ValueError:
            raise SettingsError("service_account_key is not JSON: store the key file as downloaded from "
                                "Google Cloud (IAM → Service accounts → Keys)") from None
        missing = [k for k in ("client_email", "private_key") if not isinstance(info, dict) or not info.get(k)]
        if missing:
            raise SettingsError(f"service_account_key has no {' or '.join(missing)}: it must be a service "
                                "account's JSON key (\"type\": \"service_account\")")
        try:
            import jwt  # noqa: F401 - checked here: without it the key can never be used
            from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
            from cryptography.hazmat.primitives.serialization import load_pem_private_key
        except ImportError:
            raise SettingsError(f"service_account_key needs PyJWT and cryptography (Debian: apt install {NEEDS})") \
                from None
        try:
            private_key: Any = load_pem_private_key(str(info["private_key"]).encode(), password=None)
        except (ValueError, TypeError):  # not PEM, or encrypted (Google's keys never are)
            private_key = None
        if not isinstance(private_key, RSAPrivateKey):
            raise SettingsError("service_account_key's private_key is not a PEM RSA private key: "
                                "store the key file as downloaded")
        return cls(str(info["client_email"]), str(info.get("private_key_id") or ""), private_key,
                   str(info.get("token_uri") or TOKEN_URI))

    def assertion(self, now: float) -> str:
        """The signed JWT that asks token_uri for an access token to write metrics."""
        import jwt

        claims = {"iss": self.email, "scope": SCOPE, "aud": self.token_uri, "iat": int(now),
                  "exp": int(now) + LIFETIME}
        return str(jwt.encode(claims, self.private_key, algorithm="RS256",
                              headers={"kid": self.key_id} if self.key_id else None))


class GcpMonitoring:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.project = str(settings["project_id"])
        self.url = f"{str(settings.get('url') or API).rstrip('/')}/v3/projects/{self.project}/timeSeries"
        self.metric = str(settings.get("metric_type", "custom.googleapis.com/bamon/check_up"))
        key, self.token = settings.get("service_account_key"), settings.get("access_token")
        if not key and not self.token:
            raise SettingsError("gcp_monitoring needs service_account_key (or access_token)")
        self.account = ServiceAccount.parse(str(key)) if key else None
        self.retry = Retry.of(settings)

    def _steps(self, alert: Alert) -> Iterator[Reply]:
        token = str(self.token or "")
        if self.account is not None:  # a fresh assertion per attempt: each is valid for an hour only
            reply = call(Request.form(self.account.token_uri, {
                "grant_type": GRANT, "assertion": self.account.assertion(time.time())}), self.retry)
            yield reply
            token = access_token(reply) or ""
            if not token:
                yield no_token(reply)
                return
        payload = series(alert, self.project, self.metric)
        yield call(Request.json(self.url, payload, {"Authorization": f"Bearer {token}"}), self.retry)

    def send(self, alert: Alert) -> Delivery:
        return flow(self.name, lambda: self._steps(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> GcpMonitoring:
    return GcpMonitoring(name, settings)
