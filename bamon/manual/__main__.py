"""python3 -m bamon.manual DIR: write the generated manual pages into DIR (package builds)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bamon.manual import cli_page, config_page

PAGES: dict[str, Callable[[], str]] = {"bamon.1": cli_page.render, "bamon.yaml.5": config_page.render}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python3 -m bamon.manual DIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, render in PAGES.items():
        (out / name).write_text(render(), encoding="utf-8")
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
