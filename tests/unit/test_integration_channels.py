"""Integration channels (Alertmanager, cloud monitors, ticketing) against the local receiver:
the method, path, headers, authentication and body shape each vendor documents.
The shared error replay (refused, timeout, 4xx, 5xx, 429) is in test_channels.py."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import service_account
from receiver import Receiver, closed_port, http_reply
from test_channels import ALERT

from bamon.notify.alert import Kind, Outcome
from bamon.notify.channels import SettingsError, build


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""  # the body as it came (what a signature covers)


def seen(receiver: Receiver, index: int = -1) -> Seen:
    head, _, body = receiver.received[index].partition(b"\r\n\r\n")
    first, *lines = head.decode().split("\r\n")
    method, path, _ = first.split(" ", 2)
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return Seen(method, path, headers, json.loads(body) if body else None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.reply = http_reply("200 OK", "")
    yield server
    server.close()


def test_alertmanager_posts_labels_then_ends_the_alert_on_recovery(receiver: Receiver) -> None:
    channel = build("alertmanager", "am", {"url": receiver.url, "labels": {"team": "ops"},
                                           "headers": {"Authorization": "Bearer t0k"}, "retries": 0})
    tagged = replace(ALERT, evidence={**ALERT.evidence, "tags": ["web", "prod"], "episode_start": 1699999990.0})
    assert channel.send(tagged).outcome is Outcome.DELIVERED
    fired = seen(receiver)
    assert (fired.method, fired.path) == ("POST", "/api/v2/alerts")
    assert fired.headers["content-type"] == "application/json" and fired.headers["authorization"] == "Bearer t0k"
    by_severity = {a["labels"]["severity"]: a for a in fired.body}
    alert = by_severity["critical"]
    assert alert["labels"] == {"alertname": "BamonCheckFailed", "check": "web", "host": "box", "instance": "box",
                               "severity": "critical", "source": "bamon", "tags": "web,prod", "team": "ops"}
    assert alert["startsAt"] == "2023-11-14T22:13:10Z" and alert["endsAt"] > "2023-11-21"  # held a week
    assert alert["annotations"]["summary"] == "web FAILED" and "journalctl" in alert["annotations"]
    # the other severities of the same episode end now: one active alert, whatever escalation did
    assert by_severity["warning"]["endsAt"] == by_severity["info"]["endsAt"] == "2023-11-14T22:13:20Z"

    # a recovery is sent at severity info: every severity's alert ends, the critical one included
    recovery = replace(tagged, kind=Kind.RECOVERY, status="OK", severity="info", created=ALERT.created + 60)
    assert channel.send(recovery).outcome is Outcome.DELIVERED
    ended = {a["labels"]["severity"]: a for a in seen(receiver).body}
    assert ended["critical"]["labels"] == alert["labels"]
    assert {a["endsAt"] for a in ended.values()} == {"2023-11-14T22:14:20Z"}  # now: Alertmanager resolves it


def test_alertmanager_refuses_label_names_prometheus_cannot_carry() -> None:
    with pytest.raises(SettingsError, match="label names"):
        build("alertmanager", "am", {"url": "http://am", "labels": {"bad-name": "x"}})


# One reply of a Scripted server: (status, JSON), or a function of the request that returns one
# (a receiver that checks what it got: a signature, a token).
Reply = tuple[int, Any] | Callable[[Seen], tuple[int, Any]]


class Scripted:
    """An HTTP server on 127.0.0.1 answering from a script of replies, one per request in order
    (the last repeats), recording every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies, self.seen = list(replies), []  # type: list[Reply], list[Seen]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                is_json = "json" in (self.headers.get("Content-Type") or "")
                outer.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                       (json.loads(raw) if is_json else raw.decode()) if raw else None, raw))
                reply = outer.replies.pop(0) if len(outer.replies) > 1 else outer.replies[0]
                status, data = reply(outer.seen[-1]) if callable(reply) else reply
                body = json.dumps(data).encode() if data is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", closed_port()), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def start(*replies: Reply) -> Scripted:
        servers.append(Scripted(*replies))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_datadog_posts_an_event_and_a_gauge(scripted: Callable[..., Scripted]) -> None:
    server = scripted((202, {"status": "ok"}))
    channel = build("datadog", "dd", {"api_key": "DDKEY", "url": server.url, "metric": "bamon.check.up"})
    assert channel.send(ALERT).outcome is Outcome.DELIVERED
    event, series = server.seen
    assert (event.method, event.path, event.headers["dd-api-key"]) == ("POST", "/api/v1/events", "DDKEY")
    assert event.body["alert_type"] == "error" and event.body["aggregation_key"] == ALERT.dedup_key
    assert "check:web" in event.body["tags"] and event.body["host"] == "box"
    assert (series.path, series.body["series"][0]["type"], series.body["series"][0]["points"][0]["value"]) == \
        ("/api/v2/series", 3, 0)
    assert build("datadog", "dd", {"api_key": "k", "site": "datadoghq.eu"}).base == "https://api.datadoghq.eu"


