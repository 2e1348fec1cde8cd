"""bamon completions bash|zsh|fish: the shell completion script, generated from the parser.

The scripts complete commands, options and their choices, and check names; for check names they
call `bamon completions --check-names` (with the --user/--config already typed), which prints the
configured names one per line and stays silent when the config cannot be read.
"""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.completion import SHELLS


def register(sub: Any) -> None:
    p = sub.add_parser("completions", help="print the completion script for a shell")
    p.add_argument("shell", nargs="?", choices=sorted(SHELLS), help="the shell to complete in")
    p.add_argument("--check-names", action="store_true",
                   help="print the configured check names, one per line (what the scripts call)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.check_names:
        try:
            names = [s.name for s in ctx.config().scripts]
        except Exception:  # noqa: BLE001 - a completion must never print a traceback into the prompt
            return 0
        print("\n".join(names))
        return 0
    if not args.shell:
        from bamon.errors import BamonError

        raise BamonError("which shell?", "bamon completions bash|zsh|fish")
    from bamon.cli.tree import bamon_tree

    print(SHELLS[args.shell](bamon_tree()), end="")
    return 0
