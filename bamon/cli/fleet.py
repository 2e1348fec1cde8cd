"""bamon fleet status: every host × check, as the Prometheus that scrapes them all sees them
(a thin layer on bamon/fleet/, which the web API's /api/v1/fleet calls too)."""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import color_status, print_json, table
from bamon.config.model import Fleet as Settings
from bamon.config.timespec import format_span
from bamon.errors import BamonError

HEADERS = ("HOST", "CHECK", "STATUS", "LAST RUN", "REASON")
_COLOR_OF = {"STALE": "UNKNOWN"}  # the status colours of output.py; STALE is greyed like UNKNOWN


def register(sub: Any) -> None:
    p = sub.add_parser("fleet", help="every host's checks, read from Prometheus")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    status = verbs.add_parser("status", help="state of every host × check, failures first; silent hosts are STALE")
    status.add_argument("-j", "--json", action="store_true",
                        help="machine-readable output (docs/fleet-status.schema.json)")
    status.add_argument("-f", "--failed-only", action="store_true",
                        help="only FAILED, WARNING and STALE rows (and checks running after a failed run)")
    status.add_argument("--prometheus", metavar="URL", help="the Prometheus to ask (default: fleet.prometheus_url)")
    status.set_defaults(run=run)


def settings(ctx: Context, url: str | None) -> Settings:
    """fleet: from the config; with --prometheus a machine without a bamon config can look too."""
    try:
        return ctx.config().fleet
    except BamonError:
        if url:
            return Settings()
        raise


def run(args: argparse.Namespace, ctx: Context) -> int:
    from bamon.fleet import view  # requests and the fleet code: only for this command

    fleet = view.look(settings(ctx, args.prometheus), args.prometheus)
    shown = view.failing(fleet.rows) if args.failed_only else fleet.rows
    if args.json:
        print_json(fleet.document(args.failed_only))
        return 0
    hosts = {r.host.target for r in fleet.rows}
    if not shown:
        print("No failing checks and no stale hosts." if fleet.rows else
              f"No bamon metrics in Prometheus at {fleet.url}: is it scraping the hosts' /metrics?")
    else:
        print(table(HEADERS, [(r.host.name, r.check, color_status(_COLOR_OF.get(r.status, r.status), r.status),
                               _ago(r.last_run, fleet.now), r.reason or "-") for r in shown], squeeze="REASON"))
    stale = {r.host.target for r in fleet.rows if r.host.stale}
    failed = sum(1 for r in fleet.rows if r.failing)
    print(f"\n{len(hosts)} host(s), {len(fleet.rows)} check(s): {failed} failing, {len(stale)} host(s) stale")
    return 0


def _ago(unix: float | None, now: float) -> str:
    """Measured against Prometheus' clock, as the staleness is."""
    return "never" if unix is None else f"{format_span(max(now - unix, 0))} ago"
