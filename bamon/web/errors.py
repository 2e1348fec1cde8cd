"""JSON errors with stable codes: {"error": {"code", "message", "hint"}}.

Clients branch on `code`; `message` and `hint` are the same words the CLI prints. Every
exception a route can raise ends here as a 4xx; a 500 means a bug, and is still JSON.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bamon.errors import BamonError

# BamonError.code → HTTP status; codes not listed are a 422 (the request cannot be done as asked)
STATUS = {
    "not_found": 404, "conflict": 409, "unauthenticated": 401, "forbidden": 403, "csrf": 403,
    "rate_limited": 429, "too_large": 413, "invalid_json": 400, "invalid_body": 400,
    "invalid_query": 400, "unavailable": 503, "method_not_allowed": 405,
}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
log = logging.getLogger("bamon.web")


class ApiError(BamonError):
    """A request the API refuses, with its stable code (see STATUS)."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message, hint, code=code)


def body(code: str, message: str, hint: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message, "hint": hint}}


async def bamon_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BamonError)
    code = exc.code
    headers = {"WWW-Authenticate": 'Bearer realm="bamon"'} if code == "unauthenticated" else None
    return JSONResponse(body(code, exc.message, exc.hint), STATUS.get(code, 422), headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "invalid")
    return JSONResponse(body(code, str(exc.detail), "see /api/v1/openapi.json for the routes"),
                        exc.status_code, headers=getattr(exc, "headers", None))


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(body("internal", "internal error", "see journalctl -u bamon.web.service"), 500)


HANDLERS = {BamonError: bamon_error, HTTPException: http_error, Exception: unexpected}
