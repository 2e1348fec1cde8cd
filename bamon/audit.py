"""The audit trail: one journald record per change to the config (who, what, before, after).

Read it with `bamon audit` (or `journalctl MESSAGE_ID=f84e75758ce842fcaa04acb843d014d6`); journald's
Forward Secure Sealing makes it tamper-evident (`bamon audit seal`, `bamon audit verify`).
"""

from __future__ import annotations

import difflib
import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from bamon.journal import AUDIT_ID, Journal, field


def who() -> str:
    """The human behind the change: sudo's caller when there is one."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return os.environ.get("SUDO_USER") or user


def record(journal: Journal, action: str, check: str | None, before: str = "", after: str = "",
           actor: str | None = None, via: str = "cli") -> None:
    """One audit record. `actor` is the web login behind a change made through the API (the
    process's own user is then the service's); `via` names the surface (cli, web)."""
    user = actor or who()
    journal.send(
        f"bamon {action}{' ' + check if check else ''} by {user}{'' if via == 'cli' else f' via {via}'}",
        MESSAGE_ID=AUDIT_ID,
        PRIORITY=5,
        SYSLOG_IDENTIFIER="bamon",
        BAMON_AUDIT_ACTION=action,
        BAMON_CHECK=check,
        BAMON_AUDIT_USER=user,
        BAMON_AUDIT_VIA=via,
        BAMON_AUDIT_UID=os.getuid(),
        BAMON_AUDIT_BEFORE=before or None,
        BAMON_AUDIT_AFTER=after or None,
    )


@dataclass(frozen=True)
class Entry:
    """One audit record read back: when, who, through what, which action on which check."""

    time: datetime
    action: str
    check: str | None
    user: str
    via: str
    uid: str
    before: str
    after: str

    def what(self) -> str:
        """The change in a few words: the keys that differ, else how many lines did."""
        old, new = _mapping(self.before), _mapping(self.after)
        if old is not None and new is not None:
            keys = sorted(str(k) for k in {*old, *new} if old.get(k) != new.get(k))
            return "changed " + ", ".join(keys) if keys else "no change"
        if not self.before and self.after and new is None:
            return self.after.splitlines()[0]  # a sentence (a silence), not a config entry
        diff = list(difflib.ndiff(self.before.splitlines(), self.after.splitlines()))
        added, removed = sum(line.startswith("+ ") for line in diff), sum(line.startswith("- ") for line in diff)
        return f"+{added} -{removed} line(s)" if added or removed else ""

    def as_json(self) -> dict[str, object]:
        return {"time": self.time.isoformat(timespec="seconds").replace("+00:00", "Z"), "action": self.action,
                "check": self.check, "user": self.user, "via": self.via, "uid": self.uid, "what": self.what(),
                "before": self.before or None, "after": self.after or None}


def _mapping(text: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def read(journal: Journal, since: str | None = None) -> list[Entry]:
    """The audit records in the journal, oldest first (a bad --since: BamonError from journalctl)."""
    args = [f"MESSAGE_ID={AUDIT_ID}", *([f"--since={since}"] if since else [])]
    return [entry(e) for e in journal.stream(args)]


def entry(e: dict[str, Any]) -> Entry:
    """One audit record from its journal entry (journalctl -o json), as the CLI and the web read it."""
    micros = field(e, "__REALTIME_TIMESTAMP", "0")
    return Entry(
        time=datetime.fromtimestamp(int(micros) / 1e6 if micros.isdigit() else 0, tz=UTC),
        action=field(e, "BAMON_AUDIT_ACTION"), check=field(e, "BAMON_CHECK") or None,
        user=field(e, "BAMON_AUDIT_USER"), via=field(e, "BAMON_AUDIT_VIA") or "cli", uid=field(e, "BAMON_AUDIT_UID"),
        before=field(e, "BAMON_AUDIT_BEFORE"), after=field(e, "BAMON_AUDIT_AFTER"))
