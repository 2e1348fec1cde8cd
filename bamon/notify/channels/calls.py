"""Channels that need more than one request per alert (a token first, an event then a metric,
find-or-create an issue): each request goes through the shared HTTP helper (same timeouts,
same sorting of answers), and the JSON of a 2xx answer is kept for the next step.

Also where ticketing channels keep which ticket belongs to which failure episode: one small
file per episode under the alert state directory, replaced atomically.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bamon.atomic import atomic_write
from bamon.notify.alert import Delivery, Outcome
from bamon.notify.channels.http import Request, Retry, attempt, retrying

Answer = tuple[Outcome, str, float | None]


@dataclass
class Reply:
    """The outcome of one call, and the JSON it answered (None when not JSON or not 2xx)."""

    outcome: Outcome
    detail: str
    retry_after: float | None
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def call(request: Request, retry: Retry) -> Reply:
    """One request with the channel's timeout (no retries: the whole flow is retried)."""
    holder: list[Any] = []

    def keep(response: requests.Response) -> str | None:
        try:
            holder.append(response.json() if response.content else None)
        except ValueError:
            holder.append(None)
        return None

    outcome, detail, after = attempt(request, retry.timeout, keep)
    return Reply(outcome, detail, after, holder[0] if holder and outcome is Outcome.DELIVERED else None)


def flow(name: str, steps: Callable[[], Iterable[Reply]], retry: Retry) -> Delivery:
    """Run the steps (a generator of calls) until one is not delivered; retry the whole flow
    on transient failures. The Delivery carries the last call's words."""

    def once() -> Answer:
        last = Reply(Outcome.DELIVERED, "nothing to do", None)
        for reply in steps():
            last = reply
            if not reply.ok:
                break
        return last.outcome, last.detail, last.retry_after

    return retrying(name, once, retry)


def failed(outcome: Outcome, detail: str) -> Reply:
    """A step that failed without a request (an answer without the expected field, say)."""
    return Reply(outcome, detail, None)


def access_token(reply: Reply) -> str | None:
    """The access_token of an OAuth 2.0 token endpoint's 2xx answer (RFC 6749 §5.1), if it gave one."""
    token = reply.data.get("access_token") if isinstance(reply.data, dict) else None
    return str(token) if token else None


def no_token(reply: Reply) -> Reply:
    """A token endpoint that said yes without a token: asking again will not change that."""
    return failed(Outcome.PERMANENT, f"{reply.detail} (no access_token from the token endpoint)")


class EpisodeTickets:
    """Which ticket a failure episode opened, per channel: <alert state dir>/tickets/CHANNEL/KEY.

    The notifier handles one check's alerts one at a time, and each episode has its own file,
    so no lock is needed; atomic replacement keeps a crash from leaving half a key.
    """

    def __init__(self, channel: str, base: Path | None = None) -> None:
        if base is None:
            from bamon.paths import resolve

            base = resolve(user_mode=os.geteuid() != 0).alert_state_dir  # the notifier's own mode
        self.dir = base / "tickets" / channel

    def _file(self, episode: str) -> Path:
        return self.dir / hashlib.sha256(episode.encode()).hexdigest()[:32]

    def get(self, episode: str) -> str | None:
        try:
            return self._file(episode).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def put(self, episode: str, ticket: str) -> None:
        atomic_write(self._file(episode), ticket + "\n", mode=0o600)

    def drop(self, episode: str) -> None:
        self._file(episode).unlink(missing_ok=True)


def basic(user: object, secret: object) -> str:
    """An HTTP Basic Authorization value."""
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@dataclass(frozen=True)
class Api:
    """A JSON API under one base URL with one Authorization header."""

    base: str
    auth: str
    retry: Retry

    def request(self, method: str, path: str, payload: Any = None) -> Reply:
        headers = {"Authorization": self.auth, "Accept": "application/json"}
        url = self.base.rstrip("/") + path
        return call(Request.json(url, payload, headers, method) if payload is not None
                    else Request(method, url, headers=headers), self.retry)


def episode_label(episode: str) -> str:
    """A short, stable tag for an episode that ticket systems accept as a label/correlation id."""
    return "bamon-" + hashlib.sha256(episode.encode()).hexdigest()[:16]
