"""A web app over a tmp config with the unit tier's fake systemd and journal, plus accounts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamon.paths import Paths
from bamon.web.app import create_app
from bamon.web.auth import Accounts

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")


@dataclass
class FeedSource:
    """Stands in for `journalctl -f`: yields what tests put in."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:
            while sent < len(self.entries):
                yield self.entries[sent]
                sent += 1
            await asyncio.sleep(0.01)


def cheap_hasher() -> Any:
    """argon2 with the smallest cost: the same code path, without 60 ms per hash."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def make_paths(tmp: Path) -> Paths:
    return Paths(user_mode=False, config_file=tmp / "config.yaml", scripts_dir=tmp / "scripts.d",
                 state_dir=tmp / "state", check_state_dirs=(tmp / "state" / "checks",), unit_dir=tmp / "units",
                 config_overridden=False)


def make_app(tmp: Path, source: FeedSource) -> tuple[Any, dict[str, str]]:
    """(app, {role: bearer token}); users named after their roles, all with PASSWORD."""
    accounts = Accounts(tmp / "web")
    tokens = {}
    for role in ROLES:
        accounts.add_user(role, role, PASSWORD)
        tokens[role] = accounts.create_token(role)[1]
    return create_app(make_paths(tmp), tmp / "web", source=source), tokens
