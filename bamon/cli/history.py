"""bamon history NAME: one row per run, newest first, from the journal (a thin layer on
bamon.history.runs, which the web API calls too)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bamon.cli import central
from bamon.cli.context import Context
from bamon.cli.output import color_status, note, page, table, use_color
from bamon.history import spark
from bamon.history.runs import STATUSES, no_cycle_collection, read, select
from bamon.history.window import journal_gap, window


def register(sub: Any) -> None:
    p = sub.add_parser("history", help="past runs of a check")
    p.add_argument("name")
    p.add_argument("--since", help="how far back: 7d, 12h, 2026-11-20 (default: 7d)")
    p.add_argument("--until", help="up to when (default: now)")
    p.add_argument("--status", type=str.upper, choices=STATUSES, help="only runs with this status")
    p.add_argument("-n", "--lines", type=int, default=None, help="at most N runs (default: all in the span)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--config", dest="config_versions", action="store_true",
                   help="the versions of the config that changed this check, instead of its runs")
    central.add_options(p)
    p.set_defaults(run=run)


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}ms"


def _local(moment_us: int) -> str:
    """Local time to the second: time.strftime of the C library's localtime, as datetime's
    astimezone() reads the zone, in a quarter of its time (a row for each of 43,200 runs)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment_us // 1_000_000))


def _first_line(output: tuple[str, ...]) -> str:
    """The first line of output with more than blanks in it."""
    for line in output:
        if line.strip():
            return line
    return ""


def _config_versions(args: argparse.Namespace, ctx: Context) -> int:
    """The config versions that changed this check (a removed check has them too)."""
    from bamon import manage
    from bamon.cli.config_versions import show_versions

    return show_versions(manage.store(ctx).of_check(args.name), args, f"of {args.name} ")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.config_versions:
        return _config_versions(args, ctx)
    with no_cycle_collection():  # 43,200 runs of a 1-minute check over 30 days
        return _runs(args, ctx)


def _runs(args: argparse.Namespace, ctx: Context) -> int:
    """One row per run, newest first (or the --json document)."""
    remote = central.use(args, ctx)
    name, output_format = central.check(ctx, args.name, remote)
    since, until, limited = window(args.since, args.until, central.retention_days(ctx), "7d")
    runs = read(ctx.journal, name, output_format=output_format, since_us=since, until_us=until)
    shown = select(runs, args.status, args.lines if args.lines and args.lines > 0 else None)
    problems = sorted({p for r in shown for p in r.problems})
    if limited:
        note(limited)
    gap = journal_gap(ctx.journal, since)
    if gap:
        note(gap)
    if args.json:
        # one run per line: the C encoder (indent= takes the pure-Python one, 10× slower for
        # the 43,200 runs of a 1-minute check over 30 days), and still a document to read
        # (one encoder for all: json.dumps builds a new one for every call with ensure_ascii=False)
        encode = json.JSONEncoder(ensure_ascii=False).encode
        lines = ",\n".join(encode(r.as_dict()) for r in shown)
        sys.stdout.write(f'{{"name": {json.dumps(name)}, "runs": [\n{lines}\n]}}\n')
    elif not shown:
        print(f"no runs of {name} in that time span" + (f" with status {args.status}" if args.status else ""))
    else:
        painted = {status: color_status(status) for status in STATUSES}  # asked of the terminal once
        rows = [(_local(r.record.start_us), painted.get(r.status) or color_status(r.status),
                 f"{r.record.duration:.3f}s", "-" if r.record.exit_status is None else str(r.record.exit_status),
                 r.reason or "-", f"{r.record.attempt}/{r.record.attempts}" if r.record.attempts > 1 else "1",
                 _cpu(r.cpu_s), _first_line(r.output))
                for r in shown]
        text = table(("START", "STATUS", "DURATION", "EXIT", "REASON", "ATTEMPT", "CPU", "OUTPUT"), rows,
                     squeeze="OUTPUT")
        if use_color():  # pictures for people; piped output stays plain rows
            oldest_first = list(reversed(shown))
            text = (f"durations {spark.durations([r.record.duration for r in oldest_first])}\n"
                    f"outcomes  {spark.outcomes([r.status for r in oldest_first])}\n\n{text}")
        page(text)
    for problem in problems[:10]:
        note(f"metrics: {problem}")
    return 0