def test_newrelic_posts_a_flat_custom_event(scripted: Callable[..., Scripted]) -> None:
    server = scripted((200, {"success": True, "uuid": "u"}))
    url = f"{server.url}/v1/accounts/42/events"
    assert build("newrelic", "nr", {"license_key": "NRKEY", "account_id": 42, "url": url}).send(ALERT).outcome \
        is Outcome.DELIVERED
    [seen_] = server.seen
    assert (seen_.method, seen_.path, seen_.headers["api-key"]) == ("POST", "/v1/accounts/42/events", "NRKEY")
    [event] = seen_.body
    assert event["eventType"] == "BamonAlert" and event["check"] == "web" and event["evidence.exit_code"] == 7
    assert all(isinstance(v, (str, int, float)) for v in event.values())  # flat, as the Event API requires


def test_jira_opens_one_issue_per_episode_comments_then_transitions(
        scripted: Callable[..., Scripted], tmp_path: Path) -> None:
    settings = {"project": "OPS", "user": "bot@example.com", "token": "T0K", "resolve_transition": "Done",
                "state_dir": str(tmp_path)}
    server = scripted((200, {"issues": []}), (201, {"id": "10001", "key": "OPS-7"}))
    jira = build("jira", "jira", {**settings, "url": server.url})
    assert jira.send(ALERT).outcome is Outcome.DELIVERED
    search, create = server.seen
    assert search.method == "GET" and search.path.startswith("/rest/api/2/search?jql=")
    assert create.headers["authorization"] == "Basic Ym90QGV4YW1wbGUuY29tOlQwSw=="
    fields = create.body["fields"]
    assert (create.method, create.path, fields["project"], fields["issuetype"]) == \
        ("POST", "/rest/api/2/issue", {"key": "OPS"}, {"name": "Task"})
    assert fields["summary"] == "web FAILED" and any(label.startswith("bamon-") for label in fields["labels"])

    server.replies = [(201, {"id": "1"})]
    reminder = replace(ALERT, step=1, title="web still FAILED")
    assert jira.send(reminder).outcome is Outcome.DELIVERED  # the same episode: a comment, no new issue
    assert (server.seen[-1].method, server.seen[-1].path) == ("POST", "/rest/api/2/issue/OPS-7/comment")

    server.replies = [(201, {"id": "2"}), (200, {"transitions": [{"id": "31", "name": "Done"}]}), (204, None)]
    recovery = replace(ALERT, kind=Kind.RECOVERY, status="OK", title="web recovered")
    assert jira.send(recovery).outcome is Outcome.DELIVERED
    comment, listed, moved = server.seen[-3:]
    assert comment.path == "/rest/api/2/issue/OPS-7/comment" and "recovered" in comment.body["body"]
    assert (listed.method, moved.path, moved.body) == ("GET", "/rest/api/2/issue/OPS-7/transitions",
                                                       {"transition": {"id": "31"}})
    assert list((tmp_path / "tickets" / "jira").iterdir()) == []  # the episode is closed


def test_jira_finds_the_episodes_issue_instead_of_a_duplicate(scripted: Callable[..., Scripted],
                                                              tmp_path: Path) -> None:
    # The mapping was lost (or the create's answer never came): the label search finds the issue.
    server = scripted((200, {"issues": [{"key": "OPS-3"}]}), (201, {"id": "9"}))
    jira = build("jira", "jira", {"url": server.url, "project": "OPS", "token": "PAT", "state_dir": str(tmp_path)})
    assert jira.send(ALERT).outcome is Outcome.DELIVERED
    assert [s.path for s in server.seen][1] == "/rest/api/2/issue/OPS-3/comment"
    assert server.seen[0].headers["authorization"] == "Bearer PAT"
    assert not any(s.path == "/rest/api/2/issue" for s in server.seen)


