"""bamon secret set|list|remove: secrets for channel settings ("${secret:NAME}").

System mode encrypts with systemd-creds (host key, TPM2 where present) into
/etc/bamon/credentials and regenerates the drop-ins that hand them to the alert-sending units.
User mode on systemd 252 stores a 0600 file instead (see bamon.secrets). A value is read from
stdin or a prompt, never from the command line (it would show in `ps` and shell history).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bamon import secrets
from bamon.cli.context import Context
from bamon.cli.output import note, print_json
from bamon.config.channels import raw_channels
from bamon.config.load import load_raw
from bamon.errors import BamonError


def register(sub: Any) -> None:
    p = sub.add_parser("secret", help="secrets for alert channels: set, list, remove")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    set_ = actions.add_parser("set", help="store NAME (value from stdin, or a prompt on a terminal)")
    set_.add_argument("name", metavar="NAME")
    listing = actions.add_parser("list", help="names of the stored secrets (never their values)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    for word in ("remove", "rm"):
        actions.add_parser(word, help="delete NAME" if word == "remove" else "same as remove").add_argument(
            "name", metavar="NAME")
    p.set_defaults(run=run)


def _value() -> str:
    if sys.stdin.isatty():
        value = getpass.getpass("value (not echoed): ")
    else:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    if not value:
        raise BamonError("empty value", "pipe the value in (printf %s VALUE | bamon secret set NAME) or type it")
    return value


def _publish(ctx: Context) -> None:
    """Hand the stored secrets to the notifier and the outbox (system mode)."""
    if ctx.user_mode:
        return
    secrets.write_dropins(ctx.paths)
    if ctx.live:
        ctx.systemd.daemon_reload()


def run(args: argparse.Namespace, ctx: Context) -> int:
    paths = ctx.paths
    if args.action == "list":
        names = secrets.stored(paths)
        if args.json:
            print_json({"secrets": names, "store": str(paths.credentials_dir)})
        else:
            print("\n".join(names) if names else "no secrets stored (bamon secret set NAME)")
        return 0
    if args.action == "set":
        secrets.store(paths, args.name, _value(), ctx.systemd.encrypt_credential)
        _publish(ctx)
        how = ("a 0600 file (user managers on systemd 252 cannot use systemd-creds)" if ctx.user_mode
               else "encrypted with systemd-creds")
        print(f"stored secret {args.name!r}: {how}; use it as \"${{secret:{args.name}}}\"")
        return 0
    if not secrets.remove(paths, args.name):
        raise BamonError(f"no secret named {args.name!r}", "see `bamon secret list`")
    _publish(ctx)
    print(f"removed secret {args.name!r}")
    raw = raw_channels(load_raw(paths.config_file, paths.scripts_dir))
    if any(args.name == ref for _, ref in secrets.references(raw)):
        note(f"a channel still uses ${{secret:{args.name}}}: `bamon config validate` says which")
    return 0
