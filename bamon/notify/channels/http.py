"""Shared HTTP delivery for every webhook-style channel: one request, bounded retries, and the
receiver's answer sorted into delivered, transient (worth the outbox) or permanent.

Details are built from the answer only, never from the exception text: requests puts the URL
in its messages, and a webhook URL is often the secret itself.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from bamon.notify.alert import Alert, Delivery, Outcome


@dataclass(frozen=True)
class Retry:
    """How hard one `send` tries before the outbox takes over."""

    timeout: float = 10.0  # seconds to connect, and again to wait for the answer
    retries: int = 2  # further attempts after the first, for transient failures only
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_wait: float = 10.0  # a longer Retry-After is left to the outbox, not slept through

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Retry:
        return cls(timeout=float(settings.get("timeout", 10)), retries=int(settings.get("retries", 2)))


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, url: str, payload: Any, headers: Mapping[str, str] | None = None,
             method: str = "POST") -> Request:
        return cls(method, url, json.dumps(payload).encode(),
                   {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def form(cls, url: str, fields: Mapping[str, str]) -> Request:
        """A POST of an HTML form body: what OAuth 2.0 token endpoints take (RFC 6749 §4.4.2)."""
        return cls("POST", url, urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


# A channel's own look at a 2xx answer: a complaint (the reply is malformed), or None.
Check = Callable[[requests.Response], str | None]

_NETWORK = (  # (text in the exception chain, what to tell the operator)
    ("BadStatusLine", "malformed reply (not HTTP)"),
    ("RemoteDisconnected", "connection closed without a reply"),
    ("Connection aborted", "connection closed without a reply"),
    ("ConnectionResetError", "connection reset by the receiver"),
    ("Connection refused", "connection refused"),
    ("Name or service not known", "host name not found"),
    ("Temporary failure in name resolution", "host name not found"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
)


def excerpt(text: str, limit: int = 200) -> str:
    """The receiver's words on one bounded line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _answer(response: requests.Response, check: Check | None) -> tuple[Outcome, str, float | None]:
    status = response.status_code
    detail = f"HTTP {status} {response.reason or ''}".rstrip()
    said = excerpt(response.text)
    detail += f": {said}" if said else ""
    if 200 <= status < 300:
        complaint = check(response) if check else None
        return (Outcome.TRANSIENT, f"{detail} (malformed reply: {complaint})", None) if complaint \
            else (Outcome.DELIVERED, detail, None)
    if status == 429:
        return Outcome.TRANSIENT, detail, retry_after(response.headers.get("Retry-After"))
    if status in (408, 425) or status >= 500:
        return Outcome.TRANSIENT, detail, retry_after(response.headers.get("Retry-After"))
    return Outcome.PERMANENT, detail, None  # other 4xx (and 3xx not followed): fix the settings


def _network(exc: requests.RequestException, timeout: float) -> tuple[Outcome, str]:
    if isinstance(exc, requests.Timeout):
        return Outcome.TRANSIENT, f"no answer within {timeout:g}s (timeout)"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader)):
        return Outcome.PERMANENT, f"invalid request settings ({type(exc).__name__})"
    chain = repr(exc)
    reason = next((said for text, said in _NETWORK if text in chain), f"network error ({type(exc).__name__})")
    return Outcome.TRANSIENT, reason


def attempt(request: Request, timeout: float, check: Check | None = None) -> tuple[Outcome, str, float | None]:
    """One request; never raises."""
    try:
        response = requests.request(request.method, request.url, data=request.body,
                                    headers=dict(request.headers), timeout=(timeout, timeout))
    except requests.RequestException as exc:
        return (*_network(exc, timeout), None)
    except (ValueError, UnicodeError) as exc:  # e.g. a header value requests refuses
        return Outcome.PERMANENT, f"invalid request settings ({type(exc).__name__})", None
    with response:
        return _answer(response, check)


Attempt = Callable[[], tuple[Outcome, str, float | None]]


def send(name: str, request: Request, retry: Retry, check: Check | None = None) -> Delivery:
    """Send with bounded retries on transient failures; the last answer is the Delivery."""
    return retrying(name, lambda: attempt(request, retry.timeout, check), retry)


def retrying(name: str, once: Attempt, retry: Retry) -> Delivery:
    """Call `once` until it is not transient, at most 1 + retry.retries times."""
    attempts = 0
    while True:
        attempts += 1
        outcome, detail, after = once()
        if outcome is not Outcome.TRANSIENT or attempts > retry.retries:
            break
        wait = after if after is not None else retry.backoff * 2 ** (attempts - 1)
        if wait > retry.max_wait:
            break
        time.sleep(wait)
    return Delivery(name, outcome, detail, attempts, after)


def json_reply(response: requests.Response) -> str | None:
    """A Check for receivers documented to answer JSON."""
    try:
        response.json()
    except ValueError:
        return "the body is not JSON"
    return None


class JsonChannel:
    """A channel that POSTs `payload(alert)` as JSON to one URL: most chat and paging services."""

    def __init__(self, name: str, url: str, payload: Callable[[Alert], Any], retry: Retry,
                 check: Check | None = None, headers: Mapping[str, str] | None = None) -> None:
        self.name, self.url, self.payload, self.retry = name, url, payload, retry
        self.check, self.headers = check, dict(headers or {})

    def send(self, alert: Alert) -> Delivery:
        return send(self.name, Request.json(self.url, self.payload(alert), self.headers), self.retry, self.check)
