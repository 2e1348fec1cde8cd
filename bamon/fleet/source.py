"""Prometheus' HTTP query API (GET /api/v1/query): the one place bamon talks to a Prometheus.

Only instant queries are used, so anything that speaks the same API (Thanos, Mimir,
VictoriaMetrics) serves as well. The HTTP fetch is injectable: unit tests answer with canned
bodies instead of a server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bamon.errors import BamonError

TIMEOUT_S = 10
HINT = "check fleet.prometheus_url (or --prometheus URL) and that Prometheus is up"

# (url, query parameters) → (HTTP status, decoded JSON body or None when it was not JSON)
Fetch = Callable[[str, Mapping[str, str]], tuple[int, Any]]


def http_fetch(url: str, params: Mapping[str, str]) -> tuple[int, Any]:
    import requests  # only here: `bamon status` and friends never pay for importing it

    try:
        answer = requests.get(url, params=dict(params), timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        raise ConnectionError(str(exc)) from None
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


@dataclass(frozen=True)
class Sample:
    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class Answer:
    time: float  # when Prometheus evaluated the query (its clock, UNIX seconds)
    samples: tuple[Sample, ...]


class Prometheus:
    def __init__(self, base_url: str, fetch: Fetch = http_fetch) -> None:
        self.base_url = base_url.rstrip("/")
        self._fetch = fetch

    def query(self, expr: str) -> Answer:
        """An instant query whose result is a vector (every query bamon asks is one)."""
        try:
            status, body = self._fetch(f"{self.base_url}/api/v1/query", {"query": expr})
        except ConnectionError as exc:
            raise BamonError(f"cannot reach Prometheus at {self.base_url}: {_short(str(exc))}", HINT) from None
        if not isinstance(body, dict) or "status" not in body:
            raise BamonError(f"{self.base_url} did not answer as Prometheus' query API (HTTP {status})",
                             "the URL is the Prometheus base URL, e.g. http://prometheus.example.com:9090")
        if body["status"] != "success":
            raise BamonError(f"Prometheus at {self.base_url} refused the query {expr!r}: "
                             f"{body.get('error', 'no reason given')}", HINT)
        data = body.get("data") or {}
        if data.get("resultType") != "vector":
            raise BamonError(f"Prometheus at {self.base_url} answered {expr!r} with a "
                             f"{data.get('resultType')}, not a vector", HINT)
        samples, at = [], 0.0
        for item in data.get("result") or []:
            at, value = float(item["value"][0]), float(item["value"][1])
            samples.append(Sample(dict(item.get("metric") or {}), value))
        return Answer(at, tuple(samples))


def _short(reason: str) -> str:
    """requests' reasons nest the whole exception chain; the last part says what happened."""
    last = reason.rsplit(": ", 1)[-1].strip(" ')\"")
    return last or reason
