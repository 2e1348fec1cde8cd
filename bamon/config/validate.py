"""Validation: every problem in the config at once, each with file, line, key path and hint.

jsonschema checks the shapes declared in schema.yaml; a few rules that span several keys
(duplicate names, interval vs schedule) are checked here. Nothing below this module sees
unvalidated data: see model.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from bamon.config import overrides
from bamon.config import schema as schema_mod
from bamon.config.channels import channel_issues
from bamon.config.fastcheck import FORMATS, check_format, conforms
from bamon.config.issues import ConfigIssue, format_path
from bamon.config.load import RawConfig, RawScript, line_of
from bamon.recovery import validate as recovery_rules


def _target(which: str) -> dict[str, Any]:
    """The schema of the whole file ("root"), or of one of its $defs ("script", "template")."""
    root = schema_mod.schema()
    target: dict[str, Any] = root if which == "root" else root["$defs"][which]
    return target


def _predicate(name: str) -> Callable[[Any], bool]:
    """Format `name` as jsonschema's yes/no check (it turns the ValueError into the message)."""
    def check(value: Any) -> bool:
        check_format(name, value)
        return True
    return check


def _is_integer(checker: Any, instance: Any) -> bool:
    # Draft 2020-12 counts 2.0 as an integer; bamon (and fastcheck) does not, so a float never
    # reaches the model and a unit never gets LimitCPU=60.0.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _validator(which: str) -> Any:
    # Imported here: jsonschema costs ~80 ms to import, and valid configs never need it.
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    for name in FORMATS:
        checker.checks(name, raises=ValueError)(_predicate(name))
    root = schema_mod.schema()
    target = root if which == "root" else {**_target(which), "$defs": root["$defs"]}
    draft = jsonschema.validators.validator_for(root)
    extend: Any = jsonschema.validators.extend  # untyped in some jsonschema releases
    strict = extend(draft, type_checker=draft.TYPE_CHECKER.redefine("integer", _is_integer))
    return strict(target, format_checker=checker)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib  # only on errors: the generator reads valid configs without it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(sorted(choices))


def _describe_type(types: str | list[str]) -> str:
    names = {"integer": "a whole number", "string": "text", "boolean": "true or false",
             "number": "a number", "array": "a list", "object": "a mapping"}
    seq = [types] if isinstance(types, str) else types
    return " or ".join(names.get(t, t) for t in seq)


# Last resort only: schema.yaml hints every option and the parts inside them (a test checks).
_GENERIC_HINT = "fix or remove this value"

_Message = Callable[[Any, str], str]  # (error, the value as shown) -> message
_MESSAGES: dict[str, _Message] = {  # built only for the keyword that failed: each expects its own argument
    "type": lambda e, shown: f"{shown} is not {_describe_type(e.validator_value)}",
    "enum": lambda e, shown: f"{shown} is not one of: {', '.join(map(str, e.validator_value))}",
    "format": lambda e, shown: f"{shown} is not valid: {e.cause}" if e.cause else f"{shown} is not valid",
    "not": lambda e, shown: f"{shown} is reserved",
    "pattern": lambda e, shown: f"{shown} does not have the required form",
    "minimum": lambda e, shown: f"{shown} is below the minimum of {e.validator_value}",
    "minLength": lambda e, shown: f"{shown} is too short",
    "maximum": lambda e, shown: f"{shown} is above the maximum of {e.validator_value}",
    "exclusiveMinimum": lambda e, shown: f"{shown} must be above {e.validator_value}",
}


