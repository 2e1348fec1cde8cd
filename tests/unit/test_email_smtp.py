"""The email channel against a real SMTP server (aiosmtpd): STARTTLS, implicit TLS, AUTH, several
recipients, and what the server answered in the Delivery."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from receiver import Receiver, closed_port
from test_channels import ALERT

from bamon.notify.alert import Outcome
from bamon.notify.channels import build


@dataclass
class Inbox:
    mails: list[Any] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.endswith("@invalid"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 2.0.0 Ok: queued as 4F1C2"


def _login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"pw")
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.fixture
def smtp(tls: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch,
         request: pytest.FixtureRequest) -> Iterator[tuple[Inbox, int]]:
    cert, context = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's own CA
    inbox, port = Inbox(), closed_port()
    implicit = getattr(request, "param", "starttls") == "tls"
    options: dict[str, Any] = {"ssl_context": context} if implicit else {
        "tls_context": context, "require_starttls": True, "auth_required": True, "authenticator": _login}
    if implicit:
        options.update(auth_required=True, authenticator=_login, auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    yield inbox, port
    controller.stop()


SETTINGS = {"smtp_server": "127.0.0.1", "username": "alerts", "password": "pw", "from": "bamon@example.com",
            "to": ["ops@example.com", "oncall@example.com"], "timeout": 5, "retries": 0}


def test_starttls_auth_and_several_recipients(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    delivery = build("email", "mail", {**SETTINGS, "port": port, "security": "starttls"}).send(ALERT)
    assert (delivery.outcome, delivery.detail) == (Outcome.DELIVERED, "250 2.0.0 Ok: queued as 4F1C2")
    (mail,) = inbox.mails
    assert mail.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    text = mail.content.decode()
    assert "Subject: web FAILED" in text and "X-Bamon-Check: web" in text and "connection refused" in text


def test_a_long_alert_is_sent_with_crlf_line_ends_and_arrives_whole(smtp: tuple[Inbox, int]) -> None:
    """A mail of bare LFs is one line to a server that reads DATA by CRLF only (aiosmtpd with the
    SMTP-smuggling fix, Postfix's smtpd_forbid_bare_newline): over 1,000 bytes it was refused."""
    inbox, port = smtp
    body = ALERT.body + "".join(f"  | output line {n} of a chatty check\n" for n in range(60))
    alert = replace(ALERT, body=body)
    delivery = build("email", "mail", {**SETTINGS, "port": port, "security": "starttls"}).send(alert)
    assert (delivery.outcome, delivery.detail) == (Outcome.DELIVERED, "250 2.0.0 Ok: queued as 4F1C2")
    content = inbox.mails[0].content
    assert len(content) > 2000 and b"\n" not in content.replace(b"\r\n", b"")
    assert b"output line 59 of a chatty check" in content


@pytest.mark.parametrize("smtp", ["tls"], indirect=True)
def test_implicit_tls(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    delivery = build("email", "mail", {**SETTINGS, "port": port, "security": "tls"}).send(ALERT)
    assert delivery.outcome is Outcome.DELIVERED and len(inbox.mails) == 1


def test_a_wrong_password_is_permanent_and_says_what_the_server_said() -> None:
    # aiosmtpd 1.4 never answers a failed AUTH PLAIN; the scripted receiver does, as servers do.
    server = Receiver(protocol="smtp", auth_code="535 5.7.8 Authentication credentials invalid")
    try:
        settings = {**SETTINGS, "port": server.port, "security": "none", "password": "nope"}
        delivery = build("email", "mail", settings).send(ALERT)
    finally:
        server.close()
    assert delivery.outcome is Outcome.PERMANENT
    assert delivery.detail == "535 5.7.8 Authentication credentials invalid"


def test_one_refused_recipient_does_not_stop_the_others(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = {**SETTINGS, "port": port, "to": ["ops@example.com", "nobody@invalid"]}
    delivery = build("email", "mail", settings).send(ALERT)
    assert delivery.outcome is Outcome.DELIVERED and "(1 recipient(s) refused)" in delivery.detail
    assert inbox.mails[0].rcpt_tos == ["ops@example.com"]
