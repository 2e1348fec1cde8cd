"""History, analytics, audit, open alerts and silences: journald, status and the alert state."""

from __future__ import annotations

import statistics
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bamon import audit as audit_mod
from bamon import journal as journal_mod
from bamon.context import Context
from bamon.history.analytics import BUCKETS, success_rates
from bamon.history.records import RunRecord, history
from bamon.history.runs import read
from bamon.history.window import window
from bamon.notify.ledger import iso
from bamon.web.api_scripts import cache, one_check
from bamon.web.errors import ApiError
from bamon.web.http import fields, page, query_int, read_json, requires, respond, state, who


def _ctx(request: Request) -> Context:
    return Context(state(request).paths)


def run_json(r: RunRecord) -> dict[str, Any]:
    return {"invocationId": r.invocation, "result": r.result, "ok": r.ok, "exitCode": r.exit_status,
            "start": r.started.isoformat(), "end": r.ended.isoformat(), "duration": round(r.duration, 3),
            "consecutiveFailures": r.consecutive_failures}


def summary(runs: list[RunRecord]) -> dict[str, Any]:
    """Success rate and duration percentiles of a list of runs."""
    durations = sorted(r.duration for r in runs)

    def pct(p: float) -> float | None:
        if not durations:
            return None
        if len(durations) == 1:
            return round(durations[0], 3)
        return round(statistics.quantiles(durations, n=100, method="inclusive")[int(p) - 1], 3)

    ok = sum(1 for r in runs if r.ok)
    return {"runs": len(runs), "ok": ok, "failed": len(runs) - ok,
            "successRate": round(ok / len(runs), 4) if runs else None,
            "durationP50": pct(50), "durationP95": pct(95), "durationP99": pct(99)}


@requires("viewer")
async def script_history(request: Request) -> Response:
    """
    summary: Recent runs of one check, newest first (from journald)
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
    responses:
      200: {description: Runs, content: {application/json: {schema: {$ref: "#/components/schemas/Page"}}}}
      404: {$ref: "#/components/responses/Error"}
    """
    check = await one_check(request)
    runs = await run_in_threadpool(history, _ctx(request).journal, check["name"], 1000)
    return respond(request, page(request, [run_json(r) for r in runs]))


@requires("viewer")
async def analytics(request: Request) -> Response:
    """
    summary: Success rate and duration percentiles per check over its recent runs
    parameters: [{name: runs, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}]
    responses:
      200: {description: Figures per check, content: {application/json: {schema: {type: object}}}}
    """
    limit = query_int(request, "runs", 200, 1, 1000)
    journal = _ctx(request).journal
    names = [c["name"] for c in await cache(request).get()]

    def gather() -> dict[str, Any]:
        return {name: summary(history(journal, name, limit)) for name in names}

    return respond(request, {"checks": await run_in_threadpool(gather)})


# the windows the dashboard offers, each with the bucket that gives a readable number of points
WINDOWS = {"1h": "minute", "24h": "hour", "7d": "hour", "30d": "day"}


@requires("viewer")
async def success_rate(request: Request) -> Response:
    """
    summary: One check's success rate per time bucket over a window (bamon analytics' buckets)
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: window, in: query, schema: {type: string, enum: ["1h", "24h", "7d", "30d"]}}
    responses:
      200: {description: Buckets, content: {application/json: {schema: {$ref: "#/components/schemas/SuccessRate"}}}}
      400: {$ref: "#/components/responses/Error"}
      404: {$ref: "#/components/responses/Error"}
    """
    name = (await one_check(request))["name"]
    span = request.query_params.get("window", "24h")
    if span not in WINDOWS:
        raise ApiError("invalid_query", f"window must be one of {', '.join(WINDOWS)}", "?window=24h")
    ctx, bucket = _ctx(request), WINDOWS[span]

    def gather() -> dict[str, Any]:
        config, now = ctx.config(), time.time()
        script = config.script(name)
        since, _, note = window(span, None, config.daemon.history_retention_days, span, now=now)
        runs = read(ctx.journal, name, output_format=script.output_format if script else "plain", since_us=since)
        ok = sum(r.status == "OK" for r in runs)
        return {"check": name, "window": span, "bucket": bucket, "bucketSeconds": BUCKETS[bucket][0],
                "since": iso(since / 1e6), "until": iso(now), "runs": len(runs),
                "successRate": round(ok / len(runs), 4) if runs else None, "note": note,
                "buckets": success_rates(runs, bucket)}

    return respond(request, await run_in_threadpool(gather))


