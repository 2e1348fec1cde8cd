"""Dependency graph validation: unknown names, a check depending on itself, and cycles.

A cycle would make its checks wait on each other for ever (each skipped while the other is
failing), so it is a config error that names the whole loop: "a → b → c → a".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    check: str
    index: int | None  # position in the check's dependencies list; None for a cycle
    message: str
    hint: str
    involved: tuple[str, ...] = ()  # every check of a cycle: none of them can run as configured


def problems(graph: Mapping[str, Sequence[str]]) -> list[Problem]:
    """Every problem of `graph` ({check: its dependencies}); each cycle reported once."""
    found = [Problem(check, i, f"depends on unknown check {dep!r}", "name a check defined in this config")
             for check, deps in graph.items() for i, dep in enumerate(deps) if dep not in graph]
    found += [Problem(check, i, "a check cannot depend on itself", "remove it from its own dependencies")
              for check, deps in graph.items() for i, dep in enumerate(deps) if dep == check]
    found += [Problem(cycle[0], None, "dependency cycle: " + " → ".join([*cycle, cycle[0]]),
                      "break the cycle: remove one of these dependencies", tuple(cycle))
              for cycle in cycles(graph)]
    return found


def cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Elementary cycles found by depth-first search (self-loops left out), each once.

    Each cycle is rotated to start at its smallest name, so the report is stable.
    """
    seen: set[tuple[str, ...]] = set()
    result: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str], on_path: dict[str, int]) -> None:
        on_path[node] = len(path)
        path.append(node)
        for dep in graph.get(node, ()):
            if dep == node or dep not in graph:
                continue
            if dep in on_path:
                loop = path[on_path[dep]:]
                start = loop.index(min(loop))
                key = tuple(loop[start:] + loop[:start])
                if key not in seen:
                    seen.add(key)
                    result.append(list(key))
            elif dep not in done:
                visit(dep, path, on_path)
        path.pop()
        del on_path[node]
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [], {})
    return result
