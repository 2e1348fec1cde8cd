"""Config rules of the recovery keys that span several values or several scripts.

Shapes (types, minimums, empty commands) are schema.yaml's; here: retry and retry_policy both
set, an action with neither or both of command/restart_service, action conditions that do not
parse in the rule language, and the dependency graph (unknown names, self, cycles).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bamon.config.issues import ConfigIssue, format_path
from bamon.config.load import RawScript, line_of
from bamon.recovery import graph

_Where = tuple[str | int, ...]


def _issue(script: RawScript, where: _Where, message: str, hint: str, key: bool = False) -> ConfigIssue:
    path = script.path + where
    return ConfigIssue(str(script.file), line_of(script.file, path, key=key), format_path(path), message, hint)


def _action_rules(script: RawScript, index: int, action: dict[str, Any]) -> Iterator[ConfigIssue]:
    where: _Where = ("recovery_actions", index)
    given = [k for k in ("command", "restart_service") if k in action]
    if len(given) != 1:
        yield _issue(script, where, "give exactly one of command and restart_service" if given
                     else "a recovery action needs a command", 'e.g. {restart_service: web-service} or '
                     '{command: "systemctl restart web-service"}')
    condition = action.get("condition")
    if isinstance(condition, str):
        from bamon.notify.conditions import ConditionError, parse  # the alert rules' language

        try:
            parse(condition)
        except ConditionError as exc:
            yield _issue(script, (*where, "condition"), f"condition does not parse: {exc}", exc.hint)


def entry_rules(script: RawScript) -> list[ConfigIssue]:
    """The recovery rules of one script entry on its own."""
    data = script.data
    if not isinstance(data, dict):
        return []
    found = []
    if "retry" in data and "retry_policy" in data:
        found.append(_issue(script, ("retry",), "retry and retry_policy are both set",
                            "keep one of them: retry is the short form of retry_policy", key=True))
    actions = data.get("recovery_actions")
    for index, action in enumerate(actions if isinstance(actions, list) else []):
        if isinstance(action, dict):
            found += _action_rules(script, index, action)
    return found


def dependency_rules(scripts: dict[str, RawScript]) -> Iterator[tuple[tuple[str, ...], ConfigIssue]]:
    """(the checks it makes unusable, issue) for every problem of the graph of the usable scripts."""
    def deps(script: RawScript) -> list[str]:
        value = script.data.get("dependencies") if isinstance(script.data, dict) else None
        return [d for d in value if isinstance(d, str)] if isinstance(value, list) else []

    graph_ = {name: deps(script) for name, script in scripts.items()}
    for problem in graph.problems(graph_):
        where: _Where = ("dependencies",) if problem.index is None else ("dependencies", problem.index)
        yield problem.involved or (problem.check,), _issue(scripts[problem.check], where, problem.message, problem.hint)
