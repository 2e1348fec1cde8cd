"""What the web API may ask of the privileged side, as one table over bamon.manage.

Both the in-process writer and the root helper run requests through `perform`, so the helper
accepts exactly these operations and nothing else. Silences are read here too: their file is
root's and private, like the rest of the alert state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bamon import manage
from bamon.config.timespec import parse_span
from bamon.context import Context
from bamon.errors import BamonError
from bamon.paths import Paths

Op = Callable[[Context, str, dict[str, Any], manage.Actor], dict[str, Any]]


def _change(action: str, name: str, change: manage.Change | None) -> dict[str, Any]:
    if change is None:
        return {"action": action, "name": name, "changed": False}
    return {"action": change.action, "name": change.name, "changed": True}


def _silence_json(s: Any) -> dict[str, Any]:
    return {"id": s.id, "check": s.check or None, "tag": s.tag or None, "until": s.until, "created": s.created,
            "reason": s.reason, "by": s.by}


def _list_silences(ctx: Context, name: str, data: dict[str, Any], actor: manage.Actor) -> dict[str, Any]:
    from bamon.notify import silences

    return {"items": [_silence_json(s) for s in silences.active(ctx.paths.silences_file)], "now": time.time()}


def _add_silence(ctx: Context, name: str, data: dict[str, Any], actor: manage.Actor) -> dict[str, Any]:
    try:
        seconds = parse_span(data.get("for", ""))
    except (TypeError, ValueError) as exc:
        raise BamonError(f"for {data.get('for')!r}: {exc}", 'use a span such as "2h" or "30min"') from None
    silence = manage.add_silence(ctx, str(data.get("check") or ""), str(data.get("tag") or ""), seconds,
                                 str(data.get("reason") or ""), actor)
    return _silence_json(silence)


def _remove_silence(ctx: Context, name: str, data: dict[str, Any], actor: manage.Actor) -> dict[str, Any]:
    manage.remove_silence(ctx, name, actor)
    return {"removed": name}


OPS: dict[str, Op] = {
    "add": lambda ctx, name, data, actor: _change("add", name, manage.add(ctx, {"name": name, **data}, actor)),
    "update": lambda ctx, name, data, actor: _change("update", name, manage.update(ctx, name, data, actor)),
    "remove": lambda ctx, name, data, actor: _change("remove", name, manage.remove(ctx, name, actor)),
    "enable": lambda ctx, name, data, actor: _change("enable", name, manage.set_enabled(ctx, name, True, actor)),
    "disable": lambda ctx, name, data, actor: _change("disable", name, manage.set_enabled(ctx, name, False, actor)),
    "execute": lambda ctx, name, data, actor: _change("execute", name, manage.execute(ctx, name, actor)),
    "silences": _list_silences,
    "silence": _add_silence,
    "unsilence": _remove_silence,
}


def perform(paths: Paths, op: str, name: str, data: dict[str, Any], user: str) -> dict[str, Any]:
    """Run one operation; its outcome as JSON-ready data (raises BamonError when refused)."""
    if op not in OPS:
        raise BamonError(f"unknown operation {op!r}", f"one of: {', '.join(OPS)}")
    notes: list[str] = []
    ctx = Context(paths, note=notes.append)  # fresh per request: nothing cached across requests
    return {**OPS[op](ctx, name, data, manage.Actor(user, "web")), "notes": notes}
