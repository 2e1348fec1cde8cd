"""Serving one collector's metric families over HTTP, scrape after scrape, through prometheus-client.

prometheus-client renders every sample anew on each scrape (~3 µs a sample: 12,000 samples for
1,000 checks took ~40 ms of CPU, most of a scrape), while between two scrapes most series keep
their value: a check's result, exit status, labels and counters change only when it runs. So
each family is rendered by prometheus-client on its own, and its text is kept with the rows it
was rendered from; the next scrape reuses the text of a family whose rows are equal, and renders
again any family with a changed row. The text is a function of the rows alone: it cannot go stale.

What goes out is what prometheus-client's own ASGI app (make_asgi_app) sends: the format the
scraper's Accept header asks for (text 0.0.4 or OpenMetrics, chosen by prometheus-client) and
gzip when Accept-Encoding allows it.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder, gzip_accepted

Row = tuple[tuple[str, ...], float]  # (label values, value): one sample
# OpenMetrics ends the whole exposition with this line, prometheus-client's encoder each
# rendering: it is cut from each family's text and written once at the end.
EOF = b"# EOF\n"
# gzip.compress()'s default level 9 (what prometheus-client uses) cost 7 ms for the 600 KB of
# 1,000 checks, level 6 (gzip's and Go's default) 2.7 ms for a body 3 % larger.
GZIP_LEVEL = 6
KINDS: dict[str, type[GaugeMetricFamily] | type[CounterMetricFamily]] = {
    "gauge": GaugeMetricFamily, "counter": CounterMetricFamily}


@dataclass(frozen=True)
class Family:
    """One metric family as plain values: what a prometheus-client family is built from."""

    name: str
    kind: str  # a key of KINDS
    help: str
    labels: tuple[str, ...]
    rows: tuple[Row, ...]

    def metric(self) -> Metric:
        family = KINDS[self.kind](self.name, self.help, labels=list(self.labels))
        for values, value in self.rows:
            family.add_metric(list(values), value)
        return family

    def renders_as(self, other: Family) -> bool:
        """Equal rows render equal text, except 0.0 and -0.0: equal numbers, printed apart."""
        return self == other and all(math.copysign(1.0, a) == math.copysign(1.0, b)
                                     for (_, a), (_, b) in zip(self.rows, other.rows, strict=True) if a == 0)


class _Fixed:
    """A collector of given families: what prometheus-client's encoders render (they call collect())."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


class Renderer:
    """The exposition of family after family, each rendered again only when its rows changed."""

    def __init__(self) -> None:
        # (content type, family name) → (the family as last rendered, its text): one entry per
        # series name and format, replaced when the rows change; it does not grow with scrapes.
        # Keyed by the content type, not the encoder: newer prometheus-clients hand out a new
        # functools.partial on every call, and the content type names the format exactly.
        self._done: dict[tuple[str, str], tuple[Family, bytes]] = {}
        self._ends: dict[str, bytes] = {}  # content type → what ends the whole exposition

    def render(self, families: Iterable[Family], encoder: Callable[[Any], bytes], content_type: str) -> bytes:
        parts = []
        for family in families:
            done = self._done.get((content_type, family.name))
            if done is None or not done[0].renders_as(family):
                text = encoder(_Fixed([family.metric()]))
                self._ends[content_type] = EOF if text.endswith(EOF) else b""
                done = (family, text.removesuffix(EOF))
                self._done[(content_type, family.name)] = done
            parts.append(done[1])
        return b"".join(parts) + self._ends.get(content_type, b"")


def _header(scope: dict[str, Any], name: bytes) -> str:
    return ",".join(value.decode("utf-8", "replace") for key, value in scope.get("headers", []) if key.lower() == name)


def asgi_app(families: Callable[[], list[Family]]) -> Any:
    """An ASGI application answering each request with the exposition of fresh families."""
    renderer = Renderer()

    async def app(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        encoder, content_type = choose_encoder(_header(scope, b"accept"))
        body = renderer.render(families(), encoder, content_type)
        headers = [(b"content-type", content_type.encode())]
        if gzip_accepted(_header(scope, b"accept-encoding")):
            body = gzip.compress(body, GZIP_LEVEL)
            headers.append((b"content-encoding", b"gzip"))
        request = await receive()
        if request.get("type") == "http.request":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    return app
