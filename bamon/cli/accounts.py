"""bamon user add|list|remove and bamon token create|list|revoke: who may use the web API."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bamon import audit
from bamon.cli.context import Context
from bamon.cli.output import print_json, table
from bamon.errors import BamonError
from bamon.web.auth import ROLES, Accounts


def register(sub: Any) -> None:
    user = sub.add_parser("user", help="dashboard and API users").add_subparsers(
        dest="verb", metavar="VERB", required=True)
    add = user.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="viewer",
                     help="viewer reads; operator also runs, enables and disables; admin changes everything")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(run=run_user_add)
    listing = user.add_parser("list", help="users and roles")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_user_list)
    remove = user.add_parser("remove", help="remove a user with their tokens and sessions")
    remove.add_argument("name")
    remove.set_defaults(run=run_user_remove)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="verb", metavar="VERB", required=True)
    create = token.add_parser("create", help="a new API token for a user (printed once)")
    create.add_argument("--user", dest="owner", required=True)
    create.add_argument("--label", default="")
    create.set_defaults(run=run_token_create)
    tokens = token.add_parser("list", help="token ids, owners and labels")
    tokens.add_argument("--json", action="store_true")
    tokens.set_defaults(run=run_token_list)
    revoke = token.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id")
    revoke.set_defaults(run=run_token_revoke)


def _accounts(ctx: Context) -> Accounts:
    return Accounts(ctx.paths.web_state_dir)


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise BamonError("the passwords differ", "run the command again")
    return first


def run_user_add(args: argparse.Namespace, ctx: Context) -> int:
    _accounts(ctx).add_user(args.name, args.role, _password(args.password_stdin))
    audit.record(ctx.journal, "user-add", None, after=f"{args.name} ({args.role})")
    print(f"added {args.name} ({args.role}); the dashboard: systemctl enable --now bamon.web.socket")
    return 0


def _show(args: argparse.Namespace, key: str, items: list[dict[str, object]], columns: dict[str, str]) -> int:
    """--json as {key: items}, else a table of `columns` (heading: field)."""
    if args.json:
        print_json({key: items})
    else:
        print(table(tuple(columns), [tuple(str(i[f]) for f in columns.values()) for i in items]))
    return 0


def run_user_list(args: argparse.Namespace, ctx: Context) -> int:
    return _show(args, "users", _accounts(ctx).list_users(), {"NAME": "name", "ROLE": "role"})


def run_user_remove(args: argparse.Namespace, ctx: Context) -> int:
    _accounts(ctx).remove_user(args.name)
    audit.record(ctx.journal, "user-remove", None, before=args.name)
    print(f"removed {args.name}")
    return 0


def run_token_create(args: argparse.Namespace, ctx: Context) -> int:
    token_id, token = _accounts(ctx).create_token(args.owner, args.label)
    audit.record(ctx.journal, "token-create", None, after=f"{token_id} for {args.owner}")
    print(token)
    sys.stderr.write(f"token {token_id} for {args.owner}: keep it now, it is not shown again\n")
    return 0


def run_token_list(args: argparse.Namespace, ctx: Context) -> int:
    return _show(args, "tokens", _accounts(ctx).list_tokens(), {"ID": "id", "USER": "user", "LABEL": "label"})


def run_token_revoke(args: argparse.Namespace, ctx: Context) -> int:
    _accounts(ctx).revoke_token(args.id)
    audit.record(ctx.journal, "token-revoke", None, before=args.id)
    print(f"revoked {args.id}")
    return 0
