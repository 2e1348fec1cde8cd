"""Every channel against one table of receiver behaviours (DESIGN §8: same interface, same test).

The receiver is a real socket server on 127.0.0.1 (tests/unit/receiver.py); the channels speak
to it with their real client libraries (requests, smtplib). Nothing is mocked.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from receiver import Receiver, closed_port, http_reply
from service_account import key_file

from bamon.notify.alert import Alert, Kind, Outcome
from bamon.notify.channels import build

ALERT = Alert(id="a1", kind=Kind.FAILURE, check="web", host="box", status="FAILED", severity="critical",
              title="web FAILED", body="exit code 7\nconnection refused", dedup_key="bamon/box/web/1",
              created=1700000000.0, rule="failures",
              evidence={"exit_code": 7, "failure_reason": "exit-code", "output_tail": ["curl: (7) refused"],
                        "journalctl": "journalctl _SYSTEMD_INVOCATION_ID=abc"})

TICKETS = tempfile.TemporaryDirectory(prefix="bamon-test-tickets-")  # removed when the tests end
# type → settings pointing at the receiver's base URL (every HTTP channel)
HTTP_CHANNELS: dict[str, Callable[[str], dict[str, Any]]] = {
    "webhook": lambda url: {"url": f"{url}/hook"},
    "slack": lambda url: {"webhook_url": f"{url}/services/T0/B0/x"},
    "teams": lambda url: {"webhook_url": f"{url}/workflows/x"},
    "discord": lambda url: {"webhook_url": f"{url}/api/webhooks/1/x"},
    "pagerduty": lambda url: {"routing_key": "R0", "url": f"{url}/v2/enqueue"},
    "ntfy": lambda url: {"topic": "alerts", "server": url},
    "alertmanager": lambda url: {"url": url},
    "datadog": lambda url: {"api_key": "k", "url": url, "metric": "bamon.check.up"},
    "newrelic": lambda url: {"license_key": "k", "account_id": 1, "url": f"{url}/v1/accounts/1/events"},
    # ticketing: the episode → ticket mapping in a directory of the test's own
    "jira": lambda url: {"url": url, "project": "OPS", "token": "t", "state_dir": tempfile.mkdtemp(dir=TICKETS.name)},
    "servicenow": lambda url: {"url": url, "user": "u", "password": "p",
                               "state_dir": tempfile.mkdtemp(dir=TICKETS.name)},
    "azure_monitor": lambda url: {"tenant_id": "t", "client_id": "c", "client_secret": "s", "login_url": url,
                                  "endpoint": url, "rule_id": "dcr-1"},
    # the service-account flow: the token request meets each behaviour first (then the series)
    "gcp_monitoring": lambda url: {"project_id": "my-proj", "service_account_key": key_file(f"{url}/token"),
                                   "url": url},
    **({"cloudwatch": lambda url: {"region": "eu-west-1", "access_key_id": "AKID", "secret_access_key": "s",
                                   "url": f"{url}/"}} if importlib.util.find_spec("botocore") else {}),
}
HAS_APPRISE = importlib.util.find_spec("apprise") is not None
FAST = {"timeout": 0.5, "retries": 0}


@dataclass(frozen=True)
class Case:
    name: str
    mode: str  # the receiver's behaviour, or "refused": nobody listens
    http: bytes  # the HTTP answer (mode reply)
    smtp: str  # the SMTP answer to MAIL FROM (mode reply)
    outcome: Outcome
    says: str  # in the detail (HTTP or SMTP words)
    retry_after: float | None = None


# One answer every receiver documents as success: PagerDuty's status, Jira's created issue key,
# ServiceNow's created record, Entra ID's token.
PD_OK = ('{"status": "success", "message": "Event processed", "dedup_key": "bamon/box/web/1", '
         '"key": "OPS-1", "result": {"sys_id": "0a1b", "number": "INC0010001"}, "access_token": "tok"}')
CASES = [
    Case("delivered", "reply", http_reply("202 Accepted", PD_OK), "250 ok", Outcome.DELIVERED, "2"),
    Case("refused", "refused", b"", "", Outcome.TRANSIENT, "refused"),
    Case("timeout", "hang", b"", "", Outcome.TRANSIENT, "timeout"),
    Case("closed", "close", b"", "", Outcome.TRANSIENT, "closed"),
    Case("garbage", "garbage", b"", "", Outcome.TRANSIENT, "malformed"),
    Case("4xx", "reply", http_reply("400 Bad Request", "invalid_payload"), "550 5.1.1 no such user",
         Outcome.PERMANENT, "invalid_payload|550 5.1.1 no such user"),
    # an oversized payload: retrying the same body cannot help
    Case("413", "reply", http_reply("413 Payload Too Large", "request entity too large"), "552 5.3.4 message too big",
         Outcome.PERMANENT, "413|552"),
    Case("5xx", "reply", http_reply("503 Service Unavailable", "down for maintenance"), "451 4.3.0 try later",
         Outcome.TRANSIENT, "503|451"),
    Case("429", "reply", http_reply("429 Too Many Requests", "slow down", {"Retry-After": "7"}),
         "421 4.7.0 too many connections", Outcome.TRANSIENT, "429|421", retry_after=7.0),
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _channel(type_: str, case: Case, receiver: Receiver) -> Any:
    port = closed_port() if case.mode == "refused" else receiver.port
    if type_ == "email":
        receiver.protocol = "smtp"
        settings = {"smtp_server": "127.0.0.1", "port": port, "security": "none", "to": ["ops@example.com"]}
    elif type_ == "apprise":
        settings = {"urls": [f"json://127.0.0.1:{port}/hook?cto=0.5&rto=0.5"]}
    else:
        settings = HTTP_CHANNELS[type_](f"http://127.0.0.1:{port}")
    receiver.mode, receiver.reply, receiver.smtp_code = case.mode, case.http, case.smtp or "250 ok"
    return build(type_, f"the-{type_}", {**settings, **FAST})


TYPES = [*HTTP_CHANNELS, "email", *(["apprise"] if HAS_APPRISE else [])]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("type_", TYPES)
def test_every_channel_sorts_every_receiver_behaviour(type_: str, case: Case, receiver: Receiver) -> None:
    delivery = _channel(type_, case, receiver).send(ALERT)
    assert delivery.channel == f"the-{type_}"
    if type_ == "apprise":  # apprise only says yes or no: every failure is worth a retry
        want = Outcome.DELIVERED if case.outcome is Outcome.DELIVERED else Outcome.TRANSIENT
        assert delivery.outcome is want, delivery
        return
    assert delivery.outcome is case.outcome, delivery
    assert any(word in delivery.detail for word in case.says.split("|")), delivery.detail
    assert "Traceback" not in delivery.detail and "127.0.0.1" not in delivery.detail
    if case.retry_after and type_ != "email":
        assert delivery.retry_after == case.retry_after
