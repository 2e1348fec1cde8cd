"""The notifier's three occasions: a failed run, an escalation timer, the first success after failing.

Each one: load the config, lock the check's alert state, let rules.py decide, render and hand
"send" decisions to deliver() (the delivery side: channels, outbox), and write one
alert.decision record per decision. Nothing here may stop another check or channel: errors in
one alert are recorded and the notifier still exits 0.
"""

from __future__ import annotations

import functools
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamon.config.model import Config, Script, load
from bamon.history.records import RunRecord, history, read_state
from bamon.journal import Journal
from bamon.notify import escalation, events, evidence, messages, rules, silences
from bamon.notify.alert import Alert, Delivery, Kind
from bamon.notify.state import CheckState, check_state
from bamon.paths import Paths
from bamon.recovery import actions as recovery
from bamon.systemd import Systemd

Deliver = Callable[..., list[Delivery]]


def _default_deliver(alert: Alert, specs: Sequence[Any], *, paths: Paths, journal: Journal) -> list[Delivery]:
    from bamon.notify.deliver import deliver  # the delivery side (channels, outbox, records)

    return deliver(alert, specs, paths=paths, journal=journal)


@dataclass
class Notifier:
    """What every occasion needs; tests pass their own journal, systemd and deliver."""

    paths: Paths
    systemd: Systemd
    journal: Journal
    deliver: Deliver = _default_deliver
    config: Config | None = None

    def __post_init__(self) -> None:
        if self.config is None:
            self.config = load(self.paths.config_file, self.paths.scripts_dir)

    @property
    def cfg(self) -> Config:
        assert self.config is not None
        return self.config

    @property
    def channel_names(self) -> list[str]:
        return [spec.name for spec in self.cfg.channels]

    def _silence(self, script: Script | None, check: str) -> str:
        """Why alerts about the check are silenced now, or "" when they are not."""
        found = silences.matching(silences.active(self.paths.silences_file), check, script.tags if script else ())
        if found is None:
            return ""
        why = f": {found.reason}" if found.reason else ""
        return f"silence {found.id} for {found.target} until {int(found.until)}{why}"

    def _send(self, log: Any, decision: rules.Decision, kind: Kind, check: str, state: CheckState,
              context: dict[str, Any]) -> None:
        """Render, deliver and record one decision (a non-send decision is only recorded)."""
        alert_id = ""
        if decision.action == "send" and not decision.channels:
            decision = rules.Decision(decision.rule, "no-channel", "no channel to send to (alerts.channels)")
        if decision.action == "send":
            values = {**context, "rule": decision.rule, "step": decision.step, "reminder": decision.reminder,
                      "severity": decision.severity or context.get("severity", "warning")}
            title, body, problem = messages.render(kind.value, values, self.paths.templates_dir)
            if problem:
                log.warning("alert.decision", action="template-error", reason=problem, rule=decision.rule)
            alert = Alert(id=str(uuid.uuid4()), kind=kind, check=check, host=str(context["host"]),
                          status=str(context["status"]), severity=values["severity"], title=title, body=body,
                          dedup_key=state.episode, created=time.time(), rule=decision.rule, step=decision.step,
                          evidence=context)
            alert_id = alert.id
            specs = [spec for spec in self.cfg.channels if spec.name in decision.channels]
            self.deliver(alert, specs, paths=self.paths, journal=self.journal)
        log.info("alert.decision", action=decision.action, reason=decision.reason, rule=decision.rule,
                 kind=kind.value, channels=",".join(decision.channels) or None, severity=decision.severity or None,
                 step=decision.step, alert_id=alert_id or None, episode=state.episode or None)

    # --- occasions ----------------------------------------------------------------------------
    def failure(self, record: RunRecord, output: list[str], shown: Mapping[str, str] | None = None) -> None:
        """A failed run (`shown`: the unit's accounting, if the caller asked systemd already)."""
        check = record.check
        script = self.cfg.script(check)
        log = events.logger(self.journal, bamon_check=check)
        now = time.time()
        with check_state(self.paths.alert_state_dir, check) as state:
            opened = not state.episode
            if opened:
                state.episode = f"bamon/{socket.gethostname()}/{check}/{record.start_us // 1_000_000}"
                state.started = record.start_us / 1e6
            state.failures = max(record.consecutive_failures, state.failures + (0 if opened else 1), 1)
            facts = self._facts(record, script, output)
            # ---- recovery (issue 7, bamon/recovery/): actions and the circuit breaker, before the
            # alert is rendered so that it says what was done ----
            recovered = (recovery.on_failure(script, record, facts, state.episode, state_dir=self.paths.state_dir,
                                             check_dir=self._check_dir(check), systemd=self.systemd,
                                             journal=self.journal) if script else recovery.Outcome())
            decisions = rules.on_failure(self.cfg, script, facts, state, now=now, channels=self.channel_names,
                                         silenced=self._silence(script, check))
            if recovered.circuit_opened and self.channel_names and not any(d.action == "send" for d in decisions):
                # the breaker's one alert: the episode's first alert went out runs ago
                decisions.append(rules.Decision("circuit breaker", "send", "the circuit breaker opened",
                                                tuple(self.channel_names)))
            context = {**self._context(record, script, output, state, shown), "recovery": recovered.lines}
            for decision in decisions:
                self._send(log, decision, Kind.FAILURE, check, state, context)
            # after sending (the alert first): timers for later escalation steps, and the recovery
            # watch, armed at every failure (cheap, and a watch lost in a reboot comes back)
            for decision in decisions:
                if decision.later:
                    escalation.schedule(self.systemd, check, decision.rule, state.episode, decision.later,
                                        now - state.started)
            if self.cfg.channels:  # with nobody to tell, the recovery need not start a notifier
                escalation.arm(self.systemd, check, self._check_dir(check))

    def escalate(self, check: str, rule_name: str, step: int, episode: str) -> None:
        script = self.cfg.script(check)
        log = events.logger(self.journal, bamon_check=check)
        with check_state(self.paths.alert_state_dir, check) as state:
            decision = rules.on_escalation(self.cfg, state, rule_name, step, episode, channels=self.channel_names,
                                           silenced=self._silence(script, check))
            last = self._last(check)
            context = self._context(last, script, [], state) if last else {"host": "", "status": "FAILED"}
            self._send(log, decision, Kind.FAILURE, check, state, context)

    def recovery(self, check: str) -> None:
        script = self.cfg.script(check)
        log = events.logger(self.journal, bamon_check=check)
        last = self._last(check)
        escalation.disarm(self.systemd, check, self._check_dir(check))
        if last is None or not last.ok:
            log.info("alert.decision", action="not-recovered", reason="the last run did not succeed", kind="recovery")
            return
        with check_state(self.paths.alert_state_dir, check) as state:
            escalation.cancel(self.systemd, check)
            if not state.episode:  # e.g. a stray mark; recorded, so that a missing "recovered" can be traced
                log.info("alert.decision", action="no-alert", kind="recovery", reason="no failure episode is open")
                return
            decision = rules.on_recovery(state, silenced=self._silence(script, check))
            context = {**self._context(last, script, [], state), "episode_failures": state.failures}
            if decision is not None:
                self._send(log, decision, Kind.RECOVERY, check, state, context)
            else:
                log.info("alert.decision", action="no-alert", kind="recovery", episode=state.episode,
                         reason="nobody was alerted about this episode")
            state.episode, state.started, state.failures = "", 0.0, 0

    # --- helpers ------------------------------------------------------------------------------
    def _check_dir(self, check: str) -> Path | None:
        """The check's state directory (where run-check leaves its `last` and `recovered`)."""
        found = self.paths.check_state_file(check)
        return found.parent if found else None

    def _last(self, check: str) -> RunRecord | None:
        return read_state(check, self.paths.check_state_file(check))

    def _facts(self, record: RunRecord, script: Script | None, output: list[str]) -> rules.Facts:
        windows = {rule.window for rule in self.cfg.rules} or {3600}
        window = max(windows)  # one journal read; the widest window any rule asks for

        def error_rate() -> float:
            since = time.time() - window
            runs = [r for r in history(self.journal, record.check) if r.start_us / 1e6 >= since]
            runs = runs if any(r.invocation == record.invocation for r in runs) else [record, *runs]
            return sum(not r.ok for r in runs) / len(runs)

        @functools.cache
        def analytics() -> dict[str, bool | int | float]:
            # the runs that duration_anomaly and flapping look at (101 and 21 runs), at most a week back
            from bamon.history.analytics import rule_values  # numpy: only when a rule asks
            from bamon.history.runs import read

            runs = read(self.journal, record.check, output_format=script.output_format if script else "plain",
                        since_us=int((time.time() - 7 * 86400) * 1e6))
            return rule_values(runs[-101:])

        return rules.Facts({
            "status": evidence.status_word(record, script.output_format if script else "plain"),
            "exit_code": -1 if record.exit_status is None else record.exit_status,
            "failure_reason": "" if record.ok else record.result, "duration": record.duration,
            "consecutive_failures": record.consecutive_failures, "output": "\n".join(output),
            "severity": script.severity if script else "warning", "tags": list(script.tags) if script else [],
        }, {"error_rate": error_rate, "duration_anomaly": lambda: analytics()["duration_anomaly"],
            "flapping": lambda: analytics()["flapping"]})

    def _context(self, record: RunRecord, script: Script | None, output: list[str], state: CheckState,
                 shown: Mapping[str, str] | None = None) -> dict[str, Any]:
        usage = evidence.resources(self.systemd, self.journal, record, shown) if not record.ok else {}
        streams = evidence.run_streams(self.journal, record) if not record.ok else []
        found = evidence.collect(record, script, output=output, usage=usage, episode_start=state.started,
                                 user_mode=self.paths.user_mode, streams=streams)
        found["consecutive_failures"] = max(found["consecutive_failures"], state.failures) if not record.ok else 0
        return found
