"""Escalation timers and the recovery watch: the notifier's future, kept by systemd.

* Each later escalation step of a rule is a transient timer (systemd-run --on-active) that
  starts `bamon-notify --escalate CHECK RULE STEP EPISODE` once. Recovery stops them all, and a
  step that fires after the episode ended finds it over and does nothing (both, to be safe).
* While a failure episode is open the notifier keeps `bamon.recover@CHECK.path` started: it
  watches for the `recovered` mark run-check leaves (bash builtins, no process) on the first
  success after a failure, and starts the recovery notifier. Ordinary successful runs start
  nothing; only that one run costs a Python process. The `alerting` mark beside it lets
  bamon.rearm.service start the watch again after a reboot.
"""

from __future__ import annotations

import math
import shutil
import sys
import zlib
from pathlib import Path

from bamon.config.model import EscalationStep
from bamon.systemd import Systemd

RECOVER_TEMPLATE = "bamon.recover@"
RECOVERED_MARK = "recovered"  # run-check's file in the check's state directory
ALERTING_MARK = "alerting"  # ours, while an episode is open: bamon.rearm.service re-arms after a reboot


def _timer_prefix(check: str) -> str:
    # ":" cannot appear in a check name, so one check's glob never matches another's timers
    return f"bamon.escalate-{check}:"


def timer_unit(check: str, rule: str, step: int) -> str:
    return f"{_timer_prefix(check)}{zlib.crc32(rule.encode()):08x}:{step}"


def _notifier() -> list[str]:
    found = shutil.which("bamon-notify")
    return [found] if found else [sys.executable, "-m", "bamon.notify.main"]


def schedule(systemd: Systemd, check: str, rule: str, episode: str, later: tuple[EscalationStep, ...],
             elapsed: float) -> list[str]:
    """Start one timer per later step (`elapsed`: seconds since the episode began); their units."""
    started = []
    for index, step in enumerate(later, start=1):
        unit = timer_unit(check, rule, index)
        argv = [*_notifier(), *(["--user"] if systemd.user_mode else []),
                "--escalate", check, rule, str(index), episode]
        description = f"bamon escalation {index} of {rule} for {check}"
        if systemd.start_timer(unit, math.ceil(step.after - elapsed), argv, description):
            started.append(unit)
    return started


def cancel(systemd: Systemd, check: str) -> None:
    """Stop every escalation timer of the check (the episode is over)."""
    systemd.stop(f"{_timer_prefix(check)}*.timer")


def recover_watch(check: str) -> str:
    return f"{RECOVER_TEMPLATE}{check}.path"


def arm(systemd: Systemd, check: str, state_dir: Path | None) -> None:
    """Watch for the check's first success (a stale mark from an earlier recovery goes first)."""
    if state_dir is not None:
        (state_dir / RECOVERED_MARK).unlink(missing_ok=True)
        (state_dir / ALERTING_MARK).touch()
    systemd.start(recover_watch(check), wait=False)


def disarm(systemd: Systemd, check: str, state_dir: Path | None) -> None:
    if state_dir is not None:
        (state_dir / RECOVERED_MARK).unlink(missing_ok=True)
        (state_dir / ALERTING_MARK).unlink(missing_ok=True)
    systemd.stop(recover_watch(check))


def forget(systemd: Systemd, check: str, alert_state_dir: Path) -> None:
    """The check is gone (`bamon remove`): no watch, no timers, no open episode left behind
    for a later check of the same name to inherit."""
    systemd.stop(recover_watch(check), f"{_timer_prefix(check)}*.timer")
    for name in (f"{check}.json", f".{check}.json.lock"):
        (alert_state_dir / name).unlink(missing_ok=True)