def test_jira_recovery_without_an_issue_does_nothing(scripted: Callable[..., Scripted], tmp_path: Path) -> None:
    server = scripted((200, {"issues": []}))
    jira = build("jira", "jira", {"url": server.url, "project": "OPS", "token": "t", "state_dir": str(tmp_path)})
    delivery = jira.send(replace(ALERT, kind=Kind.RECOVERY))
    assert delivery.outcome is Outcome.DELIVERED and [s.method for s in server.seen] == ["GET"]


def test_servicenow_opens_notes_and_resolves_an_incident(scripted: Callable[..., Scripted], tmp_path: Path) -> None:
    server = scripted((200, {"result": []}), (201, {"result": {"sys_id": "abc123", "number": "INC0010001"}}))
    snow = build("servicenow", "snow", {"url": server.url, "user": "bamon", "password": "pw",
                                        "fields": {"assignment_group": "ops"}, "state_dir": str(tmp_path)})
    delivery = snow.send(ALERT)
    assert delivery.outcome is Outcome.DELIVERED and "INC0010001" in delivery.detail
    query, create = server.seen
    assert query.method == "GET" and "correlation_id%3Dbamon-" in query.path
    assert (create.method, create.path, create.headers["authorization"]) == (
        "POST", "/api/now/table/incident", "Basic YmFtb246cHc=")
    assert create.body["impact"] == create.body["urgency"] == "1" and create.body["assignment_group"] == "ops"
    assert create.body["correlation_id"].startswith("bamon-") and create.body["short_description"] == "web FAILED"

    server.replies = [(200, {"result": {"sys_id": "abc123"}})]
    assert snow.send(replace(ALERT, step=1)).outcome is Outcome.DELIVERED
    assert (server.seen[-1].method, server.seen[-1].path) == ("PATCH", "/api/now/table/incident/abc123")
    assert "work_notes" in server.seen[-1].body
    assert snow.send(replace(ALERT, kind=Kind.RECOVERY)).outcome is Outcome.DELIVERED
    resolved = server.seen[-1]
    assert resolved.method == "PATCH" and resolved.body["state"] == "6" and resolved.body["close_code"]


def test_servicenow_needs_credentials() -> None:
    with pytest.raises(SettingsError, match="user and password, or token"):
        build("servicenow", "snow", {"url": "https://x.service-now.com"})


@pytest.mark.parametrize(("type_", "settings", "secret"), [
    ("datadog", {}, "api_key"), ("newrelic", {"account_id": 1}, "license_key"),
    ("jira", {"url": "https://x.atlassian.net", "project": "OPS"}, "token"),
    ("servicenow", {"url": "https://x.service-now.com", "user": "u"}, "password"),
    ("cloudwatch", {"region": "eu-west-1", "access_key_id": "AKIA"}, "secret_access_key"),
    ("azure_monitor", {"tenant_id": "t", "client_id": "c", "endpoint": "https://x.ingest.monitor.azure.com",
                       "rule_id": "dcr-0a"}, "client_secret"),
    ("gcp_monitoring", {"project_id": "my-project"}, "service_account_key"),
])
def test_credentials_are_accepted_only_as_stored_secrets(load_config: Any, type_: str, settings: dict[str, Any],
                                                         secret: str) -> None:
    def config(value: str) -> str:
        return f"alerts: {{channels: [{json.dumps({'type': type_, **settings, secret: value})}]}}\n"

    stored = load_config(config("${secret:the_key}")).errors  # fine, once `bamon secret set the_key` ran
    assert all("does not exist" in e.message for e in stored), stored
    plain = load_config(config("plain-text-key")).errors
    assert [e.path.rsplit(".", 1)[-1] for e in plain] == [secret] and "secret" in plain[0].hint, plain


