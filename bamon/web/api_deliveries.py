"""Alert delivery history: every alert each channel was sent, and where it stands (delivered,
failed, queued in the outbox, retried), read from the notifier's journald records by
bamon.notify.ledger — the same reading `bamon alerts` prints."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bamon.context import Context
from bamon.errors import BamonError
from bamon.history.window import moment
from bamon.notify import ledger
from bamon.web.api_scripts import one_check
from bamon.web.errors import ApiError
from bamon.web.http import page, requires, respond, state

_QUERY = """
      - {name: since, in: query, schema: {type: string}, description: "7d, 12h, 2026-11-20 (default: all kept)"}
      - {name: outcome, in: query, schema: {type: string, enum: [OUTCOMES]}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
    responses:
      200: {description: Deliveries, content: {application/json: {schema: {$ref: "#/components/schemas/Deliveries"}}}}
      400: {$ref: "#/components/responses/Error"}""".replace("OUTCOMES", ", ".join(ledger.OUTCOMES))


async def _answer(request: Request, check: str | None) -> Response:
    since = request.query_params.get("since")
    outcome = request.query_params.get("outcome")
    if outcome is not None and outcome not in ledger.OUTCOMES:
        raise ApiError("invalid_query", f"outcome must be one of {', '.join(ledger.OUTCOMES)}", "?outcome=failed")
    try:
        start = None if since is None else f"@{moment(since):.0f}"
    except BamonError as exc:
        raise ApiError("invalid_query", f"since: {exc.message}", exc.hint) from None
    journal = Context(state(request).paths).journal
    found = await run_in_threadpool(ledger.read, journal, check, since=start)
    items = [d.as_json() for d in reversed(found) if outcome is None or d.outcome == outcome]
    return respond(request, page(request, items))


@requires("viewer")
async def deliveries(request: Request) -> Response:
    return await _answer(request, None)


@requires("viewer")
async def script_deliveries(request: Request) -> Response:
    check = await one_check(request)
    return await _answer(request, check["name"])


deliveries.__doc__ = f"""
    summary: Alert deliveries, newest first - one per alert and channel, with its outcome
    parameters:{_QUERY}
    """
script_deliveries.__doc__ = f"""
    summary: One check's alert deliveries, newest first
    parameters:
      - {{name: id, in: path, required: true, schema: {{type: string}}}}{_QUERY}
      404: {{$ref: "#/components/responses/Error"}}
    """


ROUTES = [
    Route("/api/v1/deliveries", deliveries, methods=["GET"]),
    Route("/api/v1/scripts/{id}/deliveries", script_deliveries, methods=["GET"]),
]
