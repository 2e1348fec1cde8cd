"""/metrics scrape after scrape (bamon/integrations/scrape.py): each family rendered by
prometheus-client again only when its rows changed, and the whole answer byte for byte what
prometheus-client renders from the same snapshot at once, in both formats, gzip or not."""

from __future__ import annotations

import asyncio
import gzip
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client.exposition import choose_encoder
from test_prometheus import snapshot  # noqa: F401  # the fixture: passing, failing, never-run, disabled checks

from bamon.integrations import prometheus, scrape
from bamon.integrations.counters import Tally

TEXT = choose_encoder("")
OPENMETRICS = choose_encoder("application/openmetrics-text; version=1.0.0")


def at_once(snap: prometheus.Snapshot, encoder: Any) -> bytes:
    """What prometheus-client renders of the whole snapshot in one call (`bamon metrics` does this)."""
    return bytes(encoder(prometheus.registry(lambda: snap)))


def changed(snap: prometheus.Snapshot) -> prometheus.Snapshot:
    """The next scrape: `disk` ran once more, one custom metric went from 0 to -0, time moved on
    (no timer is active in the fixture: no next run)."""
    checks = [c if c.script.name != "disk" or c.record is None else
              replace(c, record=replace(c.record, start_us=c.record.start_us + 60_000_000,
                                        end_us=c.record.end_us + 61_000_000)) for c in snap.checks]
    counters = replace(snap.counters, checks={**snap.counters.checks, "disk": Tally(3, 3, 1)})
    return prometheus.Snapshot(checks, counters, snap.generated + 30, {**snap.perfdata, "web": [("rt", "s", -0.0)]})


@pytest.mark.parametrize("chosen", [TEXT, OPENMETRICS], ids=["text", "openmetrics"])
def test_scrapes_render_what_prometheus_client_renders_at_once(snapshot: prometheus.Snapshot,  # noqa: F811
                                                               chosen: tuple[Any, str]) -> None:
    encoder, content_type = chosen
    rendered: list[str] = []

    def counting(collector: Any) -> bytes:
        rendered.extend(m.name for m in collector.collect())
        return bytes(encoder(collector))

    first = prometheus.Snapshot(snapshot.checks, snapshot.counters, snapshot.generated,
                                {"web": [("rt", "s", 0.0)], "disk": [("/", "MB", 2643.0)]})
    renderer = scrape.Renderer()
    assert renderer.render(prometheus.families(first), counting, content_type) == at_once(first, encoder)
    assert len(rendered) == len(prometheus.families(first))  # every family once
    rendered.clear()
    # nothing ran: only the generation stamp is new
    again = replace(first, generated=first.generated + 15)
    assert renderer.render(prometheus.families(again), counting, content_type) == at_once(again, encoder)
    assert rendered == [prometheus.GENERATED]
    rendered.clear()
    # disk ran, a metric printed -0 where it printed 0 (equal numbers, other text)
    later = changed(first)
    assert renderer.render(prometheus.families(later), counting, content_type) == at_once(later, encoder)
    assert set(rendered) == {"bamon_check_duration_seconds", "bamon_check_last_run_timestamp_seconds",
                             "bamon_check_runs", "bamon_check_failures",
                             prometheus.PERFDATA, prometheus.GENERATED}
    assert b'bamon_check_metric{check="web",metric="rt",unit="s"} -0.0' in at_once(later, encoder)
    # a check removed from the config: its rows go, the text follows
    fewer = replace(later, checks=[c for c in later.checks if c.script.name != "web"])
    assert renderer.render(prometheus.families(fewer), encoder, content_type) == at_once(fewer, encoder)


def ask(app: Any, headers: list[tuple[bytes, bytes]]) -> tuple[dict[str, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"", "headers": headers}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_the_scraper_gets_the_format_and_encoding_it_asks_for(snapshot: prometheus.Snapshot) -> None:  # noqa: F811
    app = prometheus.asgi_app(lambda: snapshot)
    headers, body = ask(app, [])
    assert headers == {b"content-type": TEXT[1].encode()} and body == at_once(snapshot, TEXT[0])
    # what Prometheus sends: OpenMetrics first, gzip
    prometheus_asks = [(b"Accept", b"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                                   b"version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                       (b"Accept-Encoding", b"gzip")]
    headers, body = ask(app, prometheus_asks)
    encoder, content_type = choose_encoder(prometheus_asks[0][1].decode())
    assert headers == {b"content-type": content_type.encode(), b"content-encoding": b"gzip"}
    assert gzip.decompress(body) == at_once(snapshot, encoder) and gzip.decompress(body).count(b"# EOF") == 1
    # the text format again after OpenMetrics: each format keeps its own texts
    assert ask(app, [])[1] == at_once(snapshot, TEXT[0])
