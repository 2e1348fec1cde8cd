"""Recovery actions and the circuit breaker's opening: what the notifier does about a failed run.

Runs on the failure path only (the OnFailure= notifier, bamon/notify/flow.py), after the run's
record is written and before the alert is rendered, so the alert can say what was done:
"recovery: systemctl restart web-service → exit 0". Each action whose condition holds (the alert
rules' language, bamon/notify/conditions.py) runs in its own transient unit with a timeout;
command, exit status and output go to journald (event recovery.action) and the audit trail. At
most `max_runs` runs per action per failure episode (the alert state's episode id), so a failing
action never loops; after any action ran, the check is re-run once to confirm.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamon import audit
from bamon.atomic import atomic_write
from bamon.config.model import Script
from bamon.history.records import RunRecord
from bamon.journal import Journal
from bamon.notify import events
from bamon.notify.conditions import parse
from bamon.paths import CIRCUIT
from bamon.recovery import breaker
from bamon.recovery.policy import Action
from bamon.systemd import Systemd, Transient
from bamon.units import naming

OUTPUT_CHARS = 4000  # of an action's output kept in its journald record and the audit trail


@dataclass
class Outcome:
    """What recovery did for one failed run, for the alert (Alert.evidence["recovery"])."""

    lines: list[str] = field(default_factory=list)  # "recovery: CMD → exit 0", "circuit open until 14:05"
    circuit_opened: bool = False
    rerun: bool = False


def describe(action: Action, done: Transient) -> str:
    """The alert's words for one action run."""
    verdict = (f"exit {done.exit_status}" if done.result in ("success", "exit-code") and done.exit_status is not None
               else f"killed after its {action.timeout}s timeout" if done.result == "timeout" else done.result)
    return f"recovery: {action.command} → {verdict}"


def _runs_file(state_dir: Path, check: str) -> Path:
    return state_dir / "recovery" / f"{check}.json"


def _runs(path: Path, episode: str) -> dict[str, int]:
    """How often each action ran in this episode ({} for a new episode)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(data.get("runs", {})) if isinstance(data, dict) and data.get("episode") == episode else {}


def _holds(condition: str, facts: Mapping[str, Any], log: Any) -> bool:
    """The condition on this run; a field the notifier cannot supply makes it false, recorded."""
    try:
        return parse(condition)(facts)
    except (KeyError, TypeError) as exc:
        log.warning("recovery.action", condition=condition, result="not-evaluated", reason=f"no value for {exc}")
        return False


def run_actions(script: Script, facts: Mapping[str, Any], episode: str, *, state_dir: Path, systemd: Systemd,
                journal: Journal) -> list[str]:
    """Run the actions due for this failure; their alert lines (none due: [])."""
    path = _runs_file(state_dir, script.name)
    runs = _runs(path, episode)
    log = events.logger(journal, bamon_check=script.name)
    lines = []
    for index, action in enumerate(script.recovery.actions):
        if runs.get(str(index), 0) >= action.max_runs:
            continue
        if action.condition and not _holds(action.condition, facts, log):
            continue
        runs[str(index)] = runs.get(str(index), 0) + 1
        # recorded before it runs: a notifier killed mid-action must not run it again
        atomic_write(path, json.dumps({"episode": episode, "runs": runs}) + "\n", durable=True)
        unit = f"bamon.recovery-{script.name}-{index}-{int(time.time())}.service"
        done = systemd.run_transient(unit, action.command, action.timeout,
                                     f"bamon recovery action for {script.name}")
        lines.append(describe(action, done))
        output = done.output[-OUTPUT_CHARS:]
        log.info("recovery.action", command=action.command, result=done.result, exit_status=done.exit_status,
                 output=output or None, unit=unit, episode=episode, condition=action.condition)
        audit.record(journal, "recovery", script.name, before=action.command,
                     after=f"{done.result} exit_status={done.exit_status}\n{output}".rstrip())
    return lines


def open_circuit(script: Script, record: RunRecord, check_dir: Path | None, journal: Journal) -> str:
    """Apply the breaker to a failed run; the alert line when it opened the circuit, else ""."""
    if script.recovery.breaker is None or check_dir is None:
        return ""
    file = check_dir / CIRCUIT
    before = breaker.read(file)
    after = breaker.after_failure(before, script.recovery.breaker, record.consecutive_failures,
                                  int(time.time() * 1_000_000))
    if after == before:
        return ""
    breaker.write(file, after)
    text = breaker.describe(after)
    events.logger(journal, bamon_check=script.name).warning(
        "recovery.circuit", state=after.state.value, until_usec=after.until_us, was=before.state.value,
        consecutive_failures=record.consecutive_failures)
    return text


def on_failure(script: Script, record: RunRecord, facts: Mapping[str, Any], episode: str, *, state_dir: Path,
               check_dir: Path | None, systemd: Systemd, journal: Journal) -> Outcome:
    """Everything recovery does about one failed run (the notifier's one call)."""
    outcome = Outcome()
    outcome.lines = run_actions(script, facts, episode, state_dir=state_dir, systemd=systemd, journal=journal)
    if outcome.lines:
        # the confirming re-run: its success ends the episode ("recovered"), its failure comes
        # back here, where this episode's actions have had their run
        systemd.start(naming.service(script.name), wait=False)
        outcome.rerun = True
        outcome.lines.append("re-running the check to confirm")
    opened = open_circuit(script, record, check_dir, journal)
    if opened:
        outcome.lines.append(opened)
        outcome.circuit_opened = True
    return outcome
