"""/api/v1/scripts, /api/v1/status, /api/v1/execute: the seed's routes.

Reads assemble status the way `bamon status` does (bamon.history.status.collect), cached for a
second so fifty dashboards polling at once cost one collection; the live feed drops the cache
as soon as a run lands. Writes go through the writer (bamon.manage underneath).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bamon.context import Context
from bamon.history.status import collect
from bamon.status_json import VERSION, check
from bamon.web.errors import ApiError
from bamon.web.http import Endpoint, encode, page, read_json, requires, respond, state, who

STATUS_WORDS = ("OK", "FAILED", "WARNING", "UNKNOWN", "RUNNING", "SKIPPED", "DISABLED")


class StatusCache:
    """The status of every check, at most `ttl` seconds old; one collection at a time."""

    def __init__(self, ctx_factory: Any, ttl: float = 1.0) -> None:
        self._factory, self.ttl = ctx_factory, ttl
        self._value: list[dict[str, Any]] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()
        self._encoded: dict[str, tuple[bytes, str]] = {}  # answers made from this value
        self.status_keys: tuple[str, ...] = ()  # the keys of `bamon status --json` per check

    def invalidate(self) -> None:
        self._value = None

    async def encoded(self, key: str, build: Callable[[list[dict[str, Any]]], Any]) -> tuple[bytes, str]:
        """The JSON of `build(status)`, made once per collected status: with fifty dashboards
        polling, serialising 200 checks for each request would be most of the work."""
        checks = await self.get()
        if key not in self._encoded:
            if len(self._encoded) >= 64:  # queries vary without bound; keep the common ones cheap
                self._encoded.clear()
            self._encoded[key] = encode(build(checks))
        return self._encoded[key]

    async def get(self) -> list[dict[str, Any]]:
        async with self._lock:
            if self._value is None or time.monotonic() - self._at > self.ttl:
                self._value = await run_in_threadpool(self._collect)
                self._at = time.monotonic()
                self._encoded = {}
            return self._value

    def _collect(self) -> list[dict[str, Any]]:
        ctx: Context = self._factory()
        result = []
        for c in collect(ctx.config(), ctx.paths, ctx.systemd, ctx.journal):
            entry = check(c)  # the CLI's document, so the API and `bamon status --json` agree
            self.status_keys = tuple(entry)
            result.append({**c.script.settings(), **entry})
        return result


def cache(request: Request) -> StatusCache:
    found: StatusCache = state(request).extra["status"]
    return found


def _filtered(request: Request, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tag, word = request.query_params.get("tag"), request.query_params.get("status")
    if word is not None and word.upper() not in STATUS_WORDS:
        raise ApiError("invalid_query", f"status must be one of {', '.join(STATUS_WORDS)}", "?status=FAILED")
    return [c for c in checks if (tag is None or tag in c["tags"]) and (word is None or c["status"] == word.upper())]


async def one_check(request: Request) -> dict[str, Any]:
    name = request.path_params["id"]
    found = next((c for c in await cache(request).get() if c["name"] == name), None)
    if found is None:
        raise ApiError("not_found", f"no script named {name!r}", "GET /api/v1/scripts lists them")
    return found


@requires("viewer")
async def list_scripts(request: Request) -> Response:
    """
    summary: The checks with their settings and current status
    parameters:
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
      - {name: tag, in: query, schema: {type: string}}
      - {name: status, in: query, schema: {type: string}}
    responses:
      200: {description: A page of checks, content: {application/json: {schema: {$ref: "#/components/schemas/Page"}}}}
    """
    key = f"scripts?{request.url.query}"  # the page depends on nothing but the query
    checks = await cache(request).get()
    encoded = await cache(request).encoded(key, lambda _: page(request, _filtered(request, checks)))
    return respond(request, None, encoded=encoded)


@requires("viewer")
async def status(request: Request) -> Response:
    """
    summary: Status of every check, as `bamon status --json`
    responses:
      200: {description: Status, content: {application/json: {schema: {$ref: "#/components/schemas/Status"}}}}
    """
    status_cache = cache(request)
    encoded = await status_cache.encoded("status", lambda checks: {
        "version": VERSION, "scripts": [{k: c[k] for k in status_cache.status_keys} for c in checks]})
    return respond(request, None, encoded=encoded)


@requires("viewer")
async def get_script(request: Request) -> Response:
    """
    summary: One check's settings and status
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: The check, content: {application/json: {schema: {$ref: "#/components/schemas/Script"}}}}
      404: {$ref: "#/components/responses/Error"}
    """
    return respond(request, await one_check(request))


async def _write(request: Request, op: str, name: str, data: dict[str, Any], status_code: int = 200) -> Response:
    web = state(request)
    result = await run_in_threadpool(web.writer, op, name, data, who(request).user)
    cache(request).invalidate()
    return respond(request, result, status_code)


@requires("admin")
async def create_script(request: Request) -> Response:
    """
    summary: Add a check (validated exactly as `bamon add`)
    requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/ScriptInput"}}}}
    responses:
      201: {description: Added, content: {application/json: {schema: {$ref: "#/components/schemas/Change"}}}}
      409: {$ref: "#/components/responses/Error"}
      422: {$ref: "#/components/responses/Error"}
    """
    data = await read_json(request)
    name = data.pop("name", None)
    if not isinstance(name, str):
        raise ApiError("invalid_body", "the check needs a name (a string)", 'for example {"name": "web", …}')
    return await _write(request, "add", name, data, 201)


@requires("admin")
async def update_script(request: Request) -> Response:
    """
    summary: Replace a check's settings (validated as `bamon add` would)
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/ScriptInput"}}}}
    responses:
      200: {description: Replaced, content: {application/json: {schema: {$ref: "#/components/schemas/Change"}}}}
      404: {$ref: "#/components/responses/Error"}
      422: {$ref: "#/components/responses/Error"}
    """
    return await _write(request, "update", request.path_params["id"], await read_json(request))


@requires("admin")
async def delete_script(request: Request) -> Response:
    """
    summary: Remove a check, its units and its state
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: Removed, content: {application/json: {schema: {$ref: "#/components/schemas/Change"}}}}
      404: {$ref: "#/components/responses/Error"}
    """
    return await _write(request, "remove", request.path_params["id"], {})


def _toggle(action: str) -> Endpoint:
    @requires("operator")
    async def toggle(request: Request) -> Response:
        return await _write(request, action, request.path_params["id"], {})
    toggle.__doc__ = f"""
    summary: {action.capitalize()} a check's timer
    parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}]
    responses:
      200: {{description: Done, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Change"}}}}}}}}
      404: {{$ref: "#/components/responses/Error"}}
    """
    return toggle


@requires("operator")
async def execute(request: Request) -> Response:
    """
    summary: Run a check now (returns at once; the result arrives on /api/v1/events)
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    responses:
      202: {description: Started, content: {application/json: {schema: {$ref: "#/components/schemas/Change"}}}}
      404: {$ref: "#/components/responses/Error"}
    """
    return await _write(request, "execute", request.path_params["id"], {}, 202)


ROUTES = [
    Route("/api/v1/scripts", list_scripts, methods=["GET"]),
    Route("/api/v1/scripts", create_script, methods=["POST"]),
    Route("/api/v1/scripts/{id}", get_script, methods=["GET"]),
    Route("/api/v1/scripts/{id}", update_script, methods=["PUT"]),
    Route("/api/v1/scripts/{id}", delete_script, methods=["DELETE"]),
    Route("/api/v1/scripts/{id}/enable", _toggle("enable"), methods=["POST"]),
    Route("/api/v1/scripts/{id}/disable", _toggle("disable"), methods=["POST"]),
    Route("/api/v1/status", status, methods=["GET"]),
    Route("/api/v1/execute/{id}", execute, methods=["POST"]),
]
