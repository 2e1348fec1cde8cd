"""The fleet page's data: /api/v1/fleet is the `bamon fleet status --json` document, read from
the Prometheus named by fleet.prometheus_url (bamon/fleet/), never from a bamon server."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bamon.context import Context
from bamon.errors import BamonError
from bamon.fleet import view
from bamon.web.errors import ApiError
from bamon.web.http import requires, respond, state


@requires("viewer")
async def fleet(request: Request) -> Response:
    """
    summary: Every host × check as the fleet's Prometheus sees them, failures first; silent hosts STALE
    description: The `bamon fleet status --json` document (docs/fleet-status.schema.json).
    parameters: [{name: failed, in: query, schema: {type: boolean}, description: "only FAILED, WARNING and STALE rows"}]
    responses:
      200: {description: The fleet, content: {application/json: {schema: {type: object}}}}
      422: {$ref: "#/components/responses/Error"}
      503: {$ref: "#/components/responses/Error"}
    """
    failed_only = request.query_params.get("failed", "").lower() in ("1", "true", "yes")

    def look() -> dict[str, object]:
        settings = Context(state(request).paths).config().fleet
        try:
            return view.look(settings).document(failed_only)
        except BamonError as exc:
            # not configured: this request cannot be answered here (422); Prometheus unreachable or
            # refusing: the service behind is unavailable (503). The page shows either with its hint.
            code = exc.code if exc.code == "not_configured" else "unavailable"
            raise ApiError(code, exc.message, exc.hint) from None

    return respond(request, await run_in_threadpool(look))


ROUTES = [Route("/api/v1/fleet", fleet, methods=["GET"])]
