"""bamon silence add|list|remove: keep alerts about a check (or a tag) quiet for a while.

Silenced alerts are still decided and recorded (alert.decision action=silenced), never sent.
Silences expire by themselves; the file is pruned whenever it is read.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bamon import manage
from bamon.cli.context import Context
from bamon.cli.output import print_json, table
from bamon.config.timespec import format_span, parse_span
from bamon.errors import BamonError
from bamon.notify import silences


def register(sub: Any) -> None:
    p = sub.add_parser("silence", help="keep alerts about a check or tag quiet for a while")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    add = verbs.add_parser("add", help="silence NAME, or every check tagged T (--tag T)")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("name", nargs="?", help="the check")
    target.add_argument("--tag", help="every check with this tag")
    add.add_argument("--for", dest="duration", required=True, metavar="SPAN", help='how long, e.g. "2h", "30min"')
    add.add_argument("--reason", default="", help="shown in `silence list` and in the alert records")
    add.set_defaults(run=_add)
    show = verbs.add_parser("list", help="silences in force")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=_list)
    remove = verbs.add_parser("remove", help="end a silence now")
    remove.add_argument("id", help="its ID from `bamon silence list`")
    remove.set_defaults(run=_remove)


def _add(args: argparse.Namespace, ctx: Context) -> int:
    try:
        seconds = parse_span(args.duration)
    except ValueError as exc:
        raise BamonError(f"--for {args.duration!r}: {exc}", 'use a span such as "2h" or "30min"') from None
    if seconds <= 0:
        raise BamonError("--for must be longer than 0 s", 'use a span such as "2h" or "30min"')
    silence = manage.add_silence(ctx, args.name or "", args.tag or "", seconds, args.reason)
    print(f"silenced {silence.target} for {format_span(seconds)} (id {silence.id})")
    return 0


def _iso(value: float) -> str:
    return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="seconds")


def _list(args: argparse.Namespace, ctx: Context) -> int:
    found = silences.active(ctx.paths.silences_file)
    if args.json:
        print_json({"silences": [{"id": s.id, "check": s.check or None, "tag": s.tag or None, "until": _iso(s.until),
                                  "created": _iso(s.created), "reason": s.reason, "by": s.by} for s in found]})
        return 0
    if not found:
        print("no silences")
        return 0
    now = time.time()
    print(table(["ID", "SILENCES", "ENDS IN", "UNTIL", "BY", "REASON"],
                [[s.id, s.target, format_span(s.until - now), _iso(s.until), s.by, s.reason] for s in found],
                squeeze="REASON"))
    return 0


def _remove(args: argparse.Namespace, ctx: Context) -> int:
    manage.remove_silence(ctx, args.id)
    print(f"removed silence {args.id}")
    return 0
