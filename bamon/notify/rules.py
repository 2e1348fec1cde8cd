"""Deciding: which rules match a failure, whom they tell, and when they stay quiet.

Pure functions over the config, the facts of the run and the check's alert state (state.py);
they change the state in memory and return one Decision per rule considered. main.py turns
"send" decisions into alerts and every decision into one alert.decision journald record.

Semantics (DESIGN §5, issue 5):
* state change only: a rule alerts once per failure episode (optionally reminding every
  `repeat` while it lasts), and everyone it told hears "recovered" when the episode ends;
* cooldown: a rule that alerted about a check stays quiet for a new episode that starts within
  its cooldown (flapping), and alerts once the cooldown is over if the check still fails;
* escalation: step 0 at once, later steps by systemd timers (escalation.py);
* without rules, one built-in rule alerts every channel about every failure episode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bamon.config.model import Config, EscalationStep, Rule, Script
from bamon.notify.conditions import ALWAYS
from bamon.notify.state import CheckState, RuleState

DEFAULT_RULE = Rule(name="default", condition=ALWAYS, channels=(), severity=(), tags=(), cooldown=0,
                    repeat=None, window=3600, escalation="immediate")
_RAISE = {"info": "warning", "warning": "critical", "critical": "critical"}


class Facts(Mapping[str, Any]):
    """The condition fields of one run, computed on first use (error_rate reads the journal)."""

    def __init__(self, values: Mapping[str, Any], lazy: Mapping[str, Callable[[], Any]]) -> None:
        self._values = dict(values)
        self._lazy = dict(lazy)

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            self._values[key] = self._lazy[key]()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self._lazy, **self._values})

    def __len__(self) -> int:
        return len({**self._lazy, **self._values})


@dataclass(frozen=True)
class Decision:
    rule: str
    action: str  # send | cooldown | already-alerted | silenced | no-rule-matched | stale | no-channel
    reason: str  # one line for the record
    channels: tuple[str, ...] = ()
    severity: str = ""
    step: int = 0
    reminder: bool = False
    later: tuple[EscalationStep, ...] = field(default=())  # steps for escalation timers to start


def rules_of(config: Config) -> tuple[Rule, ...]:
    return config.rules or (DEFAULT_RULE,)


def rule_named(config: Config, name: str) -> Rule | None:
    return next((r for r in rules_of(config) if r.name == name), None)


def steps(rule: Rule, config: Config, channels: Sequence[str]) -> tuple[EscalationStep, ...]:
    """The rule's escalation steps; step 0 (after 0 s) is the first alert of an episode."""
    own = tuple(rule.channels or channels)
    if rule.escalation == "gradual" and len(own) > 1:
        last = len(own) - 1
        return tuple(EscalationStep(i * config.gradual_step, (name,), "critical" if i == last else None)
                     for i, name in enumerate(own))
    policy = dict(config.escalation_policies).get(rule.escalation)
    if policy:
        added = {name for step in policy for name in step.channels}
        first = tuple(rule.channels) or tuple(c for c in channels if c not in added)
        return (EscalationStep(0, first), *policy)
    return (EscalationStep(0, own),)


def routed(rule: Rule, script: Script | None) -> bool:
    """Do the rule's severity/tag filters let this check through?"""
    severity = script.severity if script else "warning"
    tags = set(script.tags) if script else set()
    return (not rule.severity or severity in rule.severity) and (not rule.tags or bool(tags & set(rule.tags)))


def on_failure(config: Config, script: Script | None, facts: Facts, state: CheckState, *, now: float,
               channels: Sequence[str], silenced: str) -> list[Decision]:
    """Decide for a failed run (`state.episode` is open already): one decision per matching
    rule, or a single "no-rule-matched" saying why each rule passed."""
    decisions, passed = [], []
    severity = script.severity if script else "warning"
    for rule in rules_of(config):
        if not routed(rule, script):
            passed.append(f"{rule.name}: severity/tags not routed")
        elif not rule.condition(facts):
            passed.append(f"{rule.name}: condition false ({rule.condition.source})")
        else:
            mine = state.rules.setdefault(rule.name, RuleState())
            decisions.append(_matched(rule, mine, state, config, now=now, channels=channels, silenced=silenced,
                                      severity=severity))
    return decisions or [Decision("", "no-rule-matched", "; ".join(passed))]


def _matched(rule: Rule, mine: RuleState, state: CheckState, config: Config, *, now: float,
             channels: Sequence[str], silenced: str, severity: str) -> Decision:
    if silenced:
        return Decision(rule.name, "silenced", silenced)
    if mine.episode == state.episode:  # told already in this episode
        if rule.repeat and now - mine.sent_at >= rule.repeat:
            mine.sent_at = now
            return Decision(rule.name, "send", f"reminder: still failing after {int(now - state.started)} s",
                            tuple(mine.channels), mine.severity, mine.step, reminder=True)
        return Decision(rule.name, "already-alerted", "one alert per failure episode")
    if mine.sent_at and now - mine.sent_at < rule.cooldown:
        left = int(rule.cooldown - (now - mine.sent_at))
        return Decision(rule.name, "cooldown", f"in cooldown for {left} s more")
    first, *later = steps(rule, config, channels)
    severity = first.severity or severity
    mine.sent_at, mine.episode, mine.step = now, state.episode, 0
    mine.channels, mine.severity = list(first.channels), severity
    return Decision(rule.name, "send", "episode began" if state.failures <= 1 else "condition met",
                    first.channels, severity, 0, later=tuple(later))


def on_escalation(config: Config, state: CheckState, rule_name: str, step: int, episode: str, *,
                  channels: Sequence[str], silenced: str) -> Decision:
    """A timer of step `step` fired: tell that step's channels, if the episode still lasts."""
    rule = rule_named(config, rule_name)
    mine = state.rules.get(rule_name)
    if rule is None or mine is None or state.episode != episode or mine.episode != episode:
        return Decision(rule_name, "stale", "the episode is over or the rule changed")
    all_steps = steps(rule, config, channels)
    if step <= mine.step or step >= len(all_steps):
        return Decision(rule_name, "already-alerted", f"step {step} was reached before")
    if silenced:
        return Decision(rule_name, "silenced", silenced, step=step)
    target = all_steps[step]
    new = tuple(c for c in target.channels if c not in mine.channels)
    mine.step, mine.channels = step, mine.channels + list(new)
    mine.severity = target.severity or _RAISE.get(mine.severity, mine.severity)
    return Decision(rule_name, "send", f"escalation step {step}", new, mine.severity, step)


def on_recovery(state: CheckState, *, silenced: str) -> Decision | None:
    """The episode ended: one "recovered" to everyone told about it (None: nobody was)."""
    told = [(name, rs) for name, rs in state.rules.items() if rs.episode == state.episode and rs.channels]
    for _, rs in told:
        rs.episode, rs.step = "", 0
    if not told:
        return None
    names = ", ".join(name for name, _ in told)
    if silenced:
        return Decision(names, "silenced", silenced)
    channels = tuple(dict.fromkeys(c for _, rs in told for c in rs.channels))
    return Decision(names, "send", "the check succeeded again", channels, "info")
