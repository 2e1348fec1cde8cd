"""The recovery settings of one check as frozen values, and the arithmetic run-check is given.

Retries: attempt n+1 starts delay × multiplier^(n-1) seconds after attempt n failed, capped at
max_delay. The delays are worked out here, once, by the generator: run-check (bash, integers
only) just reads the list, and the unit's TimeoutStartSec= covers every attempt plus the delays,
so a retry loop can never outlive its unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bamon.config.timespec import parse_span


@dataclass(frozen=True)
class Retry:
    attempts: int  # in all, the first one included
    delay: int  # seconds before the second attempt
    multiplier: float = 1.0
    max_delay: int = 300

    def delays(self) -> tuple[int, ...]:
        """Seconds to wait before attempts 2..attempts (whole seconds, rounded up)."""
        return tuple(min(math.ceil(self.delay * self.multiplier ** (n - 1)), self.max_delay)
                     for n in range(1, self.attempts))


@dataclass(frozen=True)
class Action:
    command: str
    condition: str | None  # in the alert rules' language; None: every failed run
    timeout: int  # seconds
    max_runs: int = 1  # per failure episode


@dataclass(frozen=True)
class Breaker:
    failures: int  # consecutive failed runs that open the circuit
    cooldown: int  # seconds the circuit stays open before one trial run


@dataclass(frozen=True)
class Recovery:
    """Everything issue 7 adds to a script; the empty default changes nothing in its unit."""

    retry: Retry | None = None
    actions: tuple[Action, ...] = ()
    dependencies: tuple[str, ...] = ()
    condition: str | None = None  # a shell command
    breaker: Breaker | None = None


NONE = Recovery()


def _retry(data: Mapping[str, Any]) -> Retry | None:
    policy, short = data.get("retry_policy"), data.get("retry")
    if isinstance(policy, dict):
        return Retry(policy["max_attempts"], parse_span(policy.get("delay", 10)),
                     float(policy.get("backoff_multiplier", 2)), parse_span(policy.get("max_delay", 300)))
    if isinstance(short, dict):
        delay = parse_span(short.get("delay", 10))
        return Retry(short["attempts"], delay, 1.0, delay)
    return None


def _action(item: Mapping[str, Any]) -> Action:
    command = item.get("command") or f"systemctl restart {item['restart_service']}"
    return Action(command, item.get("condition"), parse_span(item.get("timeout", 60)), item.get("max_runs", 1))


def from_raw(data: Mapping[str, Any]) -> Recovery:
    """The recovery settings of one validated script entry."""
    breaker = data.get("circuit_breaker")
    return Recovery(
        retry=_retry(data),
        actions=tuple(_action(a) for a in data.get("recovery_actions") or ()),
        dependencies=tuple(dict.fromkeys(data.get("dependencies") or ())),
        condition=data.get("condition"),
        breaker=Breaker(breaker.get("failures", 5), parse_span(breaker.get("cooldown", "10m")))
        if isinstance(breaker, dict) else None,
    )


def load_centi(threshold: float | None) -> int | None:
    """performance.load_threshold (per CPU) in hundredths, as run-check compares it."""
    return None if threshold is None else max(1, round(threshold * 100))


def run_timeout(timeout: int, retry: Retry | None) -> int:
    """TimeoutStartSec= for a check: every attempt's own timeout plus the delays between them."""
    return timeout if retry is None else timeout * retry.attempts + sum(retry.delays())
