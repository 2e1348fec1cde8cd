"""The audit trail: one journald record per change to the config (who, what, before, after).

Read it with `journalctl MESSAGE_ID=f84e75758ce842fcaa04acb843d014d6` or later `bamon audit`.
"""

from __future__ import annotations

import getpass
import os

from bamon.journal import AUDIT_ID, Journal


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
