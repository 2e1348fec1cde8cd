"""bamon analytics [NAME]: what the run history says (a thin layer on bamon.history.analytics
and bamon.history.fleet, which the web API calls too)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import note, print_json, use_color
from bamon.config.timespec import format_span
from bamon.errors import BamonError
from bamon.history import spark
from bamon.history.runs import Run, read_many
from bamon.history.window import journal_gap, window


def register(sub: Any) -> None:
    p = sub.add_parser("analytics", help="success rates, durations, anomalies, correlations, forecasts")
    p.add_argument("name", nargs="?", help="only this check")
    p.add_argument("--since", help="how far back: 30d, 12h, 2026-11-01 (default: 30d)")
    p.add_argument("--until", help="up to when (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="FILE", type=Path, help="with NAME: write a chart (.svg or .png)")
    p.set_defaults(run=run)


def report(ctx: Context, names: list[str], since: int, until: int | None, now: float) -> tuple[dict[str, Any],
                                                                                            dict[str, list[Run]]]:
    """The whole analytics document for these checks, and the runs it was computed from."""
    # numpy and the chart's XML stack: only for analytics (every `bamon` command imports this
    # module to build its parser: they would cost `status` and `history` ~50 ms each)
    from bamon.history import fleet
    from bamon.history.analytics import check_report

    scripts = {s.name: s for s in ctx.config().scripts if s.name in names}
    by_check = read_many(ctx.journal, {n: s.output_format for n, s in scripts.items()}, since_us=since, until_us=until)
    checks = [check_report(name, runs, now) for name, runs in by_check.items()]
    problems = sorted({f"{name}: {p}" for name, runs in by_check.items() for r in runs for p in r.problems})
    return {
        "since": since / 1e6, "until": None if until is None else until / 1e6,
        "checks": checks,
        "correlations": fleet.correlations(by_check),
        "forecasts": [f for name, runs in by_check.items() for f in fleet.forecasts(name, runs, now)],
        **fleet.costs(scripts, by_check, now),
        "problems": problems[:50],
    }, by_check


def _check_lines(c: dict[str, Any], runs: list[Run]) -> list[str]:
    if not c["runs"]:
        return [f"● {c['name']}: no runs in this time span"]
    d = c["duration"]
    mttr = format_span(c["mttr"]) if c["mttr"] is not None else "-"
    mtbf = format_span(c["mtbf"]) if c["mtbf"] is not None else "-"
    trend = c["successRateTrendPerDay"]
    lines = [f"● {c['name']}: {c['runs']} runs, {c['successRate']:.1%} OK"
             + (f" (trend {trend:+.1%} a day)" if trend else ""),
             f"    duration p50 {d['p50']:.3g}s  p95 {d['p95']:.3g}s  p99 {d['p99']:.3g}s"
             + (f"  (trend {d['trendPerDay']:+.3g}s a day)" if d["trendPerDay"] else ""),
             f"    failure episodes {c['failureEpisodes']}  MTTR {mttr}  MTBF {mtbf}"
             + (f"  CPU {c['cpuPerRun'] * 1000:.0f}ms a run" if c["cpuPerRun"] is not None else "")]
    if use_color():
        lines.append(f"    {spark.durations([r.record.duration for r in runs])}  "
                     f"{spark.outcomes([r.status for r in runs])}")
    for finding in (d["change"], c["durationAnomaly"], c["failureRateAnomaly"]):
        if finding:
            lines.append(f"    ! {finding['text']}")
    if c["flapping"]["flapping"]:
        lines.append(f"    ! flapping: {c['flapping']['changes']} state changes in the last 21 runs "
                     f"({c['flapping']['percent']:.0%} weighted)")
    return lines


def render(doc: dict[str, Any], by_check: dict[str, list[Run]]) -> str:
    out = []
    for c in doc["checks"]:
        out += _check_lines(c, by_check[c["name"]])
    sections = (("failing together", [c["text"] for c in doc["correlations"]]),
                ("capacity", [f["text"] for f in doc["forecasts"]]),
                ("slowest (p95)", [f"{r['check']}: {r['p95']:.3g}s" + "".join(f"\n    → {t}" for t in r["suggestions"])
                                   for r in doc["slowest"]]),
                ("most CPU", [f"{r['check']}: {r['cpuPerDay']:.1f} CPU-s a day ({r['runsPerDay']:g} runs)"
                              for r in doc["mostExpensive"]]))
    for title, items in sections:
        if items:
            out += ["", f"{title}:"] + [f"  {item}" for item in items]
    return "\n".join(out)


def run(args: argparse.Namespace, ctx: Context) -> int:
    names = [ctx.script(args.name).name] if args.name else [s.name for s in ctx.config().scripts]
    if args.plot and not args.name:
        raise BamonError("--plot draws one check", "name it: bamon analytics NAME --plot FILE.svg")
    since, until, limited = window(args.since, args.until, ctx.config().daemon.history_retention_days, "30d")
    for text in (limited, journal_gap(ctx.journal, since)):
        if text:
            note(text)
    now = time.time()
    doc, by_check = report(ctx, names, since, until, now)
    if args.plot:
        from bamon.history import plot

        plot.write(names[0], by_check[names[0]], args.plot)
        note(f"chart written to {args.plot}")
    if args.json:
        print_json(doc)
    else:
        print(render(doc, by_check) if doc["checks"] else "no checks configured")
    for problem in doc["problems"][:10]:
        note(f"metrics: {problem}")
    return 0
