"""bamon metrics: the Prometheus exposition of every check, on stdout or as a textfile.

`--textfile PATH` is what bamon.metrics.service runs every minute for node_exporter's textfile
collector (Debian's reads /var/lib/prometheus/node-exporter/*.prom).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bamon.cli.context import Context


def register(sub: Any) -> None:
    p = sub.add_parser("metrics", help="Prometheus metrics of every check")
    p.add_argument("--textfile", metavar="PATH", nargs="?", type=Path,
                   const=Path("/var/lib/prometheus/node-exporter/bamon.prom"),
                   help="write a node_exporter textfile-collector file (atomically) instead of printing; "
                        "default path /var/lib/prometheus/node-exporter/bamon.prom")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    # imported here: prometheus-client is needed by this command and the web service only
    from bamon.integrations import prometheus

    live = ctx.live
    snapshot = prometheus.take(ctx.config(), ctx.paths, ctx.systemd if live else None,
                               ctx.journal if live else None)
    if args.textfile:
        prometheus.write_textfile(snapshot, args.textfile)
    else:
        sys.stdout.buffer.write(prometheus.exposition(snapshot))
    return 0