class SigV4:
    """CloudWatch's side of Signature Version 4: it knows the secret and recomputes the signature
    with AWS's documented algorithm
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), written here
    with hmac and hashlib, not with the botocore that signed: canonical request → string to sign →
    signing key derived from the secret, date, region and service → HMAC-SHA256."""

    HEADER = re.compile(r"AWS4-HMAC-SHA256 Credential=(\w+)/(\d{8})/([a-z0-9-]+)/([a-z0-9]+)/aws4_request, "
                        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})\Z")

    def __init__(self, access_key: str, secret: str) -> None:
        self.access_key, self.secret, self.verified = access_key, secret, []  # type: str, str, list[Seen]

    def __call__(self, seen: Seen) -> tuple[int, Any]:
        match = self.HEADER.match(seen.headers.get("authorization", ""))
        if not match or match[1] != self.access_key:
            return 403, {"Error": {"Code": "InvalidClientTokenId"}}
        _, date, region, service, signed, signature = match.groups()
        stamp = seen.headers.get("x-amz-date", "")
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if stamp[:8] != date or abs((datetime.now(UTC) - moment).total_seconds()) > 300:
            return 403, {"Error": {"Code": "RequestExpired"}}  # AWS allows 5 minutes of skew
        path, _, query = seen.path.partition("?")
        headers = "".join(f"{h}:{' '.join(seen.headers[h].split())}\n" for h in signed.split(";"))
        canonical = "\n".join([seen.method, path, query, headers, signed, hashlib.sha256(seen.raw).hexdigest()])
        scope = f"{date}/{region}/{service}/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = f"AWS4{self.secret}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
            return 403, {"Error": {"Code": "SignatureDoesNotMatch",
                                   "Message": "The request signature we calculated does not match the signature "
                                              "you provided."}}
        self.verified.append(seen)
        return 200, None


def botocore_installed() -> None:
    # optional at run time, but the test extras and dev/install-deps install it: fail, never skip
    if importlib.util.find_spec("botocore") is None:
        pytest.fail("botocore not found: pip install botocore, or the Debian package python3-botocore", pytrace=False)


def test_cloudwatch_puts_metric_data_signed_with_sigv4(scripted: Callable[..., Scripted]) -> None:
    botocore_installed()
    aws = SigV4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    server = scripted(aws)
    channel = build("cloudwatch", "cw", {"region": "eu-west-1", "access_key_id": "AKIDEXAMPLE",
                                         "secret_access_key": aws.secret, "url": f"{server.url}/"})
    assert channel.send(ALERT).outcome is Outcome.DELIVERED
    [seen_] = aws.verified
    assert (seen_.method, seen_.path) == ("POST", "/")
    match = SigV4.HEADER.match(seen_.headers["authorization"])
    assert match and match.group(3, 4) == ("eu-west-1", "monitoring"), seen_.headers
    # what the signature covers: the host, the time and the body (a replayed or altered body fails)
    assert {"host", "x-amz-date"} <= set(match[5].split(";"))
    assert seen_.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert "Action=PutMetricData" in seen_.body and "Namespace=bamon" in seen_.body


def test_cloudwatch_with_a_wrong_secret_is_refused_permanently(scripted: Callable[..., Scripted]) -> None:
    botocore_installed()
    server = scripted(SigV4("AKIDEXAMPLE", "the-real-secret"))
    channel = build("cloudwatch", "cw", {"region": "eu-west-1", "access_key_id": "AKIDEXAMPLE",
                                         "secret_access_key": "a-wrong-secret", "url": f"{server.url}/"})
    delivery = channel.send(ALERT)
    assert delivery.outcome is Outcome.PERMANENT and delivery.attempts == 1, delivery
    assert "HTTP 403" in delivery.detail and "SignatureDoesNotMatch" in delivery.detail
    assert "a-wrong-secret" not in delivery.detail


def test_cloudwatch_form_body() -> None:
    from bamon.notify.channels.cloudwatch import form

    fields = form(ALERT, "bamon", "CheckUp")
    assert (fields["Action"], fields["Version"], fields["Namespace"]) == ("PutMetricData", "2010-08-01", "bamon")
    assert fields["MetricData.member.1.Value"] == "0"
    assert fields["MetricData.member.1.Timestamp"] == "2023-11-14T22:13:20Z"
    assert fields["MetricData.member.1.Dimensions.member.1.Name"] == "Check"
    assert fields["MetricData.member.1.Dimensions.member.1.Value"] == "web"


