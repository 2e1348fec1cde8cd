"""/api/v1/openapi.json: generated from the routes' docstrings and the config schema.

The body of POST/PUT /scripts is the config's own script schema (schema.yaml), so the API
documents exactly what `bamon add` accepts. Every operation gets the Error schema as its
default response: clients (and the fuzzing tests) can rely on that shape for any 4xx.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.schemas import SchemaGenerator

from bamon import __version__
from bamon.config import schema as config_schema
from bamon.notify.ledger import OUTCOMES
from bamon.web.api_account import LAYOUT_LIST_MAX, PANEL_NAME_MAX

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "hint"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}}}}
_NULLABLE_STR = {"type": ["string", "null"]}
_STR, _TIME = {"type": "string"}, {"type": "string", "format": "date-time"}
_PANEL_LIST = {"type": "array", "items": {"type": "string", "maxLength": PANEL_NAME_MAX}, "maxItems": LAYOUT_LIST_MAX}


def _page_of(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "total", "offset", "limit"], "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        "total": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"}}}


def _plain_json_schema(node: Any) -> Any:
    """schema.yaml without bamon's x- annotations and private formats."""
    if isinstance(node, dict):
        return {k: _plain_json_schema(v) for k, v in node.items()
                if not k.startswith("x-") and not (k == "format" and str(v).startswith("bamon-"))}
    if isinstance(node, list):
        return [_plain_json_schema(v) for v in node]
    return node


def components() -> dict[str, Any]:
    script_input = _plain_json_schema(copy.deepcopy(config_schema.script_schema()))
    status_entry = {"type": "object", "required": ["name", "status", "enabled"], "properties": {
        "name": {"type": "string"}, "enabled": {"type": "boolean"}, "status": {"type": "string"},
        "lastExecution": _NULLABLE_STR, "nextExecution": _NULLABLE_STR, "result": _NULLABLE_STR,
        "exitCode": {"type": ["integer", "null"]}, "duration": {"type": ["number", "null"]},
        "timeSince": {"type": ["number", "null"]}, "error": _NULLABLE_STR,
        "output": {"type": ["string", "array", "null"], "items": {"type": "string"}},  # lines when several
        "failureReason": _NULLABLE_STR, "unit": {"type": "string"}, "invocationId": _NULLABLE_STR,
        "consecutiveFailures": {"type": "integer"}}}
    script: dict[str, Any] = copy.deepcopy(status_entry)
    script["properties"].update({"command": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                                 "severity": {"type": "string"}, "source": {"type": "string"}})
    return {
        "schemas": {
            "Error": _ERROR,
            "ScriptInput": script_input,
            "Script": script,
            "Status": {"type": "object", "required": ["version", "scripts"],
                       "properties": {"version": {"type": "integer"},
                                      "scripts": {"type": "array", "items": status_entry}}},
            "Page": {"type": "object", "required": ["items", "total", "offset", "limit"], "properties": {
                "items": {"type": "array"}, "total": {"type": "integer"}, "offset": {"type": "integer"},
                "limit": {"type": "integer"}}},
            "Change": {"type": "object", "required": ["action", "changed"], "properties": {
                "action": {"type": "string"}, "name": _NULLABLE_STR, "changed": {"type": "boolean"},
                "notes": {"type": "array", "items": {"type": "string"}}}},
            "Login": {"type": "object", "required": ["user", "password"], "additionalProperties": False,
                      "properties": {"user": {"type": "string"}, "password": {"type": "string"}}},
            "Session": {"type": "object", "required": ["user", "role", "csrf"], "properties": {
                "user": {"type": "string"}, "role": {"type": "string"}, "csrf": {"type": "string"}}},
            "Layout": {"type": "object", "required": ["panels"], "additionalProperties": False, "properties": {
                "panels": _PANEL_LIST, "hidden": _PANEL_LIST}},
            "NewUser": {"type": "object", "required": ["name", "role", "password"], "additionalProperties": False,
                        "properties": {"name": {"type": "string"}, "password": {"type": "string"},
                                       "role": {"type": "string", "enum": ["viewer", "operator", "admin"]}}},
            "NewSilence": {"type": "object", "required": ["for"], "additionalProperties": False, "properties": {
                "check": {"type": "string"}, "tag": {"type": "string"}, "for": {"type": ["string", "integer"]},
                "reason": {"type": "string"}}},
            "Delivery": {"type": "object", "required": ["alert", "check", "channel", "time", "outcome"],
                         "properties": {
                "alert": _STR, "check": _STR, "kind": _STR, "rule": _STR, "severity": _STR, "channel": _STR,
                "time": _TIME, "updated": _TIME, "outcome": {"type": "string", "enum": list(OUTCOMES)},
                "answer": _STR, "detail": _STR, "attempts": {"type": "integer"}, "retries": {"type": "integer"},
                "via": _STR, "nextTry": {"type": ["string", "null"], "format": "date-time"},
                "steps": {"type": "array", "items": {"type": "object", "properties": {
                    "time": _TIME, "event": _STR, "via": _STR, "detail": _STR}}}}},
            "Deliveries": _page_of("Delivery"),
            "SuccessRate": {"type": "object", "required": ["check", "window", "bucket", "buckets"], "properties": {
                "check": _STR, "window": _STR, "bucket": _STR, "bucketSeconds": {"type": "integer"},
                "since": _TIME, "until": _TIME, "runs": {"type": "integer"},
                "successRate": {"type": ["number", "null"]}, "note": _NULLABLE_STR,
                "buckets": {"type": "array", "items": {"type": "object", "required": ["start", "runs", "successRate"],
                                                       "properties": {"start": _STR, "runs": {"type": "integer"},
                                                                      "successRate": {"type": "number"}}}}}},
            "NewToken": {"type": "object", "additionalProperties": False, "properties": {"label": {"type": "string"}}},
        },
        "responses": {"Error": {"description": "The request was refused; code says why", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "bamon_session"}},
    }


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    base = {"openapi": "3.1.0", "info": {"title": "bamon API", "version": __version__},
            "components": components(), "security": [{"token": []}, {"session": []}]}
    doc: dict[str, Any] = SchemaGenerator(base).get_schema(routes)
    default = {"$ref": "#/components/responses/Error"}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("default", default)
    return doc


def route(routes: list[BaseRoute]) -> Any:
    cached: dict[str, Any] = {}

    async def openapi(request: Request) -> Response:
        if not cached:
            cached.update(document(routes))
        return JSONResponse(cached)
    return openapi
