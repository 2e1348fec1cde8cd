"""Shell completion scripts generated from the parser's command tree (bamon.cli.tree).

One module per shell, each a `render(tree) -> str`. Check names come at completion time from
`bamon completions --check-names`, so the scripts never hold a copy of the config.
"""

from __future__ import annotations

from collections.abc import Callable

from bamon.cli.tree import Command
from bamon.completion import bash, fish, zsh

SHELLS: dict[str, Callable[[Command], str]] = {"bash": bash.render, "zsh": zsh.render, "fish": fish.render}