ISSUED = "ya29.issued-by-the-test"


def oauth(token_path: str, grant: Callable[[dict[str, str]], str | None], refused: int,
          api: tuple[int, Any]) -> Callable[[Seen], tuple[int, Any]]:
    """A token endpoint and the API it grants, on one server. At token_path, `grant` checks the
    form (None: granted; else the OAuth error code, answered with status `refused`, RFC 6749
    §5.2); every other path is the API: `api` for the issued bearer token, 401 for anything else."""

    def reply(seen: Seen) -> tuple[int, Any]:
        if seen.path == token_path:
            error = grant({k: v[0] for k, v in parse_qs(seen.body or "").items()})
            return (refused, {"error": error}) if error else (
                200, {"access_token": ISSUED, "expires_in": 3599, "token_type": "Bearer"})
        if seen.headers.get("authorization") != f"Bearer {ISSUED}":
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        return api

    return reply


def entra(form: dict[str, str]) -> str | None:
    """Microsoft Entra ID's client-credentials grant for the app CID with secret CS."""
    if form.get("grant_type") != "client_credentials" or form.get("scope") != "https://monitor.azure.com//.default":
        return "invalid_request"
    return None if (form.get("client_id"), form.get("client_secret")) == ("CID", "CS") else "invalid_client"


def test_azure_monitor_gets_a_token_then_posts_a_row(scripted: Callable[..., Scripted]) -> None:
    server = scripted(oauth("/TEN/oauth2/v2.0/token", entra, 401, (204, None)))
    channel = build("azure_monitor", "az", {"tenant_id": "TEN", "client_id": "CID", "client_secret": "CS",
                                           "login_url": server.url, "endpoint": server.url, "rule_id": "dcr-0a1b"})
    delivery = channel.send(ALERT)
    assert delivery.outcome is Outcome.DELIVERED, delivery
    token, post = server.seen
    assert (token.method, token.headers["content-type"]) == ("POST", "application/x-www-form-urlencoded")
    assert (post.method, post.path) == (
        "POST", "/dataCollectionRules/dcr-0a1b/streams/Custom-BamonAlerts_CL?api-version=2023-01-01")
    assert post.headers["authorization"] == f"Bearer {ISSUED}"
    [row] = post.body
    assert row["Check"] == "web" and row["TimeGenerated"] == "2023-11-14T22:13:20Z" and row["ExitCode"] == 7


def test_azure_monitor_with_a_wrong_secret_is_refused_permanently(scripted: Callable[..., Scripted]) -> None:
    server = scripted(oauth("/TEN/oauth2/v2.0/token", entra, 401, (204, None)))
    channel = build("azure_monitor", "az", {"tenant_id": "TEN", "client_id": "CID", "client_secret": "not-CS",
                                           "login_url": server.url, "endpoint": server.url, "rule_id": "dcr-0a1b"})
    delivery = channel.send(ALERT)
    assert delivery.outcome is Outcome.PERMANENT and "HTTP 401" in delivery.detail and "invalid_client" in \
        delivery.detail, delivery
    assert [s.path for s in server.seen] == ["/TEN/oauth2/v2.0/token"]  # nothing posted without a token


def test_azure_monitor_without_a_token_is_permanent(scripted: Callable[..., Scripted]) -> None:
    server = scripted((200, {"error": "nothing"}))
    channel = build("azure_monitor", "az", {"tenant_id": "T", "client_id": "C", "client_secret": "S",
                                           "login_url": server.url, "endpoint": server.url, "rule_id": "d",
                                           "retries": 0})
    delivery = channel.send(ALERT)
    assert delivery.outcome is Outcome.PERMANENT and "access_token" in delivery.detail


