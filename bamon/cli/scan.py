"""bamon scan [NAME]: shellcheck, dangerous patterns and permissions of what each check runs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import NOTHING_CONFIGURED, note, print_json
from bamon.config.model import Script
from bamon.security import scan

NO_SHELLCHECK = "shellcheck is not installed: its checks were skipped (apt install shellcheck)"


def register(sub: Any) -> None:
    p = sub.add_parser("scan", help="scan checks for risky shell: shellcheck, patterns, file permissions")
    p.add_argument("name", nargs="?", metavar="NAME", help="only this check")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def warn(ctx: Context, script: Script) -> None:
    """After `bamon add`: the serious findings as warnings (the check is added all the same)."""
    report = scan.scan_checks([script], ctx.user_mode)
    for finding in scan.serious(report.findings):
        sys.stderr.write(f"bamon: warning: {finding}\n  fix: {finding.fix}\n")
    if scan.serious(report.findings):
        note(f"`bamon scan {script.name}` lists every finding")


def run(args: argparse.Namespace, ctx: Context) -> int:
    scripts = [ctx.script(args.name)] if args.name else list(ctx.config().scripts)
    report = scan.scan_checks(scripts, ctx.user_mode)
    findings, have_shellcheck = list(report.findings), report.shellcheck
    order = {s: i for i, s in enumerate(scan.SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.check, f.source, f.line))
    if args.json:
        print_json({"shellcheck": have_shellcheck, "findings": [f.as_json() for f in findings]})
    elif not scripts:
        print(NOTHING_CONFIGURED)
    elif not findings:
        print(f"no findings in {len(scripts)} check(s)")
    else:
        print("\n".join(f"{f.severity:<7} {f}\n        fix: {f.fix}" for f in findings))
        counts = {s: sum(f.severity == s for f in findings) for s in scan.SEVERITIES}
        print(f"\n{len(findings)} finding(s) in {len(scripts)} check(s): "
              + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if not have_shellcheck:
        note(NO_SHELLCHECK)
    # exit status 1 when something needs action: `bamon scan` can gate a pipeline
    return 1 if scan.serious(findings) else 0
