"""The writes the web API may ask for, as one table over bamon.manage.

Both the in-process writer and the privileged helper run requests through `perform`, so the
helper accepts exactly these operations and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bamon import manage
from bamon.context import Context
from bamon.errors import BamonError
from bamon.paths import Paths

Op = Callable[[Context, str, dict[str, Any], manage.Actor], manage.Change | None]

OPS: dict[str, Op] = {
    "add": lambda ctx, name, data, actor: manage.add(ctx, {"name": name, **data}, actor),
    "update": lambda ctx, name, data, actor: manage.update(ctx, name, data, actor),
    "remove": lambda ctx, name, data, actor: manage.remove(ctx, name, actor),
    "enable": lambda ctx, name, data, actor: manage.set_enabled(ctx, name, True, actor),
    "disable": lambda ctx, name, data, actor: manage.set_enabled(ctx, name, False, actor),
    "execute": lambda ctx, name, data, actor: manage.execute(ctx, name, actor),
}


def perform(paths: Paths, op: str, name: str, data: dict[str, Any], user: str) -> dict[str, Any]:
    """Run one write; its outcome as JSON-ready data (raises BamonError when refused)."""
    if op not in OPS:
        raise BamonError(f"unknown operation {op!r}", f"one of: {', '.join(OPS)}")
    notes: list[str] = []
    ctx = Context(paths, note=notes.append)  # fresh per write: nothing cached across requests
    change = OPS[op](ctx, name, data, manage.Actor(user, "web"))
    if change is None:
        return {"action": op, "name": name, "changed": False, "notes": notes}
    return {"action": change.action, "name": change.name, "changed": True, "notes": notes}
