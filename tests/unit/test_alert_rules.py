"""Alert rules: validation (file:line, hint), routing, state change only, cooldown, repeat,
escalation arithmetic, recovery, silences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bamon.config.model import Config
from bamon.notify import rules
from bamon.notify.rules import Facts
from bamon.notify.state import CheckState

CHANNELS = """
alerts:
  channels:
    - {name: chat, type: webhook, url: "http://127.0.0.1:1/a"}
    - {name: mail, type: webhook, url: "http://127.0.0.1:1/b"}
    - {name: pager, type: webhook, url: "http://127.0.0.1:1/c"}
"""
SCRIPTS = """
scripts:
  - {name: web, command: "false", severity: critical, tags: [prod]}
  - {name: dev, command: "false", severity: info, tags: [dev]}
"""
RUN: dict[str, Any] = {"status": "FAILED", "exit_code": 1, "failure_reason": "exit-code", "duration": 1.0,
                       "consecutive_failures": 1, "output": "", "severity": "critical", "tags": ["prod"]}


def config_with(load_config: Callable[..., Config], rules_yaml: str, extra: str = "") -> Config:
    config = load_config(CHANNELS + "  rules:\n" + rules_yaml + extra + SCRIPTS)
    assert not config.errors, [str(e) for e in config.errors]
    return config


def facts(**values: Any) -> Facts:
    return Facts({**RUN, **values}, {"error_rate": lambda: 0.5})


def failing(config: Config, state: CheckState, now: float, check: str = "web", silenced: str = "",
            **values: Any) -> list[rules.Decision]:
    if not state.episode:
        state.episode, state.started = f"ep-{now}", now
    state.failures += 1
    return rules.on_failure(config, config.script(check), facts(**values), state, now=now,
                            channels=[c.name for c in config.channels], silenced=silenced)


def sends(decisions: list[rules.Decision]) -> list[tuple[str, tuple[str, ...]]]:
    return [(d.rule, d.channels) for d in decisions if d.action == "send"]


# ---- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(("rule", "line", "path", "message", "hint"), [
    ("{name: r, condition: \"duration > 'slow'\"}", 8, "alerts.rules[0].condition",
     "cannot compare a number with text (column 10)", "duration is a number"),
    ("{name: r, condition: \"status ==\"}", 8, "alerts.rules[0].condition", "expected a value", "e.g."),
    ("{name: r, channels: [chat, pagr]}", 8, "alerts.rules[0].channels[1]", "no channel named 'pagr'",
     "did you mean 'pager'?"),
    ("{name: r, escalation: nightly}", 8, "alerts.rules[0].escalation", "no escalation policy named 'nightly'",
     "alerts.escalation_policies"),
    ("{name: r, cooldown: soon}", 8, "alerts.rules[0].cooldown", "'soon' is not valid", "5m"),
    ("{name: r, severity: [urgent]}", 8, "alerts.rules[0].severity[0]", "is not one of", "critical"),
    ("{name: r, condtion: x}", 8, "alerts.rules[0].condtion", "unknown key 'condtion'", "did you mean 'condition'?"),
])
def test_rule_mistakes_are_located_errors_with_hints(load_config: Callable[..., Config], rule: str, line: int,
                                                     path: str, message: str, hint: str) -> None:
    config = load_config(CHANNELS + "  rules:\n    - " + rule + "\n    - {name: ok, condition: \"exit_code == 2\"}\n"
                         + SCRIPTS)
    found = [i for i in config.errors if i.path == path]
    assert found, [str(e) for e in config.errors]
    assert found[0].line == line and message in found[0].message and hint in found[0].hint
    # the broken rule is left out; the good rule, the channels and the checks all stay
    assert [r.name for r in config.rules] == ["ok"]
    assert len(config.channels) == 3 and len(config.scripts) == 2


def test_policy_step_naming_a_missing_channel_is_an_error(load_config: Callable[..., Config]) -> None:
    config = load_config(CHANNELS + "  escalation_policies:\n    night: {steps: [{after: 5m, channels: [sms]}]}\n"
                         + SCRIPTS)
    assert [(e.path, e.message) for e in config.errors] == [
        ("alerts.escalation_policies.night.steps[0].channels[0]", "no channel named 'sms'")]


def test_script_hint_key(load_config: Callable[..., Config]) -> None:
    config = load_config("scripts: [{name: a, command: 'true', hint: 'restart the app'}]")
    assert config.scripts[0].hint == "restart the app"


# ---- decisions ---------------------------------------------------------------------------------
def test_without_rules_every_episode_alerts_every_channel_once(load_config: Callable[..., Config]) -> None:
    config = load_config(CHANNELS + SCRIPTS)
    state = CheckState()
    assert sends(failing(config, state, 100)) == [("default", ("chat", "mail", "pager"))]
    assert [d.action for d in failing(config, state, 160)] == ["already-alerted"]
    recovered = rules.on_recovery(state, silenced="")
    assert recovered and recovered.action == "send" and recovered.channels == ("chat", "mail", "pager")
    assert rules.on_recovery(state, silenced="") is None  # nothing open any more


def test_routing_by_channel_severity_and_tag(load_config: Callable[..., Config]) -> None:
    config = config_with(load_config, """
    - {name: crit, severity: [critical], channels: [pager]}
    - {name: devs, tags: [dev], channels: [chat]}
    - {name: slow, condition: "duration > 5", channels: [mail]}
