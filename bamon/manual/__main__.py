"""python3 -m bamon.manual DIR [PROGRAM=module:function …]: write the generated manual pages into
DIR (package builds); each PROGRAM also gets a page made from its module's docstring."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bamon.manual import cli_page, config_page, programs

PAGES: dict[str, Callable[[], str]] = {"bamon.1": cli_page.render, "bamon.yaml.5": config_page.render}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or not all("=" in a for a in args[1:]):
        print("usage: python3 -m bamon.manual DIR [PROGRAM=module:function ...]", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, render in PAGES.items():
        (out / name).write_text(render(), encoding="utf-8")
        print(out / name)
    for spec in args[1:]:
        program, entry = spec.split("=", 1)
        (out / f"{program}.8").write_text(programs.render(program, programs.docstring(entry)),
                                          encoding="utf-8")
        print(out / f"{program}.8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
