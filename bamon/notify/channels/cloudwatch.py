"""AWS CloudWatch: each alert as custom metric data (CheckUp 0 on failure, 1 on recovery, with
Check, Host and Severity dimensions), for CloudWatch alarms and dashboards.

API: PutMetricData, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
(the Query API: POST https://monitoring.REGION.amazonaws.com/ with a form body
Action=PutMetricData&Version=2010-08-01&Namespace=…&MetricData.member.N.…; 200 on success,
400 InvalidParameterValue, 403 on bad credentials). Requests are signed with Signature
Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html) by botocore's
own signer, which must be installed (Debian: python3-botocore) — the only optional dependency
of this channel; without it the channel reports a settings error instead of sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.channels import SettingsError
from bamon.notify.channels.http import Request, Retry, send

VERSION = "2010-08-01"


def form(alert: Alert, namespace: str, metric: str) -> dict[str, str]:
    member = "MetricData.member.1"
    dimensions = {"Check": alert.check, "Host": alert.host, "Severity": alert.severity}
    fields = {"Action": "PutMetricData", "Version": VERSION, "Namespace": namespace,
              f"{member}.MetricName": metric, f"{member}.Value": "1" if alert.kind is Kind.RECOVERY else "0",
              f"{member}.Unit": "None",
              f"{member}.Timestamp": datetime.fromtimestamp(alert.created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for i, (name, value) in enumerate(dimensions.items(), start=1):
        fields[f"{member}.Dimensions.member.{i}.Name"] = name
        fields[f"{member}.Dimensions.member.{i}.Value"] = value[:1024]
    return fields


class CloudWatch:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        try:
            from botocore.auth import SigV4Auth
            from botocore.credentials import Credentials
        except ImportError:
            raise SettingsError("the cloudwatch channel needs botocore (Debian: apt install python3-botocore)") \
                from None
        self.name = name
        self.region = str(settings["region"])
        self.url = str(settings.get("url") or f"https://monitoring.{self.region}.amazonaws.com/")
        self.namespace, self.metric = str(settings.get("namespace", "bamon")), str(settings.get("metric", "CheckUp"))
        credentials = Credentials(str(settings["access_key_id"]), str(settings["secret_access_key"]),
                                  str(settings["session_token"]) if settings.get("session_token") else None)
        self.signer = SigV4Auth(credentials, "monitoring", self.region)
        self.retry = Retry.of(settings)

    def request(self, alert: Alert) -> Request:
        """The signed request (signed again for every alert: a signature is valid for 15 minutes)."""
        from botocore.awsrequest import AWSRequest

        body = urlencode(form(alert, self.namespace, self.metric)).encode()
        aws = AWSRequest(method="POST", url=self.url, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        self.signer.add_auth(aws)
        return Request("POST", self.url, body, {k: str(v) for k, v in aws.headers.items()})

    def send(self, alert: Alert) -> Delivery:
        try:
            request = self.request(alert)
        except Exception as exc:  # noqa: BLE001 - botocore's errors: a settings problem, never a traceback
            return Delivery(self.name, Outcome.PERMANENT, f"signing failed: {type(exc).__name__}")
        return send(self.name, request, self.retry)


def build(name: str, settings: Mapping[str, Any]) -> CloudWatch:
    return CloudWatch(name, settings)