""")
    decisions = failing(config, CheckState(), 100)
    assert [(d.rule, d.action) for d in decisions] == [("crit", "send")]
    assert sends(decisions) == [("crit", ("pager",))]
    dev = failing(config, CheckState(), 100, check="dev", severity="info", tags=["dev"])
    assert sends(dev) == [("devs", ("chat",))]
    nothing = rules.on_failure(config, None, facts(), CheckState(episode="e"), now=1, channels=["chat"], silenced="")
    assert [(d.action, d.reason) for d in nothing] == [("no-rule-matched", "crit: severity/tags not routed; "
                                                        "devs: severity/tags not routed; "
                                                        "slow: condition false (duration > 5)")]


def test_cooldown_quiets_a_new_episode_until_it_is_over(load_config: Callable[..., Config]) -> None:
    config = config_with(load_config, "    - {name: r, cooldown: 5m}\n")
    state = CheckState()
    assert sends(failing(config, state, 1000))
    rules.on_recovery(state, silenced="")
    state.episode = ""
    decisions = failing(config, state, 1000 + 120)  # a new episode 2 min later: inside the cooldown
    assert [(d.action, d.reason) for d in decisions] == [("cooldown", "in cooldown for 180 s more")]
    assert [d.action for d in failing(config, state, 1000 + 299)] == ["cooldown"]
    assert sends(failing(config, state, 1000 + 300)) == [("r", ("chat", "mail", "pager"))]  # still failing after it


def test_repeat_reminds_while_the_episode_lasts(load_config: Callable[..., Config]) -> None:
    config = config_with(load_config, "    - {name: r, repeat: 1h, channels: [chat]}\n")
    state = CheckState()
    assert sends(failing(config, state, 0))
    assert [d.action for d in failing(config, state, 3599)] == ["already-alerted"]
    reminder = failing(config, state, 3600)
    assert sends(reminder) == [("r", ("chat",))] and reminder[0].reminder
    assert [d.action for d in failing(config, state, 3600 + 60)] == ["already-alerted"]


def test_gradual_escalation_steps(load_config: Callable[..., Config]) -> None:
    config = config_with(load_config, "    - {name: r, escalation: gradual, channels: [chat, mail, pager]}\n",
                         "  gradual_step: 90s\n")
    first = failing(config, CheckState(), 0)[0]
    assert first.channels == ("chat",)
    assert [(s.after, s.channels, s.severity) for s in first.later] == [(90, ("mail",), None),
                                                                         (180, ("pager",), "critical")]


def test_named_policy_and_escalation_steps(load_config: Callable[..., Config]) -> None:
    config = config_with(load_config, "    - {name: r, escalation: night}\n", """
  escalation_policies:
    night:
      steps:
        - {after: 30m, channels: [pager], severity: critical}
        - {after: 10m, channels: [mail]}
""")
    state = CheckState()
    first = failing(config, state, 0)[0]
    # step 0: every channel no step adds; later steps in time order
    assert first.channels == ("chat",)
    assert [(s.after, s.channels) for s in first.later] == [(600, ("mail",)), (1800, ("pager",))]
    names = [c.name for c in config.channels]
    step1 = rules.on_escalation(config, state, "r", 1, state.episode, channels=names, silenced="")
    assert (step1.action, step1.channels, step1.severity) == ("send", ("mail",), "critical")  # warning → raised
    again = rules.on_escalation(config, state, "r", 1, state.episode, channels=names, silenced="")
    assert again.action == "already-alerted"
    stale = rules.on_escalation(config, state, "r", 2, "an-old-episode", channels=names, silenced="")
    assert stale.action == "stale"
    step2 = rules.on_escalation(config, state, "r", 2, state.episode, channels=names, silenced="")
    assert step2.channels == ("pager",) and step2.severity == "critical"
    recovered = rules.on_recovery(state, silenced="")
    assert recovered and recovered.channels == ("chat", "mail", "pager")  # everyone who was told
    late = rules.on_escalation(config, state, "r", 2, "ep-0", channels=names, silenced="")
    assert late.action == "stale"


def test_error_rate_is_read_only_when_a_rule_needs_it(load_config: Callable[..., Config]) -> None:
    config = config_with(load_config, "    - {name: rate, condition: \"error_rate > 0.4\"}\n")
    asked: list[str] = []
    lazy = Facts(RUN, {"error_rate": lambda: asked.append("x") or 0.5})
    decisions = rules.on_failure(config, config.script("web"), lazy, CheckState(episode="e"), now=1,
                                 channels=["chat"], silenced="")
    assert sends(decisions) == [("rate", ("chat",))] and asked == ["x"]


def test_silenced_failures_are_decided_but_not_sent(load_config: Callable[..., Config]) -> None:
    config = load_config(CHANNELS + SCRIPTS)
    state = CheckState()
    decisions = failing(config, state, 0, silenced="silence ab12 for web")
    assert [(d.action, d.reason) for d in decisions] == [("silenced", "silence ab12 for web")]
    assert sends(failing(config, state, 60))  # the silence ended: the still-open episode alerts now


def test_config_validate_reports_a_bad_condition_with_file_line_and_hint(cli: Callable[..., Any],
                                                                         write_config: Callable[..., Any]) -> None:
    config = write_config(CHANNELS + "  rules:\n    - {name: r, condition: \"duration > 'slow'\"}\n" + SCRIPTS)
    result = cli("--config", str(config), "config", "validate")
    assert result.code == 1
    assert (f"{config}:8: alerts.rules[0].condition: condition \"duration > 'slow'\": "
            "'>' cannot compare a number with text (column 10)") in result.err
    assert "hint: duration is a number: compare it with e.g. 5" in result.err
