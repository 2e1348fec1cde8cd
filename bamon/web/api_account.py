"""Sessions (log in/out), the caller's dashboard layout, users and API tokens."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bamon import audit as audit_mod
from bamon.context import Context
from bamon.web.errors import ApiError
from bamon.web.http import COOKIE, fields, identify, read_json, requires, respond, state, who
from bamon.web.store import JsonStore

# A layout's bounds, here and in its OpenAPI schema (openapi.py reads them): each list holds at
# most LAYOUT_LIST_MAX panel names of at most PANEL_NAME_MAX characters.
LAYOUT_LIST_MAX = 32
PANEL_NAME_MAX = 64


def _audit(request: Request, action: str, user: str, detail: str = "") -> None:
    audit_mod.record(Context(state(request).paths).journal, action, None, after=detail, actor=user, via="web")


async def login(request: Request) -> Response:
    """
    summary: Log in; sets the session cookie and returns the CSRF token for writes
    security: []
    requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/Login"}}}}
    responses:
      200: {description: Logged in, content: {application/json: {schema: {$ref: "#/components/schemas/Session"}}}}
      401: {$ref: "#/components/responses/Error"}
      429: {$ref: "#/components/responses/Error"}
    """
    data = await read_json(request)
    fields(data, {"user": str, "password": str}, required=("user", "password"))
    web = state(request)
    key = f"{data['user']}@{request.client.host if request.client else '?'}"
    if web.logins.blocked(key):
        raise ApiError("rate_limited", "too many failed logins", "wait five minutes and try again")
    found = await run_in_threadpool(web.accounts.check_password, data["user"], data["password"])
    if found is None:
        web.logins.failed(key)
        await run_in_threadpool(_audit, request, "login-failed", data["user"][:64])
        raise ApiError("unauthenticated", "wrong user name or password", "ask an admin for an account")
    web.logins.succeeded(key)
    sid, csrf = await run_in_threadpool(web.accounts.start_session, found.user)
    await run_in_threadpool(_audit, request, "login", found.user)
    response = respond(request, {"user": found.user, "role": found.role, "csrf": csrf})
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/")
    return response


async def whoami(request: Request) -> Response:
    """
    summary: The logged-in user, role and CSRF token (401 when not logged in)
    responses:
      200: {description: The session, content: {application/json: {schema: {$ref: "#/components/schemas/Session"}}}}
      401: {$ref: "#/components/responses/Error"}
    """
    found = identify(request)
    if found is None:
        raise ApiError("unauthenticated", "not logged in", "POST /api/v1/session")
    return respond(request, {"user": found.user, "role": found.role, "csrf": found.csrf})


@requires("viewer")
async def logout(request: Request) -> Response:
    """
    summary: Log out (ends the session)
    responses:
      200: {description: Logged out, content: {application/json: {schema: {type: object}}}}
    """
    sid = request.cookies.get(COOKIE)
    if sid:
        await run_in_threadpool(state(request).accounts.end_session, sid)
    response = respond(request, {"loggedOut": True})
    response.delete_cookie(COOKIE, path="/")
    return response


def _layouts(request: Request) -> JsonStore:
    store: JsonStore = state(request).extra["layouts"]
    return store


@requires("viewer")
async def get_layout(request: Request) -> Response:
    """
    summary: The caller's dashboard layout (panel order and hidden panels), kept server-side
    responses:
      200: {description: The layout, content: {application/json: {schema: {$ref: "#/components/schemas/Layout"}}}}
    """
    saved = _layouts(request).read().get(who(request).user)
    return respond(request, saved if isinstance(saved, dict) else {"panels": [], "hidden": []})


@requires("viewer")
async def put_layout(request: Request) -> Response:
    """
    summary: Keep the caller's dashboard layout
    requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/Layout"}}}}
    responses:
      200: {description: Kept, content: {application/json: {schema: {$ref: "#/components/schemas/Layout"}}}}
      400: {$ref: "#/components/responses/Error"}
    """
    data = await read_json(request)
    fields(data, {"panels": list, "hidden": list}, required=("panels",))
    layout = {"panels": data["panels"], "hidden": data.get("hidden", [])}
    if any(not isinstance(p, str) or len(p) > PANEL_NAME_MAX for p in layout["panels"] + layout["hidden"]) \
            or len(layout["panels"]) > LAYOUT_LIST_MAX or len(layout["hidden"]) > LAYOUT_LIST_MAX:
        raise ApiError("invalid_body", "panels and hidden are lists of panel names", '{"panels": ["grid", "alerts"]}')

    def keep() -> None:
        with _layouts(request).update() as all_layouts:
            all_layouts[who(request).user] = layout

    await run_in_threadpool(keep)
    await run_in_threadpool(_audit, request, "layout", who(request).user, ",".join(layout["panels"]))
    return respond(request, layout)


@requires("admin")
async def list_users(request: Request) -> Response:
    """
    summary: Users and their roles
    responses:
      200: {description: Users, content: {application/json: {schema: {type: object}}}}
    """
    return respond(request, {"items": await run_in_threadpool(state(request).accounts.list_users)})


@requires("admin")
async def create_user(request: Request) -> Response:
    """
    summary: Add a user
    requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/NewUser"}}}}
    responses:
      201: {description: Added, content: {application/json: {schema: {type: object}}}}
      409: {$ref: "#/components/responses/Error"}
      422: {$ref: "#/components/responses/Error"}
    """
    data = await read_json(request)
    fields(data, {"name": str, "role": str, "password": str}, required=("name", "role", "password"))
    await run_in_threadpool(state(request).accounts.add_user, data["name"], data["role"], data["password"])
    await run_in_threadpool(_audit, request, "user-add", who(request).user, f"{data['name']} ({data['role']})")
    return respond(request, {"name": data["name"], "role": data["role"]}, 201)


@requires("admin")
async def delete_user(request: Request) -> Response:
    """
    summary: Remove a user with their tokens and sessions
    parameters: [{name: name, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: Removed, content: {application/json: {schema: {type: object}}}}
      404: {$ref: "#/components/responses/Error"}
    """
    name = request.path_params["name"]
    await run_in_threadpool(state(request).accounts.remove_user, name)
    await run_in_threadpool(_audit, request, "user-remove", who(request).user, name)
    return respond(request, {"removed": name})


def _owner(request: Request) -> str | None:
    """Admins see and revoke every token; others only their own."""
    return None if who(request).may("admin") else who(request).user


@requires("viewer")
async def list_tokens(request: Request) -> Response:
    """
    summary: API tokens (ids and labels; the tokens themselves are never shown again)
    responses:
      200: {description: Tokens, content: {application/json: {schema: {type: object}}}}
    """
    return respond(request, {"items": await run_in_threadpool(state(request).accounts.list_tokens, _owner(request))})


@requires("viewer")
async def create_token(request: Request) -> Response:
    """
    summary: A new API token for the caller (shown once)
    requestBody: {required: false, content: {application/json: {schema: {$ref: "#/components/schemas/NewToken"}}}}
    responses:
      201: {description: The token, content: {application/json: {schema: {type: object}}}}
    """
    data: dict[str, Any] = await read_json(request) if await request.body() else {}
    fields(data, {"label": str})
    token_id, token = await run_in_threadpool(state(request).accounts.create_token, who(request).user,
                                              data.get("label", "")[:100])
    await run_in_threadpool(_audit, request, "token-create", who(request).user, token_id)
    return respond(request, {"id": token_id, "token": token}, 201)


@requires("viewer")
async def revoke_token(request: Request) -> Response:
    """
    summary: Revoke an API token
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: Revoked, content: {application/json: {schema: {type: object}}}}
      404: {$ref: "#/components/responses/Error"}
    """
    token_id = request.path_params["id"]
    await run_in_threadpool(state(request).accounts.revoke_token, token_id, _owner(request))
    await run_in_threadpool(_audit, request, "token-revoke", who(request).user, token_id)
    return respond(request, {"revoked": token_id})


ROUTES = [
    Route("/api/v1/session", login, methods=["POST"]),
    Route("/api/v1/session", whoami, methods=["GET"]),
    Route("/api/v1/session", logout, methods=["DELETE"]),
    Route("/api/v1/layout", get_layout, methods=["GET"]),
    Route("/api/v1/layout", put_layout, methods=["PUT"]),
    Route("/api/v1/users", list_users, methods=["GET"]),
    Route("/api/v1/users", create_user, methods=["POST"]),
    Route("/api/v1/users/{name}", delete_user, methods=["DELETE"]),
    Route("/api/v1/tokens", list_tokens, methods=["GET"]),
    Route("/api/v1/tokens", create_token, methods=["POST"]),
    Route("/api/v1/tokens/{id}", revoke_token, methods=["DELETE"]),
]
