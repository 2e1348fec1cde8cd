"""The evidence an alert carries: what happened to that one run, read from systemd and journald.

Everything here is data (Alert.evidence); the words around it live in the templates. CPU time
and peak memory come from the unit's properties when systemd still has them at OnFailure= time,
else from the "Consumed …" record systemd writes for the run (systemd 252 logs CPU time there,
newer versions also the memory peak).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from typing import Any

from bamon.config.model import Script
from bamon.history.records import LAG_WINDOW_S, REASONS, RunRecord, outputs, parse_record
from bamon.history.runs import status_of
from bamon.journal import Journal, field
from bamon.systemd import Systemd
from bamon.units import naming

OUTPUT_LINES = 20  # the tail an alert shows; the journalctl command gives the rest
_UNIT_RESOURCES = "ae8f7b866b0347b9af31fe1c80b127c0"  # systemd's "Consumed …" record of a run
_UNSET = {"", "[not set]", "18446744073709551615", "infinity"}

# A first step per failure reason; the check's own `hint:` comes after it.
HINTS = {
    "exit-code": "run the command by hand as the check's user to see why it exits non-zero",
    "timeout": "the command ran past its timeout: is what it probes hanging? raise `timeout:` if it is just slow",
    "oom-kill": "the run went over its memory limit and was killed: raise sandbox.max_virtual_memory or fix the leak",
    "memory": "an allocation failed under the memory limit: raise sandbox.max_virtual_memory or use less memory",
    "signal": "something killed the run: look for the sender (systemctl, the OOM killer, a watchdog)",
    "core-dump": "the command crashed: `coredumpctl list` shows the dump",
    "watchdog": "the run stopped answering its watchdog",
    "start-limit-hit": "systemd refused to start it again so soon: `systemctl reset-failed` once it is fixed",
    "resources": "systemd could not set the run up (user, directories, limits): see the journalctl command",
    "exec-condition": "the run's condition command failed",
}
_GENERIC_HINT = "see the run's journal with the command below"


def hint_for(reason: str, script: Script | None) -> str:
    own = script.hint if script else ""
    return "; ".join(h for h in (HINTS.get(reason, _GENERIC_HINT), own) if h)


def reason_text(reason: str) -> str:
    return REASONS.get(reason) or reason or "unknown"


def output_tail(journal: Journal, record: RunRecord, patience: float = 1.0) -> list[str]:
    """The run's last output lines, complete (records.outputs waits for journald's lag and
    finds lines that journald stored without the run's invocation id)."""
    return outputs(journal, [record], OUTPUT_LINES, wait=patience).get(record.invocation, [])


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() and value not in _UNSET else None


def resources(systemd: Systemd, journal: Journal, record: RunRecord,
              shown: Mapping[str, str] | None = None) -> dict[str, int | None]:
    """{"cpu_ns", "memory_peak"} of the run (None where systemd does not say).

    `shown`: the unit's InvocationID, CPUUsageNSec and MemoryPeak if the caller has them already.
    """
    if shown is None or shown.get("InvocationID") != record.invocation:
        unit = naming.service(record.check)
        shown = systemd.show([unit], ["InvocationID", "CPUUsageNSec", "MemoryPeak"]).get(unit, {})
    found: dict[str, int | None] = {"cpu_ns": None, "memory_peak": None}
    if shown.get("InvocationID") == record.invocation:
        found = {"cpu_ns": _number(shown.get("CPUUsageNSec", "")), "memory_peak": _number(shown.get("MemoryPeak", ""))}
    if found["cpu_ns"] is None and record.invocation:
        match = f"{'USER_' if journal.user_mode else ''}INVOCATION_ID={record.invocation}"
        for entry in journal.entries([f"MESSAGE_ID={_UNIT_RESOURCES}", match], lines=1,
                                     fields=("CPU_USAGE_NSEC", "MEMORY_PEAK")):
            found["cpu_ns"] = _number(field(entry, "CPU_USAGE_NSEC"))
            found["memory_peak"] = found["memory_peak"] or _number(field(entry, "MEMORY_PEAK"))
    return found


def journalctl_command(record: RunRecord, user_mode: bool, streams: Sequence[str] = ()) -> str:
    """The exact command that shows this run: systemd's own lines about it and its output.

    `streams`: the run's stdout streams (`run_streams`). journald leaves the invocation id off
    the lines it reads after the run's processes ended (often a short run's last lines, its
    error message among them), so the output is matched by its stream as well.
    """
    user = "--user " if user_mode else ""
    invocation = "USER_INVOCATION_ID" if user_mode else "INVOCATION_ID"
    by_stream = "".join(f" + _STREAM_ID={stream}" for stream in streams)
    return (f"journalctl {user}--no-pager {invocation}={record.invocation} + "
            f"_SYSTEMD_INVOCATION_ID={record.invocation}{by_stream}")


def streams_of(entries: Sequence[dict[str, Any]], record: RunRecord) -> list[str]:
    """The stdout streams among a check's entries that carried the run `record`: those with its
    invocation id on any line, or with its run record line (always on the stream of the output)."""
    found: dict[str, None] = {}
    for entry in entries:
        stream, line = field(entry, "_STREAM_ID"), parse_record(record.check, field(entry, "MESSAGE"))
        if stream and (field(entry, "_SYSTEMD_INVOCATION_ID") == record.invocation
                       or (line is not None and line.invocation == record.invocation)):
            found[stream] = None
    return list(found)


def run_streams(journal: Journal, record: RunRecord) -> list[str]:
    """The run's stdout streams as the journal holds them (read after output_tail waited)."""
    if not record.invocation:
        return []
    entries = journal.scan([[f"SYSLOG_IDENTIFIER=bamon-{record.check}"]],
                           ("MESSAGE", "_STREAM_ID", "_SYSTEMD_INVOCATION_ID"), since_us=record.start_us,
                           until_us=record.end_us + int(LAG_WINDOW_S * 1e6))
    return streams_of(entries, record)


def status_word(record: RunRecord, output_format: str = "plain") -> str:
    """OK/WARNING/FAILED/UNKNOWN: Nagios checks' exit 1 is WARNING (history/runs.status_of).

    A skipped record reaching an alert reads FAILED, as alerts always said."""
    word = status_of(record, output_format)
    return "FAILED" if word == "SKIPPED" else word


def collect(record: RunRecord, script: Script | None, *, output: list[str], usage: dict[str, int | None],
            episode_start: float, user_mode: bool, streams: Sequence[str] = ()) -> dict[str, Any]:
    """Alert.evidence for one run (see the keys documented on Alert)."""
    cpu = usage.get("cpu_ns")
    return {
        "check": record.check, "host": socket.gethostname(),
        "status": status_word(record, script.output_format if script else "plain"),
        "exit_code": record.exit_status, "failure_reason": "" if record.ok else record.result,
        "reason_text": "" if record.ok else reason_text(record.result), "signal": record.signal,
        "duration_s": round(record.duration, 3), "cpu_s": None if cpu is None else round(cpu / 1e9, 3),
        "memory_peak_bytes": usage.get("memory_peak"), "output_tail": output,
        "episode_start": episode_start, "consecutive_failures": record.consecutive_failures,
        "journalctl": journalctl_command(record, user_mode, streams),
        "hint": "" if record.ok else hint_for(record.result, script),
        "tags": list(script.tags) if script else [], "severity": script.severity if script else "warning",
        "description": script.description if script else "",
        "invocation": record.invocation, "unit": naming.service(record.check),
        "started": record.start_us / 1e6, "ended": record.end_us / 1e6,
    }
