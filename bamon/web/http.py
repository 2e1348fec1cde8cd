"""Request plumbing every route shares: who is asking, reading JSON bodies, ETag responses."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from bamon.paths import Paths
from bamon.web.auth import Accounts, Identity, RateLimit
from bamon.web.errors import ApiError
from bamon.web.writer import Writer

COOKIE = "bamon_session"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 256 * 1024  # a check's command is a shell line, not a file
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class WebState:
    """Everything the routes share; one per app (request.app.state.web)."""

    paths: Paths
    accounts: Accounts
    writer: Writer
    logins: RateLimit = field(default_factory=RateLimit)
    extra: dict[str, Any] = field(default_factory=dict)


def state(request: HTTPConnection) -> WebState:
    web: WebState = request.app.state.web
    return web


def identify(request: HTTPConnection) -> Identity | None:
    """The caller: a Bearer token wins over a session cookie; None when neither is valid."""
    accounts = state(request).accounts
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        found = accounts.token_identity(auth[7:].strip())
        if found is None:
            raise ApiError("unauthenticated", "the API token is not valid", "create one with `bamon token create`")
        return found
    sid = request.cookies.get(COOKIE)
    return accounts.session_identity(sid) if sid else None


def requires(role: str) -> Callable[[Endpoint], Endpoint]:
    """Route decorator: the caller must have `role` (or a higher one); sessions must send the
    CSRF token on writes (a cookie alone cannot prove the page is ours)."""
    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            who = identify(request)
            if who is None:
                raise ApiError("unauthenticated", "log in or send an API token",
                               "POST /api/v1/session, or Authorization: Bearer <token>")
            if who.via == "session" and request.method not in SAFE:
                sent = request.headers.get(CSRF_HEADER, "")
                if not sent or not hmac.compare_digest(sent, who.csrf):
                    raise ApiError("csrf", "missing or wrong CSRF token", f"send the session's token in {CSRF_HEADER}")
            if not who.may(role):
                raise ApiError("forbidden", f"this needs the {role} role; {who.user} is {who.role}",
                               "ask an admin for a role that may do this")
            request.state.identity = who
            return await endpoint(request)
        return guarded
    return wrap


def who(request: Request) -> Identity:
    identity: Identity = request.state.identity
    return identity


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or a 4xx saying what is wrong with it."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise ApiError("too_large", f"the request body is larger than {MAX_BODY // 1024} KiB", "send less")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ApiError("too_large", f"the request body is larger than {MAX_BODY // 1024} KiB", "send less")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError("invalid_json", f"the body is not valid JSON: {exc}", "send a JSON object") from None
    if not isinstance(data, dict):
        raise ApiError("invalid_body", "the body must be a JSON object", 'for example {"name": "web", "command": "…"}')
    return data


def fields(data: dict[str, Any], allowed: dict[str, type | tuple[type, ...]], required: tuple[str, ...] = ()) -> None:
    """Checks a small request object (not a script entry: the config schema checks those)."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError("invalid_body", f"unknown field {unknown[0]!r}", f"fields: {', '.join(allowed)}")
    for key in required:
        if key not in data:
            raise ApiError("invalid_body", f"missing field {key!r}", f"fields: {', '.join(allowed)}")
    for key, kind in allowed.items():
        if key in data and (not isinstance(data[key], kind) or (isinstance(data[key], bool) and kind is not bool)):
            raise ApiError("invalid_body", f"field {key!r} has the wrong type", f"{key} must be {_kind_name(kind)}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    # isdigit() alone also passes "²", which int() refuses
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ApiError("invalid_query", f"{name} must be a whole number from {low} to {high}", f"?{name}={default}")
    return int(text)


def encode(data: Any) -> tuple[bytes, str]:
    """The JSON bytes of an answer and their ETag."""
    payload = json.dumps(data, separators=(",", ":"), default=str).encode()
    return payload, '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def respond(request: Request, data: Any, status: int = 200, encoded: tuple[bytes, str] | None = None) -> Response:
    """JSON; GET answers carry an ETag and become 304 when the client already has them.
    `encoded` passes bytes made earlier (the status cache keeps them between changes)."""
    payload, tag = encoded or encode(data)
    if request.method != "GET" or status != 200:
        return Response(payload, status, media_type="application/json")
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(payload, status, media_type="application/json", headers=headers)


def page(request: Request, items: list[Any]) -> dict[str, Any]:
    """?offset=&limit= over a list: {"items", "total", "offset", "limit"}."""
    offset = query_int(request, "offset", 0, 0, 10**9)
    limit = query_int(request, "limit", 100, 1, 1000)
    return {"items": items[offset:offset + limit], "total": len(items), "offset": offset, "limit": limit}


def json_error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "hint": ""}}, status)