def _hint(error: Any, schema: dict[str, Any]) -> str:
    """The x-hint of the failing sub-schema, else of the nearest schema above it that has one.

    Sub-schemas such as a list's items or a mapping's names are often hinted by the property
    that holds them (tags, environment); walking the error's schema path finds that property.
    """
    hint, node = _GENERIC_HINT, schema
    for part in error.schema_path:
        try:
            # jsonschema ≥ 4.18 leaves "$ref" out of the path: follow a reference the path steps over.
            while isinstance(node, dict) and "$ref" in node and part != "$ref" and part not in node:
                node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
            if isinstance(node, dict) and isinstance(node.get("x-hint"), str):
                hint = node["x-hint"]
            ref = node["$ref"] if part == "$ref" else None
            node = schema["$defs"][ref.removeprefix("#/$defs/")] if ref else node[part]
        except (KeyError, IndexError, TypeError, AttributeError):
            break  # a path this walk does not follow (e.g. a remote $ref): keep what was found
    return hint


def _messages(error: Any, schema: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str, str, bool]]:
    """(key path, message, hint, points-at-key) for one jsonschema error against `schema`."""
    path = tuple(error.absolute_path)
    sub = error.schema if isinstance(error.schema, dict) else {}
    keyword = error.validator
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = sub.get("properties", {})
        for key in error.instance:
            if key not in known:
                yield path + (key,), f"unknown key {key!r}", _did_you_mean(str(key), known), True
        return
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a key"
        prop_hint = sub.get("properties", {}).get(missing, {}).get("x-hint") or _hint(error, schema)
        yield path, f"missing required key {missing!r}", prop_hint, False
        return
    value = error.instance
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    if "propertyNames" in error.schema_path:  # the value is a key of the mapping at `path`
        shown = f"the key {shown}"
    message = _MESSAGES[keyword](error, shown) if keyword in _MESSAGES else f"{shown} is not valid ({keyword})"
    yield path, message, _hint(error, schema), False


def _schema_issues(data: Any, which: str, raw_file: str, base: tuple[str | int, ...]) -> list[ConfigIssue]:
    if conforms(data, _target(which), schema_mod.schema()):
        return []
    issues = []
    validator = _validator(which)
    for error in validator.iter_errors(data):
        for path, message, hint, at_key in _messages(error, validator.schema):
            line = line_of(Path(raw_file), base + path, key=at_key)
            issues.append(ConfigIssue(raw_file, line, format_path(base + path), message, hint))
    return issues


def _superseded_notes(main: dict[str, Any], file: str) -> list[ConfigIssue]:
    notes = []
    for section_name, props in schema_mod.schema()["properties"].items():
        values = main.get(section_name)
        if not isinstance(values, dict):
            continue
        for key, prop in props.get("properties", {}).items():
            if key in values and "x-superseded" in prop:
                path: tuple[str | int, ...] = (section_name, key)
                notes.append(ConfigIssue(file, line_of(Path(file), path, key=True), format_path(path),
                                         "accepted but has no effect", prop["x-superseded"], fatal=False))
    return notes


def _script_rules(script: RawScript) -> list[ConfigIssue]:
    data = script.data
    if isinstance(data, dict) and "interval" in data and "schedule" in data:
        return [ConfigIssue(str(script.file), line_of(script.file, script.path + ("schedule",), key=True),
                            format_path(script.path + ("schedule",)),
                            "interval and schedule are both set", "keep one of them")]
    return []


