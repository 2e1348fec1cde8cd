"""bamon audit [--since] [--json] | seal | verify: who changed what, made tamper-evident.

The records are journald's (bamon/audit.py writes them on every change); sealing and
verifying are journald's Forward Secure Sealing (`journalctl --setup-keys`, `--verify`),
which bamon only wraps with the warnings an operator needs.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from bamon import audit, paths
from bamon.cli.context import Context
from bamon.cli.output import iso, print_json, table
from bamon.errors import BamonError


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="who changed what; seal and verify the journal holding it")
    p.add_argument("-s", "--since", metavar="WHEN", help='only records since WHEN ("1h", "yesterday", …)')
    p.add_argument("--json", action="store_true", help="machine-readable output, with the text before and after")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    seal = actions.add_parser("seal", help="seal the journal (journalctl --setup-keys); "
                              "prints the verification key once")
    seal.add_argument("--interval", default="15min", metavar="SPAN",
                      help="how often journald seals and evolves its key (default 15min)")
    seal.add_argument("--force", action="store_true", help="replace an existing sealing key")
    verify = actions.add_parser("verify", help="check the journal's hashes and, with --key, its seals")
    verify.add_argument("--key", metavar="KEY",
                        help='the verification key from `bamon audit seal` ("-": read it from stdin)')
    verify.add_argument("--json", action="store_true", dest="verify_json", help="machine-readable output")
    p.set_defaults(run=run)


def _list(args: argparse.Namespace, ctx: Context) -> int:
    entries = audit.read(ctx.journal, args.since)
    if args.json:
        print_json({"entries": [e.as_json() for e in entries]})
    elif not entries:
        print("no audit records" + (f" since {args.since}" if args.since else ""))
    else:
        print(table(("TIME", "USER", "VIA", "ACTION", "CHECK", "WHAT"),
                    [(iso(e.time) or "", e.user, e.via, e.action, e.check or "-", e.what()) for e in entries],
                    squeeze="WHAT"))
    return 0


def _system_journal(ctx: Context, what: str) -> None:
    if ctx.user_mode:
        raise BamonError(f"{what} works on the system journal", "run it as root, without --user")


WARNING = """\
bamon: journald now seals the journal every {interval}: from the file it opened just now, each
  sealed stretch can no longer be changed unnoticed, even by root.
bamon: the verification key is printed once, above, and bamon keeps no copy of it. Store it OFF
  this host (a password manager, a printout in a safe). Anyone who has it and controls this host
  could forge seals; without it `bamon audit verify` checks the hashes only, not the seals.
bamon: check the journal with: bamon audit verify --key KEY
"""


def _seal(args: argparse.Namespace, ctx: Context) -> int:
    _system_journal(ctx, "bamon audit seal")
    if paths.journal_dir() is None:
        raise BamonError("journald keeps no persistent journal here (no /var/log/journal/MACHINE-ID): "
                         "a journal in memory cannot be sealed",
                         "mkdir -p /var/log/journal && systemctl restart systemd-journald, then run this again")
    existing = paths.sealing_key()
    if existing is not None and not args.force:
        raise BamonError(f"the journal is sealed already (sealing key {existing})",
                         "its verification key was shown when it was made; --force makes a new key "
                         "(the old verification key then checks only the older files)")
    key = ctx.journal.setup_keys(args.interval, args.force)
    after = f"interval {args.interval}; sealing key {paths.sealing_key()}" + (" (replaced)" if existing else "")
    audit.record(ctx.journal, "audit-seal", None, after=after)  # never the verification key
    print(key)
    sys.stderr.write(WARNING.format(interval=args.interval))
    return 0


_FILE = re.compile(r"^(PASS|FAIL): (\S+)(?: \((.*)\))?")


def _verify(args: argparse.Namespace, ctx: Context) -> int:
    _system_journal(ctx, "bamon audit verify")
    key = args.key
    if key == "-":
        key = sys.stdin.readline().strip()
    if key is not None and not key:
        raise BamonError("the verification key is empty", "pass the key `bamon audit seal` printed")
    ok, report = ctx.journal.verify(key)
    files = [{"file": m[2], "result": m[1], "detail": m[3]} for m in map(_FILE.match, report) if m]
    if not ok and not files:  # journalctl refused before looking at any file: a bad key, no journal
        raise BamonError(f"journalctl --verify: {report[-1] if report else 'failed'}",
                         "pass the whole line `bamon audit seal` printed (hex groups, a slash, two numbers)"
                         if key else "run it as root, with a persistent journal")
    failed = [f for f in files if f["result"] == "FAIL"]
    if args.verify_json:
        print_json({"ok": ok, "seals_checked": key is not None, "files": files, "report": report})
    else:
        print("\n".join(report))
        what = "hashes and seals" if key else "hashes only (no --key: seals not checked)"
        print(f"\n{len(files) - len(failed)} journal file(s) passed, {len(failed)} failed: {what}")
    if not ok:
        raise BamonError(f"journal verification failed ({len(failed)} file(s))",
                         "a journal file changed after it was written, or the key does not match: "
                         "see the FAIL lines above; keep the files for investigation")
    return 0


_ACTIONS = {None: _list, "seal": _seal, "verify": _verify}


def run(args: argparse.Namespace, ctx: Context) -> int:
    return _ACTIONS[args.action](args, ctx)
