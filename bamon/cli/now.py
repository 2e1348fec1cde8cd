"""bamon now: run checks immediately, wait for them, print the results.

Under systemd the runs are the real units (same sandbox, same records). `--local` runs the
commands directly with bash, for containers and CI without systemd, honouring
daemon.max_concurrent and each script's timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bamon.atomic import atomic_write
from bamon.cli.context import Context
from bamon.cli.output import NOTHING_CONFIGURED, note, print_json
from bamon.cli.status import render_table, select
from bamon.config.model import Script
from bamon.errors import BamonError
from bamon.history.records import RunRecord
from bamon.history.status import CheckStatus
from bamon.status_json import document
from bamon.units import naming


def register(sub: Any) -> None:
    p = sub.add_parser("now", help="run checks now and show the results")
    p.add_argument("-n", "--name", action="append", help="only this check (repeatable)")
    p.add_argument("-t", "--tag", action="append", help="only checks with this tag (repeatable: any of them)")
    p.add_argument("--junit", metavar="FILE", type=Path, help="also write a JUnit XML report (CI pipelines)")
    p.add_argument("--fail-on", choices=SEVERITIES, default="info",
                   help="exit 1 only when a check of at least this severity failed (default: any)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--local", action="store_true", help="run directly, without systemd")
    p.add_argument("-a", "--async", dest="concurrent", action="store_true",
                   help="accepted for the original BAMON: runs are always concurrent here")
    p.set_defaults(run=run)


SEVERITIES = ("info", "warning", "critical")


def _targets(args: argparse.Namespace, ctx: Context) -> list[Script]:
    scripts = [ctx.script(n) for n in args.name] if args.name else [s for s in ctx.config().scripts if s.enabled]
    if args.tag:
        scripts = [s for s in scripts if set(args.tag) & set(s.tags)]
    return scripts


def _finish(checks: list[CheckStatus], args: argparse.Namespace) -> int:
    """Print the results, write the JUnit report, and answer the pipeline's question: pass or fail?"""
    if args.junit:
        from bamon.integrations.junit import report

        atomic_write(args.junit, report(checks).decode(), durable=False)
    if args.json:
        print_json(document(checks))
    else:
        print(render_table(checks))
    floor = SEVERITIES.index(args.fail_on)
    gating = [c for c in checks if SEVERITIES.index(c.script.severity) >= floor]
    return 0 if all(c.status == "OK" for c in gating) else 1


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.concurrent:
        note("--async: checks always run concurrently (each is its own unit); the option is ignored")
    scripts = _targets(args, ctx)
    if not scripts:
        print("No enabled scripts to run." if ctx.config().scripts else NOTHING_CONFIGURED)
        return 0
    if args.local:
        return _finish(_run_local(scripts, ctx.config().daemon.max_concurrent), args)
    if not ctx.live:
        raise BamonError("--config names a config that systemd does not run",
                         "add --local to run its checks directly, without systemd")
    ctx.systemd.start(*(s.unit for s in scripts))  # waits: the services are Type=oneshot
    _wait_for_notifier(ctx)
    return _finish(select(ctx, [s.name for s in scripts]), args)


def _wait_for_notifier(ctx: Context, timeout: float = 10.0) -> None:
    """Failed runs are recorded by bamon.notify@ (OnFailure=), which starts after the run:
    wait for it so the table shows systemd's final verdict (e.g. timeout, memory)."""
    deadline = time.monotonic() + timeout
    while ctx.systemd.busy(f"{naming.NOTIFY_TEMPLATE}*") and time.monotonic() < deadline:
        time.sleep(0.1)


def _run_one(script: Script) -> CheckStatus:
    started = time.time()
    env = {**os.environ, **dict(script.environment)}
    # A session of its own, so that a timeout ends everything the command started (like the
    # unit's cgroup under systemd): killing bash alone leaves `sleep`, pipelines and background
    # jobs running, and holding the output pipes open.
    with subprocess.Popen(["/bin/bash", "-c", script.command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=script.limits.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = proc.poll() is None  # else bash ended in time; a leftover child held the pipes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
    code = None if timed_out else proc.returncode
    result = "timeout" if timed_out else "success" if code == 0 else "exit-code"
    # the same record a run under systemd leaves, so the table and JSON are the same too
    record = RunRecord(script.name, "", result, code, int(started * 1e6), int(time.time() * 1e6), 0)
    return CheckStatus(script=script, status="OK" if record.ok else "FAILED", record=record,
                       output=tuple((out + err).strip().splitlines()), next_run=None)


def _run_local(scripts: list[Script], concurrency: int) -> list[CheckStatus]:
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(_run_one, scripts))
