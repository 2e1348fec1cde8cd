"""bamon reset NAME: close a check's circuit breaker by hand (it runs again at its next timer)."""

from __future__ import annotations

import argparse
from typing import Any

from bamon import audit
from bamon.cli.context import Context
from bamon.errors import BamonError
from bamon.paths import CIRCUIT
from bamon.recovery import breaker


def register(sub: Any) -> None:
    p = sub.add_parser("reset", help="close a check's circuit breaker")
    p.add_argument("name")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    script = ctx.script(args.name)
    if script.recovery.breaker is None:
        raise BamonError(f"{script.name} has no circuit breaker",
                         "configure one: circuit_breaker: {failures: 5, cooldown: 10m}")
    files = [base / script.name / CIRCUIT for base in ctx.paths.check_state_dirs]
    found = [(f, breaker.read(f)) for f in files if f.exists()]
    opened = [(f, c) for f, c in found if c != breaker.CLOSED]
    if not opened:
        print(f"the circuit of {script.name} is already closed")
        return 0
    for file, circuit in opened:
        breaker.write(file, breaker.CLOSED)
        audit.record(ctx.journal, "reset", script.name, before=circuit.line().strip(),
                     after=breaker.CLOSED.line().strip())
    print(f"closed the circuit of {script.name}; it runs again at its next timer")
    return 0
