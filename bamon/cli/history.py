"""bamon history NAME: one line per run, newest first, from the journal's run records."""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import color_status, iso, print_json, table
from bamon.history.records import REASONS, RunRecord, history
from bamon.recovery import skips


def register(sub: Any) -> None:
    p = sub.add_parser("history", help="past runs of a check")
    p.add_argument("name")
    p.add_argument("-n", "--lines", type=int, default=20, help="how many runs (default 20; 0 = all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    script = ctx.script(args.name)
    records = history(ctx.journal, script.name, None if args.lines <= 0 else args.lines)
    if args.json:
        print_json({"name": script.name, "runs": [{
            "invocationId": r.invocation, "start": iso(r.started), "end": iso(r.ended),
            "duration": round(r.duration, 3), "status": _status(r),
            "result": r.result, "exitCode": r.exit_status, "signal": r.signal or None,
            "consecutiveFailures": r.consecutive_failures,
            # recovery: which attempt of a retried run, why a skipped run did not run
            "attempt": r.attempt, "attempts": r.attempts, "skipReason": skips.describe(r.skip) if r.skip else None,
        } for r in records]})
        return 0
    if not records:
        print(f"no runs of {script.name} recorded yet")
        return 0
    print(table(("START", "STATUS", "EXIT CODE", "DURATION", "REASON", "INVOCATION"), [(
        iso(r.started) or "", color_status(_status(r)),
        "-" if r.exit_status is None else str(r.exit_status), f"{r.duration:.3f}s",
        _reason(r), r.invocation) for r in records]))
    return 0


def _status(r: RunRecord) -> str:
    return "OK" if r.ok else "SKIPPED" if r.skipped else "FAILED"


def _reason(r: RunRecord) -> str:
    text = skips.describe(r.skip) if r.skipped else REASONS.get(r.result, r.result)
    return text + (f" (attempt {r.attempt}/{r.attempts})" if r.attempts > 1 else "")
