"""bamon status: the last result of every check (the original BAMON table, or --json)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import NOTHING_CONFIGURED, ago, color_status, iso, note, print_json, table, until, use_color
from bamon.errors import BamonError
from bamon.history import spark
from bamon.history.runs import Run, read_many
from bamon.history.status import CheckStatus, collect
from bamon.status_json import WORDS, document, error_text
from bamon.systemd import Exposure
from bamon.units import naming

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
    p.add_argument("-j", "--json", action="store_true", help="machine-readable output (docs/status.schema.json)")
    p.add_argument("--sort", choices=sorted(_SORT_KEYS), help="order of the rows (default: config order)")
    p.add_argument("--webhook", metavar="URL", help="also POST the JSON document to URL")
    p.set_defaults(run=run)


# Longer output, or more than one line, is cut in the table; --json has all of it.
CELL = 40
TRUNCATED = " (truncated - use --json)"


def _output_cell(c: CheckStatus) -> str:
    # recovery: an open circuit ("circuit open until 14:05") or why the run was skipped
    if c.circuit is not None and c.circuit.state.value == "open":
        return c.circuit_text()
    if c.record and c.record.skipped:
        return c.reason_text()
    if c.record and not c.record.ok and c.record.result != "exit-code":
        text = error_text(c) or ""
        return text if len(text) <= CELL else text[:CELL] + TRUNCATED
    lines = [line for line in c.output if line.strip()]
    last = lines[-1] if lines else ""
    if len(lines) > 1 or len(last) > CELL:
        return last[:CELL] + TRUNCATED
    return last


def render_table(checks: list[CheckStatus]) -> str:
    rows = [(
        c.script.name,
        color_status(c.status, WORDS[c.status]),
        "-" if not c.record or c.record.exit_status is None else str(c.record.exit_status),
        _output_cell(c),
        f"{c.record.duration:.2f}s" if c.record else "-",
        ago(c.record.ended if c.record else None),
        until(c.next_run) if c.script.enabled else "disabled",
    ) for c in checks]
    return table(HEADERS, rows, squeeze="OUTPUT")


def _verbose(c: CheckStatus, recent: list[Run], rated: Exposure | None) -> str:
    r = c.record
    lines = [f"● {c.script.name} — {c.status}", f"    unit: {c.script.unit}  (journalctl -u {c.script.unit})"]
    # systemd's own rating of the unit (bamon security NAME lists what closes the biggest gaps)
    lines.append(f"    exposure: {rated.score:.1f} {rated.level}  (bamon security {c.script.name})" if rated
                 else "    exposure: - (systemd-analyze security could not rate the unit)")
    if r:
        lines += [f"    last run: {iso(r.started)}, {r.duration:.3f}s, invocation {r.invocation}",
                  f"    result: {r.result}" + (f" ({c.reason_text()})" if not r.ok else ""),
                  f"    consecutive failures: {r.consecutive_failures}"]
    if c.circuit is not None:
        lines.append(f"    circuit: {c.circuit_text()}")
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
    doc = document(checks)
    if args.json:
        print_json(doc)
    elif not checks:
        print("No failing scripts." if args.failed_only and ctx.config().scripts else NOTHING_CONFIGURED)
    else:
        print(render_table(checks))
        if args.verbose:
            recent = read_many(ctx.journal, {c.script.name: c.script.output_format for c in checks},
                               since_us=int((time.time() - 86400) * 1e6)) if use_color() else {}
            rated = ctx.systemd.security([c.script.unit for c in checks]) if ctx.live else {}
            print("\n" + "\n\n".join(_verbose(c, recent.get(c.script.name, [])[-40:], rated.get(c.script.unit))
                                      for c in checks))
    if ctx.config().errors:
        note(_problems_note(ctx))
    if args.webhook:
        _post(args.webhook, doc)
    return 0


def _problems_note(ctx: Context) -> str:
    """What config problems mean now: entries skipped (as at boot and by `bamon apply`), or a
    hand edit the config watch refused as a whole (its bamon.config-error says so), so that
    systemd still runs the checks as they were before it."""
    count = len(ctx.config().errors)
    unit = naming.CONFIG_ERROR
    described = ctx.systemd.show([unit], ["Description"]).get(unit, {}).get("Description", "") if ctx.live else ""
    if "not applied" in described:
        return (f"{count} config problem(s) in a hand edit: it was not applied, the checks run as in the last "
                "version (bamon config history); fix it and save, or run `bamon config validate`")
    return f"{count} config problem(s), affected entries are not monitored: run `bamon config validate`"


def _post(url: str, document: dict[str, Any]) -> None:
    import requests  # only for --webhook: importing it would cost every `bamon status` ~60 ms

    try:
        response = requests.post(url, json=document, timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise BamonError(f"could not send the status to {url}: {exc}",
                         "check the URL and that the receiver is up") from None
