"""bamon config history | diff | rollback | reload: the versions of the config (bamon/versions.py).

Every change made through bamon, and every hand edit once it is picked up (by the config
watch, `bamon config reload` or `bamon apply`), is a version: who, when, what, and its diff.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from bamon import manage
from bamon.cli.context import Context
from bamon.cli.output import note, page, print_json, table
from bamon.errors import BamonError
from bamon.versions import Store, Version


def register(verbs: Any) -> None:
    """The verbs, under `bamon config` (config_cmd.py registers them)."""
    history = verbs.add_parser("history", help="the versions of the config: who changed what, when")
    history.add_argument("-n", "--lines", type=int, help="only the newest N versions")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.set_defaults(run=run_history)
    diff = verbs.add_parser("diff", help="what changed between two versions (or since one)")
    diff.add_argument("old", metavar="V1", help="a version number (or commit id)")
    diff.add_argument("new", metavar="V2", nargs="?", help="another version (default: the files now)")
    diff.set_defaults(run=run_diff)
    rollback = verbs.add_parser("rollback", help="make the config exactly as in a version again, live at once")
    rollback.add_argument("version", metavar="V", help="a version number (or commit id)")
    rollback.add_argument("-f", "--force", "-y", "--yes", dest="yes", action="store_true", help="do not ask")
    rollback.set_defaults(run=run_rollback)
    reload = verbs.add_parser("reload", help="make hand edits live: validate, keep a version, reload, "
                                             "start new timers, stop removed ones (refused if invalid)")
    reload.set_defaults(run=run_reload)


def _table(versions: list[Version]) -> str:
    return table(("VERSION", "TIME", "USER", "VIA", "WHAT", "FILES"),
                 [(str(v.number), v.when.astimezone().strftime("%Y-%m-%d %H:%M:%S"), v.user, v.via,
                   re.sub(r" by \S+( via .*)?$", "", v.summary), ", ".join(v.files) or "-") for v in versions],
                 squeeze="FILES")


def show_versions(versions: list[Version], args: argparse.Namespace, what: str) -> int:
    """The versions (newest last), as a table or JSON; shared with `bamon history NAME --config`."""
    if args.lines and args.lines > 0:
        versions = versions[-args.lines:]
    if args.json:
        print_json({"versions": [v.as_dict() for v in versions]})
    elif not versions:
        print(f"no config versions {what}yet")
    else:
        page(_table(versions))
    return 0


def run_history(args: argparse.Namespace, ctx: Context) -> int:
    return show_versions(manage.store(ctx).history(), args, "")


def run_diff(args: argparse.Namespace, ctx: Context) -> int:
    kept = manage.store(ctx)
    old = kept.resolve(args.old)
    new = kept.resolve(args.new) if args.new else None
    text = kept.diff(old, new)
    if not text:
        print(f"no difference between version {old.number} and "
              + (f"version {new.number}" if new else "the files now"))
        return 0
    page(text.rstrip("\n"))
    return 0


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    from bamon.cli.config_cmd import confirmed  # config_cmd registers this module

    kept: Store = manage.store(ctx)
    target = kept.resolve(args.version)
    if not args.yes:
        answer = confirmed(f"Make the config exactly as in version {target.number} ({target.summary})?")
        if answer is None:
            raise BamonError("not rolling back without confirmation", "pass --yes")
        if not answer:
            print("nothing changed")
            return 0
    change, target = manage.rollback(ctx, args.version)
    print(f"the config is as in version {target.number} again ({change.path}); its checks are live")
    return 0


# While the watch's reload runs, systemd does not watch the config directories (a path unit
# drops its inotify watches while the unit it triggered is active, and re-arms them when it
# ends): an edit saved meanwhile wakes nobody. So go round again while the files differ from
# what was just applied (a few rounds at most: an editor saving non-stop is caught next time).
RELOAD_ROUNDS = 3


def run_reload(args: argparse.Namespace, ctx: Context) -> int:
    for _ in range(RELOAD_ROUNDS):
        try:
            applied = manage.reload_files(ctx, manage.Actor(via="config reload"))
        except manage.ConfigRejected as rejected:
            from bamon.cli.config_cmd import report

            report(rejected.issues)
            raise
        for unit in applied.stopped:
            note(f"stopped {unit}: its check is gone or disabled")
        sys.stdout.write("applied" + (" and kept as a new version\n" if applied.versioned
                                      else " (no change to keep)\n"))
        if not manage.edits_pending(ctx):
            break
    return 0
