"""bamon performance: the machine's load, memory and disk, and what the checks themselves cost.

The original's verb and JSON keys (`system_metrics`, `script_performance` with `avg_time` and
`failures`); the costs come from systemd's accounting in the journal (bamon/history/costs.py),
the most expensive check first.
"""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import UTC, datetime
from typing import Any

from bamon.cli.context import Context
from bamon.cli.log import when
from bamon.cli.output import iso, note, print_json, table
from bamon.history.costs import CheckCost, costs
from bamon.units import naming

# The document's shape; the original's had no version (and a cache section: nothing is cached here).
_VERSION = 1


def register(sub: Any) -> None:
    p = sub.add_parser("performance", help="system load and what the checks cost")
    p.add_argument("-v", "--verbose", action="store_true", help="also the performance settings and CPU per run")
    p.add_argument("-f", "--format", choices=["table", "json"], default="table")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.add_argument("-s", "--since", default="24h", help="the window the costs cover (default 24h)")
    p.set_defaults(run=run)


def _meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (the kernel's own estimate of what is available included)."""
    values: dict[str, int] = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for row in handle:
                key, _, rest = row.partition(":")
                number = rest.split()[0] if rest.split() else ""
                if number.isdigit():
                    values[key] = int(number) * 1024
    except OSError:
        pass
    return values


def system_metrics() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    memory = _meminfo()
    total, available = memory.get("MemTotal", 0), memory.get("MemAvailable", memory.get("MemFree", 0))
    disk = shutil.disk_usage("/")
    return {
        "load": {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2),
                 "cpus": os.cpu_count() or 1},
        "memory": {"total_bytes": total, "available_bytes": available,
                   "used_percent": round(100 * (total - available) / total, 1) if total else None},
        "disk": {"path": "/", "total_bytes": disk.total, "free_bytes": disk.free,
                 "used_percent": round(100 * disk.used / disk.total, 1) if disk.total else None},
    }


def _cost_json(c: CheckCost) -> dict[str, Any]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {"avg_time": rounded(c.avg_time), "failures": c.failures, "runs": c.runs,
            "max_time": rounded(c.max_time), "cpu_seconds": round(c.cpu_seconds, 4),
            "cpu_per_run": rounded(c.cpu_per_run), "memory_peak_bytes": c.memory_peak}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"


def _bytes(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f}M"


def render(metrics: dict[str, Any], checks: list[CheckCost], since: str, verbose: bool) -> str:
    load, memory, disk = metrics["load"], metrics["memory"], metrics["disk"]
    lines = [
        f"Load: {load['1min']} {load['5min']} {load['15min']} ({load['cpus']} CPUs)",
        f"Memory: {memory['used_percent']}% used, {_bytes(memory['available_bytes'])} available "
        f"of {_bytes(memory['total_bytes'])}",
        f"Disk /: {disk['used_percent']}% used, {_bytes(disk['free_bytes'])} free",
        "",
        f"What the checks cost in the last {since} (systemd's accounting), the most expensive first:",
    ]
    headers = ["NAME", "RUNS", "FAILURES", "AVG TIME", "MAX TIME", "CPU TIME", "MEMORY PEAK"]  # CPU: runs × per run
    headers += ["CPU/RUN"] if verbose else []
    rows = [[c.name, str(c.runs), str(c.failures), _seconds(c.avg_time), _seconds(c.max_time),
             _seconds(c.cpu_seconds if c.cpu_per_run is not None else None), _bytes(c.memory_peak)]
            + ([_seconds(c.cpu_per_run)] if verbose else []) for c in checks]
    return "\n".join(lines) + "\n" + table(headers, rows)


def run(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config()
    since = when(args.since)
    checks = costs(ctx.journal, ctx.systemd, [s.name for s in config.scripts], since) if config.scripts else []
    metrics = system_metrics()
    if args.json or args.format == "json":
        print_json({
            "version": _VERSION,
            "timestamp": iso(datetime.now(UTC)),
            "daemon_status": "running" if ctx.systemd.is_active(naming.TARGET) else "stopped",
            "system_metrics": metrics,
            "since": args.since,
            "script_performance": {c.name: _cost_json(c) for c in checks},
        })
        return 0
    print(render(metrics, checks, args.since, args.verbose))
    if args.verbose:
        print(f"\ncheck timers: {'running' if ctx.systemd.is_active(naming.TARGET) else 'stopped'} "
              f"({naming.TARGET}); at most {config.daemon.max_concurrent} checks at once")
    if any(c.runs for c in checks) and all(c.cpu_per_run is None for c in checks):
        note("no CPU figures: systemd records them when CPU accounting is on (CPUAccounting=)")
    return 0
