"""What the checks cost, from what systemd and the checks already record (no accounting of ours).

Run time and failures come from the run records in the journal. CPU comes from systemd: PID 1
journals a "Consumed … CPU time" entry (CPU_USAGE_NSEC, MEMORY_PEAK since 255) when a unit
stops, but only at debug level for runs under a second of CPU (seen on systemd 252), so for
cheap checks the figure is the one systemd keeps of the last run (`systemctl show -p
CPUUsageNSec`, one batched call). Memory: MemoryPeak= (systemd ≥ 255); None before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bamon.history.records import RECORD_PREFIX, from_entry
from bamon.journal import Journal
from bamon.journal import field as entry_field
from bamon.systemd import Systemd
from bamon.units import naming

# sd-messages.h: SD_MESSAGE_UNIT_RESOURCES, "Consumed … CPU time" at the end of each run
UNIT_RESOURCES = "ae8f7b866b0347b9af31fe1c80b127c0"


@dataclass
class CheckCost:
    name: str
    runs: int = 0
    failures: int = 0
    durations: list[float] = field(default_factory=list)
    cpu_ns: int = 0  # from journaled "Consumed" entries
    cpu_samples: int = 0
    last_cpu_ns: int | None = None  # systemd's figure for the last run
    memory_peak: int | None = None

    @property
    def avg_time(self) -> float | None:
        return sum(self.durations) / len(self.durations) if self.durations else None

    @property
    def max_time(self) -> float | None:
        return max(self.durations) if self.durations else None

    @property
    def cpu_per_run(self) -> float | None:
        if self.cpu_samples:
            return self.cpu_ns / 1e9 / self.cpu_samples
        return None if self.last_cpu_ns is None else self.last_cpu_ns / 1e9

    @property
    def cpu_seconds(self) -> float:
        """CPU over the window: runs × CPU per run."""
        return (self.cpu_per_run or 0.0) * self.runs


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def add_records(costs: dict[str, CheckCost], entries: Iterable[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for entry in entries:
        record = from_entry(entry)
        if record is None or record.check not in costs or record.invocation in seen:
            continue  # a correction of a run is sent after it: count each run once
        seen.add(record.invocation)
        cost = costs[record.check]
        cost.runs += 1
        cost.failures += 0 if record.ok else 1
        cost.durations.append(record.duration)


def add_resources(costs: dict[str, CheckCost], entries: Iterable[dict[str, Any]]) -> None:
    for entry in entries:
        name = naming.script_of(entry_field(entry, "UNIT") or entry_field(entry, "USER_UNIT"))
        if name not in costs:
            continue
        cost = costs[name]
        cpu = _number(entry_field(entry, "CPU_USAGE_NSEC"))
        if cpu is not None:
            cost.cpu_ns += cpu
            cost.cpu_samples += 1
        memory = _number(entry_field(entry, "MEMORY_PEAK"))
        if memory is not None:
            cost.memory_peak = max(memory, cost.memory_peak or 0)


def add_unit_figures(costs: dict[str, CheckCost], shown: dict[str, dict[str, str]]) -> None:
    for unit, props in shown.items():
        name = naming.script_of(unit)
        if name in costs:
            costs[name].last_cpu_ns = _number(props.get("CPUUsageNSec", ""))
            peak = _number(props.get("MemoryPeak", ""))
            if peak is not None:
                costs[name].memory_peak = max(peak, costs[name].memory_peak or 0)


def costs(journal: Journal, systemd: Systemd, names: list[str], since: str) -> list[CheckCost]:
    """Cost of each named check since `since` (journalctl syntax), the most expensive first."""
    found = {name: CheckCost(name) for name in names}
    add_unit_figures(found, systemd.show([naming.service(n) for n in names], ["CPUUsageNSec", "MemoryPeak"]))
    add_records(found, journal.entries([], since=since, grep=f"^{RECORD_PREFIX}",
                                       fields=("MESSAGE", "SYSLOG_IDENTIFIER")))
    add_resources(found, journal.entries([f"MESSAGE_ID={UNIT_RESOURCES}"], since=since,
                                         fields=("UNIT", "USER_UNIT", "CPU_USAGE_NSEC", "MEMORY_PEAK")))
    return sorted(found.values(), key=lambda c: (-c.cpu_seconds, -sum(c.durations), c.name))
