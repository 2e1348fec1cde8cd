"""Email over SMTP with smtplib: STARTTLS, implicit TLS or plain; optional login; several
recipients.

Protocol: RFC 5321 (reply codes: 2yz done, 4yz transient, 5yz permanent, §4.2.1), STARTTLS
RFC 3207, implicit TLS on 465 RFC 8314; the library: https://docs.python.org/3/library/smtplib.html.
The mail is sent step by step (MAIL, RCPT, DATA) so the Delivery carries the server's own final
answer, e.g. "250 2.0.0 Ok: queued as 4F1C2".
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from bamon.notify.alert import Alert, Delivery, Outcome
from bamon.notify.channels.http import Retry, excerpt, retrying

_CLIENTS = {"tls": smtplib.SMTP_SSL, "starttls": smtplib.SMTP, "none": smtplib.SMTP}


def _said(code: int, text: bytes | str) -> str:
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return excerpt(f"{code} {words}")


def _by_code(code: int, text: bytes | str) -> tuple[Outcome, str, float | None]:
    if code < 0:  # smtplib's -1: the line was no SMTP reply at all
        return Outcome.TRANSIENT, "malformed reply (not SMTP)", None
    return (Outcome.TRANSIENT if 400 <= code < 500 else Outcome.PERMANENT), _said(code, text), None


def _failure(exc: BaseException, timeout: float) -> tuple[Outcome, str, float | None]:
    """The exception as a Delivery's outcome and words (never its traceback)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted(exc.recipients.values())
        code, text = codes[0] if codes else (550, b"all recipients refused")
        return _by_code(code, text)
    if isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPConnectError)):
        return _by_code(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Outcome.PERMANENT, f"the server does not support that: {exc}", None
    # smtplib reports a read timeout as a disconnection ("… closed: timed out")
    if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in str(exc):
        return Outcome.TRANSIENT, f"no answer within {timeout:g}s (timeout)", None
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Outcome.TRANSIENT, "connection closed without a reply", None
    if isinstance(exc, ConnectionRefusedError):
        return Outcome.TRANSIENT, "connection refused", None
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Outcome.PERMANENT, f"TLS certificate not trusted: {exc.verify_message}", None
    if isinstance(exc, socket.gaierror):
        return Outcome.TRANSIENT, "host name not found", None
    return Outcome.TRANSIENT, f"network error ({type(exc).__name__})", None


class Email:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.server = str(settings["smtp_server"])
        self.security = str(settings.get("security", "starttls"))
        self.port = int(settings.get("port") or (465 if self.security == "tls" else 587))
        self.username, self.password = settings.get("username"), settings.get("password")
        to = settings["to"]
        self.to = [str(to)] if isinstance(to, str) else [str(t) for t in to]
        self.sender = str(settings.get("from") or f"bamon@{socket.getfqdn()}")
        self.retry = Retry.of(settings)

    def message(self, alert: Alert) -> EmailMessage:
        # The SMTP policy: CRLF line ends. smtplib sends bytes as they are, and servers patched
        # against SMTP smuggling (aiosmtpd since 1.4.5 and Debian's fix, Postfix with
        # smtpd_forbid_bare_newline) split DATA on CRLF only, so a bare-LF mail read as one line
        # and any alert over 1,000 bytes was refused ("500 Line too long").
        mail = EmailMessage(policy=policy.SMTP)
        mail["Subject"] = alert.title
        mail["From"], mail["To"] = self.sender, ", ".join(self.to)
        mail["Date"], mail["Message-ID"] = formatdate(alert.created, localtime=True), make_msgid("bamon")
        mail["X-Bamon-Check"], mail["X-Bamon-Alert"] = alert.check, alert.id
        mail.set_content(alert.body)
        return mail

    def _once(self, alert: Alert) -> tuple[Outcome, str, float | None]:
        timeout = self.retry.timeout
        context = ssl.create_default_context()
        try:
            extra = {"context": context} if self.security == "tls" else {}
            with _CLIENTS[self.security](self.server, self.port, timeout=timeout, **extra) as smtp:
                smtp.ehlo()
                if self.security == "starttls":
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if self.username:
                    smtp.login(str(self.username), str(self.password or ""))
                code, text = smtp.mail(self.sender)
                if code != 250:
                    return _by_code(code, text)
                refused = {r: reply for r in self.to if (reply := smtp.rcpt(r))[0] not in (250, 251)}
                if len(refused) == len(self.to):
                    raise smtplib.SMTPRecipientsRefused(refused)
                code, text = smtp.data(self.message(alert).as_bytes())
                if code != 250:
                    return _by_code(code, text)
                skipped = f" ({len(refused)} recipient(s) refused)" if refused else ""
                return Outcome.DELIVERED, _said(code, text) + skipped, None
        except (smtplib.SMTPException, OSError) as exc:
            return _failure(exc, timeout)

    def send(self, alert: Alert) -> Delivery:
        return retrying(self.name, lambda: self._once(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> Email:
    return Email(name, settings)