def audit_json(entry: dict[str, Any]) -> dict[str, Any]:
    record = audit_mod.entry(entry)  # the same reading as `bamon audit`
    stamp = journal_mod.field(entry, "__REALTIME_TIMESTAMP")
    return {"time": record.time.timestamp() if stamp.isdigit() else None, "action": record.action or None,
            "check": record.check, "user": record.user or None, "via": record.via,
            "before": record.before or None, "after": record.after or None,
            "message": journal_mod.field(entry, "MESSAGE") or None}


@requires("operator")
async def audit(request: Request) -> Response:
    """
    summary: The audit trail, newest first (every write and login)
    parameters:
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
    responses:
      200: {description: Records, content: {application/json: {schema: {$ref: "#/components/schemas/Page"}}}}
    """
    journal = _ctx(request).journal
    entries = await run_in_threadpool(journal.entries, [f"MESSAGE_ID={journal_mod.AUDIT_ID}"], lines=1000,
                                      reverse=True)
    return respond(request, page(request, [audit_json(e) for e in entries]))


@requires("viewer")
async def alerts(request: Request) -> Response:
    """
    summary: Open problems - every check that is failing now, worst first
    responses:
      200: {description: Open alerts, content: {application/json: {schema: {$ref: "#/components/schemas/Page"}}}}
    """
    order = {"critical": 0, "warning": 1, "info": 2}
    failing = [{"name": c["name"], "severity": c["severity"], "status": c["status"], "since": c["lastExecution"],
                "consecutiveFailures": c["consecutiveFailures"], "error": c["error"]}
               for c in await cache(request).get() if c["status"] in ("FAILED", "WARNING")]
    failing.sort(key=lambda a: (order.get(a["severity"], 3), a["name"]))
    return respond(request, page(request, failing))


@requires("viewer")
async def list_silences(request: Request) -> Response:
    """
    summary: Silences in force (alerts about these checks or tags are recorded, not sent)
    responses:
      200: {description: Silences, content: {application/json: {schema: {type: object}}}}
    """
    return respond(request, await run_in_threadpool(state(request).writer, "silences", "", {}, who(request).user))


@requires("operator")
async def add_silence(request: Request) -> Response:
    """
    summary: Silence a check or every check with a tag for a while
    requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/NewSilence"}}}}
    responses:
      201: {description: The silence, content: {application/json: {schema: {type: object}}}}
    """
    data = await read_json(request)
    fields(data, {"check": str, "tag": str, "for": (str, int), "reason": str}, required=("for",))
    if bool(data.get("check")) == bool(data.get("tag")):
        raise ApiError("invalid_body", "give either check or tag", '{"check": "web", "for": "2h"}')
    result = await run_in_threadpool(state(request).writer, "silence", "", data, who(request).user)
    return respond(request, result, 201)


@requires("operator")
async def remove_silence(request: Request) -> Response:
    """
    summary: End a silence now
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: Removed, content: {application/json: {schema: {type: object}}}}
    """
    sid = request.path_params["id"]
    return respond(request, await run_in_threadpool(state(request).writer, "unsilence", sid, {}, who(request).user))


ROUTES = [
    Route("/api/v1/silences", list_silences, methods=["GET"]),
    Route("/api/v1/silences", add_silence, methods=["POST"]),
    Route("/api/v1/silences/{id}", remove_silence, methods=["DELETE"]),
    Route("/api/v1/scripts/{id}/history", script_history, methods=["GET"]),
    Route("/api/v1/scripts/{id}/success-rate", success_rate, methods=["GET"]),
    Route("/api/v1/analytics", analytics, methods=["GET"]),
    Route("/api/v1/audit", audit, methods=["GET"]),
    Route("/api/v1/alerts", alerts, methods=["GET"]),
]
