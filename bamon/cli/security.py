"""bamon security [NAME]: systemd's exposure score of every check and what closes the biggest gaps."""

from __future__ import annotations

import argparse
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import NOTHING_CONFIGURED, note, print_json, table
from bamon.errors import BamonError
from bamon.security import exposure


def register(sub: Any) -> None:
    p = sub.add_parser("security", help="exposure score of each check (systemd-analyze security)")
    p.add_argument("name", nargs="?", metavar="NAME", help="only this check")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def require_live(ctx: Context, what: str) -> None:
    """systemd rates the units it has loaded: those of the config it runs, not another file's."""
    if not ctx.live:
        raise BamonError(f"{what} looks at the units systemd runs, and --config/BAMON_CONFIG names another config",
                         "run it without --config (and without BAMON_CONFIG)")


def render(rated: list[exposure.CheckExposure]) -> str:
    rows = [(c.name, c.profile, "-" if c.score is None else f"{c.score:.1f}", c.level or "not loaded")
            for c in rated]
    lines = [table(("NAME", "SANDBOX", "EXPOSURE", "LEVEL"), rows)]
    for c in rated:
        if c.top:
            lines.append(f"\n{c.name}: biggest open items (systemd-analyze security {c.unit})")
            lines += [f"  {i.exposure:.1f}  {i.setting}  {i.why}\n        closes with: {i.fix}" for i in c.top]
    return "\n".join(lines)


def run(args: argparse.Namespace, ctx: Context) -> int:
    require_live(ctx, "bamon security")
    scripts = [ctx.script(args.name)] if args.name else list(ctx.config().scripts)
    rated = exposure.rate(ctx.systemd, scripts)
    if args.json:
        print_json({"checks": [c.as_json() for c in rated]})
    elif not rated:
        print(NOTHING_CONFIGURED)
    else:
        print(render(rated))
    missing = [c.unit for c in rated if c.score is None]
    if missing:
        note(f"systemd has not loaded {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}: "
             "run `bamon apply` (or `systemctl daemon-reload`) and try again")
    return 0
