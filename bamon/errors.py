"""The one error type the CLI turns into a clean message.

Anything the operator can fix (bad config, unknown script, missing permission) is raised as
BamonError with a hint; the CLI prints it as one line plus the hint and exits non-zero.
"""

from __future__ import annotations


class BamonError(Exception):
    """An error the operator can act on: what is wrong, where, and a hint."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
        # A stable machine-readable word for the web API's JSON errors (not_found, conflict, …).
        self.code = code

    def __str__(self) -> str:
        return self.message
