"""A configuration problem, located as precisely as the operator needs to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: where (file, line, key path), what, and a hint.

    `fatal` issues make the entry they belong to unusable (it is skipped); notes (fatal=False)
    are reported but change nothing, e.g. superseded keys of the bash BAMON.
    """

    file: str
    line: int | None
    path: str
    message: str
    hint: str = ""
    fatal: bool = True

    def location(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}" if self.path else where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


def format_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """("scripts", 2, "interval") -> "scripts[2].interval"."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
