"""The ASGI application: routes, security headers, activity tracking, errors as JSON."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bamon.context import Context
from bamon.integrations import prometheus
from bamon.paths import Paths
from bamon.web import api_account, api_deliveries, api_fleet, api_history, api_scripts, events, openapi
from bamon.web.auth import Accounts
from bamon.web.errors import HANDLERS
from bamon.web.http import WebState
from bamon.web.store import JsonStore
from bamon.web.writer import LocalWriter, Writer

STATIC = Path(__file__).with_name("static")
HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


@dataclass
class Activity:
    """When the service last served anything, and how many connections are open: the idle
    exit in server.py waits until nothing is open and nothing happened for web.idle_exit."""

    last: float = 0.0
    open: int = 0

    def __post_init__(self) -> None:
        self.last = time.monotonic()


class Middleware:
    """Security headers on every answer; counts open requests and WebSockets."""

    def __init__(self, app: ASGIApp, activity: Activity) -> None:
        self.app, self.activity = app, activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in names]
            await send(message)

        self.activity.open += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.activity.open -= 1
            self.activity.last = time.monotonic()


class _AsgiEndpoint:
    """Serve a plain ASGI function at one exact path (Mount wants a trailing slash; Route
    calls a function as a request handler, an object as an ASGI app)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def create_app(paths: Paths, state_dir: Path, writer: Writer | None = None,
               source: events.Source | None = None, activity: Activity | None = None) -> Any:
    """The app for one config: `writer` defaults to writing in-process (needs root)."""
    status = api_scripts.StatusCache(lambda: Context(paths))
    broadcaster = events.Broadcaster(source or events.journal_source(paths.user_mode),
                                     on_event=lambda event: status.invalidate())
    api: list[BaseRoute] = [*api_scripts.ROUTES, *api_history.ROUTES, *api_deliveries.ROUTES, *api_account.ROUTES,
                            *api_fleet.ROUTES]
    routes: list[BaseRoute] = [
        *api,
        *events.ROUTES,
        Route("/api/v1/openapi.json", openapi.route(api), methods=["GET"]),
        # Prometheus scrapes without a session: the exposition holds check names and results only
        # (no output, no config), and the service listens on localhost unless told otherwise.
        Route("/metrics", _AsgiEndpoint(prometheus.app(paths))),
        Mount("/", StaticFiles(directory=STATIC, html=True)),
    ]
    app = Starlette(routes=routes, exception_handlers=HANDLERS)
    app.state.web = WebState(paths, Accounts(state_dir), writer or LocalWriter(paths),
                             extra={"status": status, "events": broadcaster,
                                    "layouts": JsonStore(state_dir / "layouts.json")})
    return Middleware(app, activity or Activity())
