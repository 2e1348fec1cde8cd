"""The state of every check, assembled for `bamon status`, `bamon now` and the web API.

Sources, chosen so that 1,000 checks stay well under the 0.5 s budget (DESIGN §7):
the config (what exists), one `systemctl list-units` (running? timer active?), each check's
`last` file (result, exit status, times, failure count), one journal query for the output of
all last runs, and for `schedule:` timers only one batched `systemctl show` (next elapse;
interval timers run on a grid computed here alike, bamon/units/phase.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bamon.config.model import Config, Script
from bamon.history.records import REASONS, RunRecord, outputs, read_states
from bamon.history.runs import status_of
from bamon.journal import Journal
from bamon.paths import CIRCUIT, Paths
from bamon.recovery import breaker, skips
from bamon.systemd import Systemd, timestamp
from bamon.units import naming, phase


@dataclass(frozen=True)
class CheckStatus:
    script: Script
    status: str  # OK | FAILED | WARNING | UNKNOWN | RUNNING | SKIPPED | DISABLED
    record: RunRecord | None
    output: tuple[str, ...]
    next_run: datetime | None
    circuit: breaker.Circuit | None = None  # None: no circuit_breaker configured

    def circuit_text(self) -> str:
        """"circuit open until 14:05", "circuit half-open" or "circuit closed"."""
        return breaker.describe(self.circuit) if self.circuit is not None else ""

    @property
    def skip_reason(self) -> str | None:
        return skips.describe(self.record.skip) if self.record and self.record.skipped else None

    @property
    def failure_reason(self) -> str | None:
        if self.record is None or self.record.ok or self.record.skipped:
            return None
        return self.record.result

    def reason_text(self) -> str:
        """Human wording of the failure reason, e.g. "Timeout after 2s"."""
        if self.record is None or self.record.ok:
            return ""
        if self.record.skipped:
            return self.skip_reason or ""
        if self.record.result == "timeout":
            return f"Timeout after {self.script.limits.timeout}s"
        if self.record.result == "exit-code":
            return f"Exit code {self.record.exit_status}"
        return REASONS.get(self.record.result, self.record.result).capitalize()


def _status_word(script: Script, record: RunRecord | None, running: bool) -> str:
    if running:
        return "RUNNING"
    if record is None:
        return "UNKNOWN" if script.enabled else "DISABLED"
    return status_of(record, script.output_format)


def _next_run(script: Script, record: RunRecord | None, timer_active: bool,
              calendar_next: dict[str, datetime]) -> datetime | None:
    if not script.enabled or not timer_active:
        return None
    if script.schedule:
        return calendar_next.get(script.name)
    if record is None:
        return None
    on_grid = phase.grid(script.name, script.interval)
    if on_grid is not None:  # the timer's OnCalendar= (bamon/units/phase.py), computed alike
        return datetime.fromtimestamp(on_grid.next_at(time.time()), tz=UTC)
    # OnUnitActiveSec= counts from the last start; a late timer catches up at once.
    due = record.start_us / 1e6 + (script.interval or 0)
    return datetime.fromtimestamp(max(due, time.time()), tz=UTC)


def _calendar_next(systemd: Systemd, scripts: list[Script]) -> dict[str, datetime]:
    timers = [naming.timer(s.name) for s in scripts if s.schedule and s.enabled]
    shown = systemd.show(timers, ["NextElapseUSecRealtime"]) if timers else {}
    result = {}
    for unit, props in shown.items():
        name = naming.script_of(unit)
        moment = timestamp(props.get("NextElapseUSecRealtime", ""))
        if name and moment:
            result[name] = moment
    return result


def _circuit(script: Script, paths: Paths) -> breaker.Circuit | None:
    """The circuit breaker's state (bamon/recovery/breaker.py), for checks that have one."""
    if script.recovery.breaker is None:
        return None
    found = (breaker.read(base / script.name / CIRCUIT) for base in paths.check_state_dirs)
    return next((c for c in found if c != breaker.CLOSED), breaker.CLOSED)


def collect(config: Config, paths: Paths, systemd: Systemd | None, journal: Journal | None,
            names: list[str] | None = None) -> list[CheckStatus]:
    """Status of the configured checks (all, or the named ones), in config order."""
    scripts = [s for s in config.scripts if names is None or s.name in names]
    units = systemd.list_units(naming.UNIT_GLOB) if systemd else {}
    records = read_states([s.name for s in scripts], paths.check_state_dirs)
    lines = outputs(journal, [r for r in records.values() if r]) if journal else {}
    calendar_next = _calendar_next(systemd, scripts) if systemd else {}
    result = []
    for script in scripts:
        record = records[script.name]
        service = units.get(naming.service(script.name))
        timer = units.get(naming.timer(script.name))
        running = service is not None and service.active in ("activating", "deactivating")
        result.append(CheckStatus(
            script=script,
            status=_status_word(script, record, running),
            record=record,
            output=tuple(lines.get(record.invocation, ())) if record else (),
            next_run=_next_run(script, record, timer is not None and timer.active == "active", calendar_next),
            circuit=_circuit(script, paths),
        ))
    return result