def _rule_issues(main: dict[str, Any], file: str) -> list[ConfigIssue]:
    """Alert rules: each condition parses and type-checks; named channels and policies exist.

    Only entries the schema already accepted are looked at (its errors are reported once).
    """
    alerts = main.get("alerts")
    if not isinstance(alerts, dict) or not (alerts.get("rules") or alerts.get("escalation_policies")):
        return []
    from bamon.notify.conditions import ConditionError, parse  # only configs with rules pay for it

    channels: list[Any] = alerts["channels"] if isinstance(alerts.get("channels"), list) else []
    # a channel without a name is called by its type (as ChannelSpec names it)
    known = {str(c.get("name") or c.get("type")) for c in channels if isinstance(c, dict)}
    policies = alerts.get("escalation_policies")
    policy_names = set(policies) if isinstance(policies, dict) else set()
    issues = []
    rules: list[Any] = alerts["rules"] if isinstance(alerts.get("rules"), list) else []

    def issue(path: tuple[str | int, ...], message: str, hint: str) -> None:
        issues.append(ConfigIssue(file, line_of(Path(file), path), format_path(path), message, hint))

    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        base: tuple[str | int, ...] = ("alerts", "rules", index)
        if isinstance(rule.get("condition"), str):
            try:
                parse(rule["condition"])
            except ConditionError as exc:
                issue(base + ("condition",), f"condition {rule['condition']!r}: {exc}", exc.hint)
        for position, name in enumerate(rule.get("channels") or []):
            if isinstance(name, str) and name not in known:
                issue(base + ("channels", position), f"no channel named {name!r}",
                      _did_you_mean(name, known).replace("valid keys", "channels") if known
                      else "add it under alerts.channels")
        escalation = rule.get("escalation")
        if isinstance(escalation, str) and escalation not in {"immediate", "gradual", *policy_names}:
            issue(base + ("escalation",), f"no escalation policy named {escalation!r}",
                  "use immediate, gradual, or define it under alerts.escalation_policies")
    for name, policy in (policies or {}).items() if isinstance(policies, dict) else ():
        for step_index, step in enumerate(policy.get("steps") or [] if isinstance(policy, dict) else []):
            for position, channel in enumerate(step.get("channels") or [] if isinstance(step, dict) else []):
                if isinstance(channel, str) and channel not in known:
                    issue(("alerts", "escalation_policies", name, "steps", step_index, "channels", position),
                          f"no channel named {channel!r}", "add it under alerts.channels")
    return issues


def template_shape_issues(data: Any, file: str, base: tuple[str | int, ...]) -> list[ConfigIssue]:
    """The schema's verdict on one template definition (a templates.d file)."""
    return _schema_issues(data, "template", file, base)


def entry_issues(script: RawScript) -> list[ConfigIssue]:
    """The problems of one script entry on its own (its shape and its own rules)."""
    if script.problems:  # its template could not be applied: there is no command to check yet
        return list(script.problems)
    found = _schema_issues(script.data, "script", str(script.file), script.path) + _script_rules(script)
    # recovery keys (bamon/recovery/validate.py): rules the schema cannot express (each skips
    # values of the wrong shape, which the schema already reported)
    return found + recovery_rules.entry_rules(script) + overrides.entry_rules(script)


def validate(raw: RawConfig) -> tuple[list[ConfigIssue], set[int]]:
    """All issues of `raw`, and the indexes of raw.scripts that are unusable."""
    issues = list(raw.issues)
    bad: set[int] = set()
    main_file = str(raw.main_file)
    main_without_scripts = {k: v for k, v in raw.main.items() if k != "scripts"}
    if "scripts" in raw.main and not isinstance(raw.main["scripts"], list):
        main_without_scripts["scripts"] = raw.main["scripts"]
    issues += _schema_issues(main_without_scripts, "root", main_file, ())
    issues += _superseded_notes(raw.main, main_file)
    issues += channel_issues(raw)
    issues += _rule_issues(raw.main, main_file)
    seen: dict[str, RawScript] = {}
    for index, script in enumerate(raw.scripts):
        found = entry_issues(script)
        name = script.data.get("name") if isinstance(script.data, dict) else None
        if isinstance(name, str) and name in seen and not found:
            first = seen[name]
            found.append(ConfigIssue(str(script.file), line_of(script.file, script.path + ("name",)),
                                     format_path(script.path + ("name",)),
                                     f"a script named {name!r} already exists",
                                     f"it is defined in {first.file}; rename or remove one of them"))
        if found:
            bad.add(index)
            issues += found
        elif isinstance(name, str):
            seen[name] = script
    # dependencies span scripts: unknown names, self and cycles make the scripts involved unusable
    position = {id(s): i for i, s in enumerate(raw.scripts)}  # one pass: a nested loop costs 1,000² steps
    index_of = {name: position[id(kept)] for name, kept in seen.items()}
    for names, issue in recovery_rules.dependency_rules(seen):
        bad.update(index_of[name] for name in names)
        issues.append(issue)
    return issues, bad
