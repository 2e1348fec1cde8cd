"""config/fastcheck.py agrees with jsonschema: the safety net for the generator's fast path.

The generator trusts `conforms()` and only calls jsonschema when it says no, so `conforms()`
must be True exactly when jsonschema (the Draft 2020-12 validator bamon/config/validate.py
builds, with the same format checkers) reports no error. The cases are generated from
schema.yaml itself: for every property of every section and of a script entry, values of
every JSON type, enum members and near misses, pattern hits and misses, values around
minimums, good and bad spans and schedules, unknown keys, missing required keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from bamon.config import schema as schema_mod
from bamon.config.fastcheck import FORMATS, conforms
from bamon.config.validate import _validator

ROOT = schema_mod.schema()
SCRIPT = schema_mod.script_schema()
BASE_SCRIPT = {"name": "probe", "command": "true"}

TYPE_SAMPLES: list[Any] = ["text", 7, 2.5, 2.0, 0, -1, True, False, None, [], ["x"], {}, {"k": "v"}, ""]
STRING_SAMPLES = [
    "a", "web_service", "db.primary", "x-1", "A" * 64, "A" * 65, "has space", "slash/name", "ümlaut",
    "Root", "nobody", "_svc", "svc-1", "1abc", "a:b", "web:prod", "x" * 32, "x" * 33, "dynamic", "tab\there",
    "new\nline", "trailing\n",
]
SPAN_SAMPLES: list[Any] = [
    1, 30, 86400, 0, -5, "30", "30s", "5min", "1h 30min", "2 hours", "0s", "", " ", "5 parsecs", "1.5h",
    "-1", "abc", "h", "10 10",
]
SCHEDULE_SAMPLES = [
    "*/5 * * * *", "0 2 * * mon-fri", "@daily", "@reboot", "daily", "Mon..Fri *-*-* 02:00",
    "*-*-* 02:00:00", "", "  ", "60 * * * *", "0 0 1 * 1", "* * * *", "50% of the time", "a\nb", "*/0 * * * *",
]
ENV_KEYS: list[Any] = ["API_URL", "_x", "A1", "1BAD", "A-B", "", "a b", False, 1, None]


def _is_span(prop: dict[str, Any]) -> bool:
    return prop.get("format") == "bamon-span"


def samples(prop: dict[str, Any]) -> list[Any]:
    """Values worth trying for a property: of every type, plus near misses of its keywords."""
    values = list(TYPE_SAMPLES)
    if "enum" in prop:
        values += prop["enum"] + [str(e).upper() for e in prop["enum"]] + ["nonsense"]
    if "not" in prop:
        values += prop["not"].get("enum", [])
    if "pattern" in prop:
        values += STRING_SAMPLES
    if _is_span(prop):
        values += SPAN_SAMPLES
    if prop.get("format") == "bamon-schedule":
        values += SCHEDULE_SAMPLES
    if "minimum" in prop:
        low = prop["minimum"]
        values += [low - 1, low, low + 1, float(low), str(low)]
    if "minLength" in prop:
        values += ["x", "echo '%{http_code}' $HOME"]
    for key in ("default", "x-example"):
        if key in prop:
            values.append(prop[key])
    if "items" in prop:
        values += [[item] for item in samples(prop["items"])] + [["web", "prod"], ["web", 1]]
    if isinstance(prop.get("additionalProperties"), dict) or "propertyNames" in prop:
        values += [{key: "value"} for key in ENV_KEYS]
        values += [{"A": value} for value in TYPE_SAMPLES]
        values += [{"A": "x", "B": 2, "C": True, "D": 1.5}]
    return values


def _jsonschema_verdict(which: str, value: Any) -> bool | str:
    """True/False from jsonschema, or the text of the exception it raised."""
    try:
        return not list(_validator(which).iter_errors(value))  # all of them, as validate.py does
    except Exception as exc:  # noqa: BLE001 - a crash is reported as a disagreement
        return f"{type(exc).__name__}: {exc}"


def _disagreements(which: str, target: dict[str, Any], cases: list[Any]) -> tuple[list[str], set[bool]]:
    problems, verdicts = [], set()
    for value in cases:
        fast = conforms(value, target, ROOT)
        slow = _jsonschema_verdict(which, value)
        verdicts.add(fast)
        if fast is not slow:
            problems.append(f"{value!r}: conforms={fast}, jsonschema={slow}")
    return problems, verdicts


# --- the cases -----------------------------------------------------------------------------------


def script_cases() -> Iterator[tuple[str, list[Any]]]:
    for key, prop in SCRIPT["properties"].items():
        cases = [{**BASE_SCRIPT, key: value} for value in samples(prop)]
        if key in SCRIPT["required"]:
            cases.append({k: v for k, v in BASE_SCRIPT.items() if k != key})
        yield key, cases


def root_cases() -> Iterator[tuple[str, list[Any]]]:
    for section, section_schema in ROOT["properties"].items():
        if section == "scripts":
            continue
        for key, prop in section_schema.get("properties", {}).items():
            yield f"{section}.{key}", [{section: {key: value}} for value in samples(prop)]
        yield section, ([{section: value} for value in TYPE_SAMPLES]
                        + [{section: {"unknown_key": 1}}, {section: section_schema.get("default", {})}])


STRUCTURE_SCRIPTS: list[Any] = [
    BASE_SCRIPT,
    {},
    {"name": "only_name"},
    {"command": "only command"},
    {**BASE_SCRIPT, "intervall": 30},
    {**BASE_SCRIPT, "Name": "x"},
    {**BASE_SCRIPT, "interval": 30, "schedule": "daily"},  # a rule of validate.py, not of the schema
    {**BASE_SCRIPT, "retry": {"attempts": 3}},
    None, "probe", 5, [], [BASE_SCRIPT], True,
    {"name": "full", "command": "curl -f http://localhost:8080/health", "interval": "30s", "timeout": 10,
     "enabled": False, "description": "d", "severity": "critical", "tags": ["web", "prod"], "user": "nobody",
     "sandbox": "minimal", "environment": {"API_URL": "http://localhost:8080", "N": 3}},
    # sandbox: as a mapping (a string or an object: if/then/else in the schema)
    {**BASE_SCRIPT, "sandbox": {"profile": "strict", "PrivateNetwork": True, "IPAddressDeny": ["any"],
                                "IPAddressAllow": ["10.0.0.0/8", "::1", "localhost"], "User": "nobody",
                                "ReadWritePaths": ["/var/x"]}},
    {**BASE_SCRIPT, "sandbox": {}},
    {**BASE_SCRIPT, "sandbox": {"profile": "paranoid"}},
    {**BASE_SCRIPT, "sandbox": {"IPAddressDeny": ["10.0.0.300"]}},
    {**BASE_SCRIPT, "sandbox": {"IPAddressDeny": "any"}},
    {**BASE_SCRIPT, "sandbox": {"IPAddressAllow": [5]}},
    {**BASE_SCRIPT, "sandbox": {"PrivateNetwork": "yes"}},
    {**BASE_SCRIPT, "sandbox": {"User": "Bad User"}},
    {**BASE_SCRIPT, "sandbox": {"ReadWritePaths": ["relative"]}},
    {**BASE_SCRIPT, "sandbox": {"privatenetwork": True}},
    {**BASE_SCRIPT, "sandbox": ["strict"]},
]

STRUCTURE_ROOTS: list[Any] = [
    {}, None, [], "config", 5,
    {"unknown": 1},
    {"scripts": []},
    {"scripts": [BASE_SCRIPT]},
    {"scripts": [BASE_SCRIPT, {"name": "bad"}]},
    {"scripts": [{**BASE_SCRIPT, "severity": "nope"}]},
    {"scripts": BASE_SCRIPT},
    {"scripts": None},
    {"scripts": "probe"},
    {"daemon": {}, "sandbox": {}, "performance": {}, "scripts": []},
    {"daemon": {"default_interval": "5min", "max_concurrent": 4}, "sandbox": {"profile": "minimal", "timeout": "2min"},
     "performance": {"enable_monitoring": True, "load_threshold": 0.8, "optimize_scheduling": False}},
]

SCRIPT_CASES = dict(script_cases())
ROOT_CASES = dict(root_cases())


@pytest.mark.parametrize("key", sorted(SCRIPT_CASES))
def test_script_property_agrees_with_jsonschema(key: str) -> None:
    problems, verdicts = _disagreements("script", SCRIPT, SCRIPT_CASES[key])
    assert problems == [], f"scripts[].{key}: fastcheck and jsonschema disagree"
    assert verdicts == {True, False}, "the generated cases must include valid and invalid values"


@pytest.mark.parametrize("key", sorted(ROOT_CASES))
def test_top_level_property_agrees_with_jsonschema(key: str) -> None:
    problems, verdicts = _disagreements("root", ROOT, ROOT_CASES[key])
    assert problems == [], f"{key}: fastcheck and jsonschema disagree"
    assert verdicts == {True, False}, "the generated cases must include valid and invalid values"


def test_script_structure_agrees_with_jsonschema() -> None:
    problems, verdicts = _disagreements("script", SCRIPT, STRUCTURE_SCRIPTS)
    assert problems == []
    assert verdicts == {True, False}


def test_top_level_structure_agrees_with_jsonschema() -> None:
    problems, verdicts = _disagreements("root", ROOT, STRUCTURE_ROOTS)
    assert problems == []
    assert verdicts == {True, False}


def test_every_script_property_is_exercised() -> None:
    assert set(SCRIPT_CASES) == set(SCRIPT["properties"])
    assert sum(len(cases) for cases in SCRIPT_CASES.values()) > 300


# --- the reference validator is the one validate.py uses -----------------------------------------


def test_validator_is_draft_2020_12_with_bamon_formats() -> None:
    for which in ("root", "script"):
        validator = _validator(which)
        # Draft 2020-12 (possibly extended, e.g. with a stricter "integer")
        assert validator.META_SCHEMA == jsonschema.Draft202012Validator.META_SCHEMA
        assert set(validator.VALIDATORS) == set(jsonschema.Draft202012Validator.VALIDATORS)
        assert set(FORMATS) <= set(validator.format_checker.checkers)
    assert ROOT["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --- fastcheck is safe where it is unsure ------------------------------------------------------------


@pytest.mark.parametrize("schema", [
    {"exclusiveMaximum": 10},
    {"multipleOf": 2},
    {"oneOf": [{"type": "integer"}]},
    {"$ref": "https://example.com/schema"},
])
def test_unknown_keywords_answer_no(schema: dict[str, Any]) -> None:
    assert conforms(4, schema, ROOT) is False


def test_ref_into_defs() -> None:
    assert conforms(BASE_SCRIPT, {"$ref": "#/$defs/script"}, ROOT)
    assert not conforms({"name": "x"}, {"$ref": "#/$defs/script"}, ROOT)


# --- alerts.channels: per-type settings through allOf/if/then/const --------------------------------

MIN_CHANNELS: dict[str, dict[str, Any]] = {
    "email": {"type": "email", "smtp_server": "smtp.example.com", "to": "ops@example.com"},
    "slack": {"type": "slack", "webhook_url": "https://hooks.slack.com/services/x"},
    "teams": {"type": "teams", "webhook_url": "${secret:teams}"},
    "discord": {"type": "discord", "webhook_url": "https://discord.com/api/webhooks/1/x"},
    "webhook": {"type": "webhook", "url": "https://example.com/hook"},
    "pagerduty": {"type": "pagerduty", "routing_key": "R0"},
    "ntfy": {"type": "ntfy", "topic": "alerts"},
    "apprise": {"type": "apprise", "urls": ["json://localhost/"]},
}


def channel_cases() -> Iterator[tuple[str, list[Any]]]:
    for type_, base in MIN_CHANNELS.items():
        props = ROOT["$defs"][f"channel_{type_}"]["properties"]
        cases = [{**base, key: value} for key, prop in props.items() if key != "type" for value in samples(prop)]
        cases += [base, {**base, "type": "carrier-pigeon"}, {"type": type_}, {**base, "unknown": 1}]
        yield type_, [{"alerts": {"channels": [case]}} for case in cases]


@pytest.mark.parametrize("type_, cases", sorted(channel_cases()))
def test_channel_settings_agree_with_jsonschema(type_: str, cases: list[Any]) -> None:
    problems, verdicts = _disagreements("root", ROOT, cases)
    assert problems == [], f"channel {type_}: fastcheck and jsonschema disagree"
    assert verdicts == {True, False}


# --- alerts: channels (allOf of if/then per type, const, maximum) and rules ------------------------

HOOK = {"type": "webhook", "url": "https://example.com/hook"}
ALERTS: list[Any] = [
    {}, {"channels": []}, {"channels": [HOOK]}, {"channels": [{**HOOK, "name": "ops", "timeout": 2, "retries": 0}]},
    {"channels": [{**HOOK, "bogus": 1}]}, {"channels": [{"type": "webhook"}]}, {"channels": [{"url": "x"}]},
    {"channels": [{"type": "fax"}]}, {"channels": [{**HOOK, "method": "GET"}]}, {"channels": [{**HOOK, "timeout": 0}]},
    {"channels": [{"type": "email", "smtp_server": "mx", "to": "a@b.c", "port": 70000}]},
    {"channels": [{"type": "email", "smtp_server": "mx", "to": ["a@b.c"], "port": 587}]},
    {"channels": [{"type": "pagerduty", "routing_key": "k" * 32}]}, {"channels": [{"type": "slack"}]},
    {"channels": [{"type": "slack", "webhook_url": "${secret:slack}"}]}, {"channels": "webhook"},
    {"rules": [{"name": "r", "condition": "status == 'FAILED'", "cooldown": "5m", "escalation": "gradual"}]},
    {"rules": [{"name": "r", "cooldown": 0}]}, {"rules": [{"condition": "x"}]}, {"rules": [{"name": "r", "x": 1}]},
    {"rules": [{"name": "r", "severity": ["critical", "urgent"]}]}, {"gradual_step": "10m"}, {"gradual_step": "soon"},
    {"escalation_policies": {"night": {"steps": [{"after": "5m", "channels": ["a"], "severity": "critical"}]}}},
    {"escalation_policies": {"gradual": {"steps": [{"after": 5}]}}},
    {"escalation_policies": {"night": {"steps": [{"channels": ["a"]}]}}},
]


@pytest.mark.parametrize("alerts", ALERTS, ids=[str(i) for i in range(len(ALERTS))])
def test_alerts_section_agrees_with_jsonschema(alerts: Any) -> None:
    problems, _ = _disagreements("root", ROOT, [{"alerts": alerts}])
    assert problems == []


def test_a_valid_alerts_section_needs_no_jsonschema() -> None:
    assert conforms({"alerts": {"channels": [HOOK], "rules": [{"name": "r"}]}}, ROOT, ROOT)