def test_gcp_monitoring_creates_a_time_series(scripted: Callable[..., Scripted]) -> None:
    server = scripted((200, {}))
    channel = build("gcp_monitoring", "gcp", {"project_id": "my-proj", "access_token": "ya29", "url": server.url})
    assert channel.send(replace(ALERT, kind=Kind.RECOVERY)).outcome is Outcome.DELIVERED
    [seen_] = server.seen
    assert (seen_.method, seen_.path, seen_.headers["authorization"]) == (
        "POST", "/v3/projects/my-proj/timeSeries", "Bearer ya29")
    [ts] = seen_.body["timeSeries"]
    assert ts["metric"] == {"type": "custom.googleapis.com/bamon/check_up",
                            "labels": {"check": "web", "severity": "critical"}}
    assert ts["resource"]["type"] == "generic_node" and ts["resource"]["labels"]["node_id"] == "box"
    assert ts["points"][0]["value"] == {"int64Value": "1"}
    with pytest.raises(SettingsError, match="service_account_key"):
        build("gcp_monitoring", "gcp", {"project_id": "p"})


def google(public_key: Any, assertions: list[tuple[dict[str, Any], dict[str, Any]]]) -> Callable[
        [dict[str, str]], str | None]:
    """Google's token endpoint for one service account: the JWT-bearer grant whose assertion
    verifies with the account's public key (kept in `assertions` for the test to look at)."""

    def grant(form: dict[str, str]) -> str | None:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return "unsupported_grant_type"
        try:
            assertions.append(service_account.verified(form.get("assertion", ""), public_key))
        except service_account.BadAssertion:
            return "invalid_grant"
        return None

    return grant


def test_gcp_monitoring_exchanges_a_jwt_signed_with_the_service_account_key(
        scripted: Callable[..., Scripted]) -> None:
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []
    server = scripted(oauth("/token", google(service_account.private_key().public_key(), assertions), 400, (200, {})))
    key = service_account.key_file(f"{server.url}/token")
    channel = build("gcp_monitoring", "gcp", {"project_id": "my-proj", "service_account_key": key,
                                              "url": server.url})
    before = time.time()
    delivery = channel.send(ALERT)
    assert delivery.outcome is Outcome.DELIVERED, delivery
    token, post = server.seen
    assert (token.method, token.path, token.headers["content-type"]) == (
        "POST", "/token", "application/x-www-form-urlencoded")
    [(header, claims)] = assertions  # the signature verified with the account's public key
    assert header == {"alg": "RS256", "typ": "JWT", "kid": service_account.KEY_ID}
    assert {k: claims[k] for k in ("iss", "scope", "aud")} == {
        "iss": service_account.EMAIL, "scope": "https://www.googleapis.com/auth/monitoring.write",
        "aud": f"{server.url}/token"}
    assert before - 1 <= claims["iat"] <= time.time() and claims["exp"] - claims["iat"] == 3600
    assert (post.path, post.headers["authorization"]) == ("/v3/projects/my-proj/timeSeries", f"Bearer {ISSUED}")
    assert post.body["timeSeries"][0]["points"][0]["value"] == {"int64Value": "0"}


def test_gcp_monitoring_with_a_key_google_does_not_know_is_refused_permanently(
        scripted: Callable[..., Scripted]) -> None:
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []
    server = scripted(oauth("/token", google(service_account.private_key().public_key(), assertions), 400, (200, {})))
    other = service_account.key_file(f"{server.url}/token", service_account.private_key("another account's"))
    channel = build("gcp_monitoring", "gcp", {"project_id": "my-proj", "service_account_key": other,
                                              "url": server.url})
    delivery = channel.send(ALERT)
    assert delivery.outcome is Outcome.PERMANENT and delivery.attempts == 1, delivery
    assert "HTTP 400" in delivery.detail and "invalid_grant" in delivery.detail
    assert assertions == [] and [s.path for s in server.seen] == ["/token"]  # no series without a token


@pytest.mark.parametrize(("key", "says"), [
    ("not json {", "not JSON"),
    (json.dumps({"type": "service_account", "client_email": "x@y"}), "no private_key"),
    (json.dumps(["a list"]), "no client_email or private_key"),
    (json.dumps({"client_email": "x@y", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
     "not a PEM RSA private key"),
])
def test_gcp_monitoring_refuses_what_is_not_a_service_account_key(key: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says) as refused:
        build("gcp_monitoring", "gcp", {"project_id": "my-proj", "service_account_key": key})
    assert "AAAA" not in str(refused.value) and "x@y" not in str(refused.value)  # the key is never quoted
