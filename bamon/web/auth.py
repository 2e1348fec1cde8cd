"""Users, API tokens and browser sessions; roles; login rate limiting.

Passwords are argon2 hashes (argon2-cffi, python3-argon2 in Debian 12). API tokens and session
ids are 256-bit random values: for those a SHA-256 digest is as safe as a slow hash and costs
microseconds per request instead of argon2's ~50 ms, which the API's latency budget cannot pay.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bamon.errors import BamonError
from bamon.web.store import JsonStore

ROLES = ("viewer", "operator", "admin")  # each may do everything the ones before it may
NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}\Z")
SESSION_SECONDS = 12 * 3600
TOKEN_PREFIX = "bamon_"



@cache
def _hasher() -> Any:
    # Imported on first use: the CLI registers `bamon user` on every run and must not pay for it.
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    hashed: str = _hasher().hash("not the password of anyone")
    return hashed


def rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Identity:
    """Who is asking: the user, their role, and how they proved it (session or token)."""

    user: str
    role: str
    via: str  # session | token
    csrf: str = ""  # the session's CSRF token (sessions only)

    def may(self, role: str) -> bool:
        return rank(self.role) >= rank(role)


class Accounts:
    """users.json, tokens.json and sessions.json in the web state directory."""

    def __init__(self, directory: Path) -> None:
        self.users = JsonStore(directory / "users.json")
        self.tokens = JsonStore(directory / "tokens.json")
        self.sessions = JsonStore(directory / "sessions.json")

    # --- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str) -> None:
        if not NAME.match(name):
            raise BamonError(f"user name {name!r} is not valid", "use letters, digits and _ . @ - (at most 64)")
        if role not in ROLES:
            raise BamonError(f"role {role!r} is not valid", f"one of: {', '.join(ROLES)}")
        if len(password) < 8:
            raise BamonError("the password is too short", "use at least 8 characters")
        with self.users.update() as data:
            if name in data:
                raise BamonError(f"user {name!r} already exists", "remove it first, or pick another name",
                                 code="conflict")
            data[name] = {"role": role, "hash": _hasher().hash(password), "created": int(time.time())}

    def remove_user(self, name: str) -> None:
        with self.users.update() as data:
            if data.pop(name, None) is None:
                raise BamonError(f"no user named {name!r}", "see `bamon user list`", code="not_found")
        with self.tokens.update() as tokens:  # their tokens and sessions end with them
            for key in [k for k, v in tokens.items() if v.get("user") == name]:
                del tokens[key]
        with self.sessions.update() as sessions:
            for key in [k for k, v in sessions.items() if v.get("user") == name]:
                del sessions[key]

    def list_users(self) -> list[dict[str, object]]:
        return [{"name": n, "role": u.get("role"), "created": u.get("created")}
                for n, u in sorted(self.users.read().items())]

    def _identity(self, name: str, via: str, csrf: str = "") -> Identity | None:
        user = self.users.read().get(name)
        return Identity(name, user["role"], via, csrf) if isinstance(user, dict) else None

    def check_password(self, name: str, password: str) -> Identity | None:
        user = self.users.read().get(name)
        stored = user.get("hash", "") if isinstance(user, dict) else ""
        from argon2.exceptions import VerificationError

        try:
            # a dummy verify for unknown users: the answer takes as long either way
            _hasher().verify(stored or _dummy_hash(), password)
        except (VerificationError, ValueError):  # ValueError: a broken stored hash (InvalidHash)
            return None
        return self._identity(name, "session") if stored else None

    # --- tokens -------------------------------------------------------------------------------
    def create_token(self, user: str, label: str = "") -> tuple[str, str]:
        """A new token for `user`: (id, the token itself — shown once, stored only as a digest)."""
        if self._identity(user, "token") is None:
            raise BamonError(f"no user named {user!r}", "create it with `bamon user add`", code="not_found")
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        with self.tokens.update() as data:
            data[token_id] = {"user": user, "sha256": _digest(secret), "label": label, "created": int(time.time())}
        return token_id, f"{TOKEN_PREFIX}{token_id}_{secret}"

    def revoke_token(self, token_id: str, owner: str | None = None) -> None:
        with self.tokens.update() as data:
            entry = data.get(token_id)
            if entry is None or (owner is not None and entry.get("user") != owner):
                raise BamonError(f"no token {token_id!r}", "see `bamon token list`", code="not_found")
            del data[token_id]

    def list_tokens(self, owner: str | None = None) -> list[dict[str, object]]:
        return [{"id": k, "user": v.get("user"), "label": v.get("label", ""), "created": v.get("created")}
                for k, v in sorted(self.tokens.read().items()) if owner is None or v.get("user") == owner]

    def token_identity(self, token: str) -> Identity | None:
        token_id, _, secret = token.removeprefix(TOKEN_PREFIX).partition("_")
        entry = self.tokens.read().get(token_id)
        if not isinstance(entry, dict) or not hmac.compare_digest(entry.get("sha256", ""), _digest(secret)):
            return None
        return self._identity(str(entry.get("user")), "token")

    # --- sessions ---------------------------------------------------------------------------------
    def start_session(self, user: str) -> tuple[str, str]:
        """(session id for the cookie, CSRF token for the page)."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = int(time.time())
        with self.sessions.update() as data:
            for key in [k for k, v in data.items() if v.get("expires", 0) < now]:
                del data[key]
            data[_digest(sid)] = {"user": user, "csrf": csrf, "expires": now + SESSION_SECONDS}
        return sid, csrf

    def session_identity(self, sid: str) -> Identity | None:
        entry = self.sessions.read().get(_digest(sid))
        if not isinstance(entry, dict) or entry.get("expires", 0) < time.time():
            return None
        return self._identity(str(entry.get("user")), "session", str(entry.get("csrf", "")))

    def end_session(self, sid: str) -> None:
        with self.sessions.update() as data:
            data.pop(_digest(sid), None)


class RateLimit:
    """At most `limit` failed logins per key (user and client address) in `window` seconds.

    In memory: the service may exit when idle, but an attacker's steady requests keep it up.
    """

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        times = self._failures.get(key)
        now = time.monotonic()
        while times and now - times[0] > self.window:
            times.popleft()
        return bool(times) and len(times or ()) >= self.limit

    def failed(self, key: str) -> None:
        self._failures.setdefault(key, deque()).append(time.monotonic())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
