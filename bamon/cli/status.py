"""bamon status: the last result of every check (the original BAMON table, or --json)."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import ago, color_status, iso, note, print_json, table, until, use_color
from bamon.errors import BamonError
from bamon.history import spark
from bamon.history.runs import Run, read_many
from bamon.history.status import CheckStatus, collect

HEADERS = ("NAME", "STATUS", "EXIT CODE", "OUTPUT", "DURATION", "TIME SINCE", "NEXT EXECUTION")
_ORDER = {"FAILED": 0, "WARNING": 1, "RUNNING": 2, "UNKNOWN": 3, "OK": 4, "SKIPPED": 5, "DISABLED": 6}
_SORT_KEYS = {
    "name": lambda c: c.script.name,
    "status": lambda c: (_ORDER.get(c.status, 9), c.script.name),
    "duration": lambda c: -(c.record.duration if c.record else -1),
}


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="last result of every check")
    p.add_argument("-n", "--name", action="append", help="only this check (repeatable)")
    p.add_argument("-f", "--failed-only", action="store_true", help="only failing checks")
    p.add_argument("-v", "--verbose", action="store_true", help="full output and unit details")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--sort", choices=sorted(_SORT_KEYS), help="order of the rows (default: config order)")
    p.add_argument("--webhook", metavar="URL", help="also POST the JSON document to URL")
    p.set_defaults(run=run)


def as_json(c: CheckStatus) -> dict[str, Any]:
    """One check in the original BAMON's keys, with sane types, plus bamon's additions."""
    r = c.record
    return {
        "name": c.script.name,
        "enabled": c.script.enabled,
        "lastExecution": iso(r.started) if r else None,
        "result": ("success" if r.ok else "failure") if r else None,
        "exitCode": r.exit_status if r else None,
        "duration": round(r.duration, 3) if r else None,
        "timeSince": round(_since(c), 1) if r else None,
        "nextExecution": iso(c.next_run),
        "output": "\n".join(c.output),
        "error": (c.reason_text() + (f": {c.output[-1]}" if c.output else "")) if r and not r.ok else None,
        "status": c.status,
        "failureReason": c.failure_reason,
        "unit": c.script.unit,
        "invocationId": r.invocation if r else None,
        "consecutiveFailures": r.consecutive_failures if r else 0,
    }


def _since(c: CheckStatus) -> float:
    return (datetime.now(UTC) - c.record.ended).total_seconds() if c.record else 0.0


def _output_cell(c: CheckStatus) -> str:
    last = next((line for line in reversed(c.output) if line.strip()), "")
    if c.record and not c.record.ok and c.record.result != "exit-code":
        return c.reason_text() + (f": {last}" if last else "")
    return last


def render_table(checks: list[CheckStatus]) -> str:
    rows = [(
        c.script.name,
        color_status(c.status),
        "-" if not c.record or c.record.exit_status is None else str(c.record.exit_status),
        _output_cell(c),
        f"{c.record.duration:.2f}s" if c.record else "-",
        ago(c.record.ended if c.record else None),
        until(c.next_run) if c.script.enabled else "disabled",
    ) for c in checks]
    return table(HEADERS, rows, squeeze="OUTPUT")


def _verbose(c: CheckStatus, recent: list[Run]) -> str:
    r = c.record
    lines = [f"● {c.script.name} — {c.status}", f"    unit: {c.script.unit}  (journalctl -u {c.script.unit})"]
    if r:
        lines += [f"    last run: {iso(r.started)}, {r.duration:.3f}s, invocation {r.invocation}",
                  f"    result: {r.result}" + (f" ({c.reason_text()})" if not r.ok else ""),
                  f"    consecutive failures: {r.consecutive_failures}"]
    if recent and use_color():  # pictures for people at a terminal; piped output stays plain
        lines.append(f"    recent: {spark.durations([x.record.duration for x in recent])}  "
                     f"{spark.outcomes([x.status for x in recent])}  ({len(recent)} runs, oldest first)")
    lines += [f"    next run: {iso(c.next_run) or '-'}", "    output:" if c.output else "    output: (none)"]
    lines += [f"      {line}" for line in c.output]
    return "\n".join(lines)


def select(ctx: Context, names: list[str] | None, failed_only: bool = False,
           sort: str | None = None) -> list[CheckStatus]:
    for name in names or []:
        ctx.script(name)  # a clear error for unknown names
    checks = collect(ctx.config(), ctx.paths, ctx.systemd, ctx.journal, names)
    if failed_only:
        checks = [c for c in checks if c.status in ("FAILED", "WARNING")]
    return sorted(checks, key=_SORT_KEYS[sort]) if sort else checks


def run(args: argparse.Namespace, ctx: Context) -> int:
    checks = select(ctx, args.name, args.failed_only, args.sort)
    document = {"scripts": [as_json(c) for c in checks]}
    if args.json:
        print_json(document)
    elif not checks:
        print("no failing checks" if args.failed_only else "no checks configured (add one: bamon add NAME -c COMMAND)")
    else:
        print(render_table(checks))
        if args.verbose:
            recent = read_many(ctx.journal, {c.script.name: c.script.output_format for c in checks},
                               since_us=int((time.time() - 86400) * 1e6)) if use_color() else {}
            print("\n" + "\n\n".join(_verbose(c, recent.get(c.script.name, [])[-40:]) for c in checks))
    if ctx.config().errors:
        note(f"{len(ctx.config().errors)} config problem(s), affected entries are not monitored: "
             "run `bamon config validate`")
    if args.webhook:
        _post(args.webhook, document)
    return 0


def _post(url: str, document: dict[str, Any]) -> None:
    import requests  # only for --webhook: importing it would cost every `bamon status` ~60 ms

    try:
        response = requests.post(url, json=document, timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise BamonError(f"could not send the status to {url}: {exc}",
                         "check the URL and that the receiver is up") from None
