"""What the checks cost, from what systemd and the checks already journal (no accounting of ours).

Two queries over a time window: the run records (run time, failures) and systemd's own
"Consumed … CPU time" entry that PID 1 writes when a unit stops (CPU_USAGE_NSEC, and since
systemd 255 MEMORY_PEAK). On systemd 252 there is no memory figure per run: it stays None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bamon.history.records import RECORD_PREFIX, from_entry
from bamon.journal import Journal
from bamon.journal import field as entry_field
from bamon.units import naming

# sd-messages.h: SD_MESSAGE_UNIT_RESOURCES, "Consumed … CPU time" at the end of each run
UNIT_RESOURCES = "ae8f7b866b0347b9af31fe1c80b127c0"


@dataclass
class CheckCost:
    name: str
    runs: int = 0
    failures: int = 0
    durations: list[float] = field(default_factory=list)
    cpu_ns: int = 0
    cpu_samples: int = 0
    memory_peak: int | None = None

    @property
    def avg_time(self) -> float | None:
        return sum(self.durations) / len(self.durations) if self.durations else None

    @property
    def max_time(self) -> float | None:
        return max(self.durations) if self.durations else None

    @property
    def cpu_seconds(self) -> float:
        return self.cpu_ns / 1e9

    @property
    def cpu_per_run(self) -> float | None:
        return self.cpu_seconds / self.cpu_samples if self.cpu_samples else None


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


def costs(journal: Journal, names: list[str], since: str) -> list[CheckCost]:
    """Cost of each named check since `since` (journalctl syntax), the most expensive first."""
    found = {name: CheckCost(name) for name in names}
    add_records(found, journal.entries([], since=since, grep=f"^{RECORD_PREFIX}",
                                       fields=("MESSAGE", "SYSLOG_IDENTIFIER")))
    add_resources(found, journal.entries([f"MESSAGE_ID={UNIT_RESOURCES}"], since=since,
                                         fields=("UNIT", "USER_UNIT", "CPU_USAGE_NSEC", "MEMORY_PEAK")))
    return sorted(found.values(), key=lambda c: (-c.cpu_ns, -sum(c.durations), c.name))
