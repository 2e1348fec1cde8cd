"""Recording runs that systemd ended itself (timeout, memory limit, signals).

run-check records every run that returns to it. A run killed by systemd never returns, so the
OnFailure= notifier writes its record from systemd's verdict ($MONITOR_SERVICE_RESULT, …).
When run-check already recorded the same invocation but systemd's verdict differs (a memory
kill of the command while the wrapper survived), systemd wins: the record is corrected and the
failure count is not counted twice.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from bamon.atomic import atomic_write
from bamon.history.records import RunRecord, journal_fields, read_state, record_message
from bamon.journal import Journal
from bamon.paths import FAILING
from bamon.systemd import Systemd
from bamon.units import naming

# The unit's accounting rides along for the alert's evidence (bamon/notify/evidence.py): one
# systemctl call instead of two on the way to the first alert.
_EVIDENCE = ("InvocationID", "CPUUsageNSec", "MemoryPeak")
_SHOW = ["Result", "ExecMainCode", "ExecMainStatus", "ExecMainStartTimestamp", "ExecMainExitTimestamp", *_EVIDENCE]
_CODES = {"1": "exited", "2": "killed", "3": "dumped"}  # CLD_* numbers in ExecMainCode=
# What programs print when an allocation fails under LimitAS= (bash, coreutils, Python, C++).
_OUT_OF_MEMORY = re.compile(r"cannot allocate|out of memory|MemoryError|bad_alloc|memory exhausted", re.I)


def memory_exhausted(output: list[str]) -> bool:
    """Did a run that exited non-zero die of a failed allocation?

    Where systemd has the cgroup memory controller, the kernel kills a run over MemoryMax= and
    systemd says Result=oom-kill. Where it has not (cgroup v1 hosts, some containers), only
    LimitAS= holds: allocations fail and the program exits, saying so. That message is the
    only evidence, so this is the one place bamon reads a run's output to name a reason.
    """
    return any(_OUT_OF_MEMORY.search(line) for line in output[-20:])


def _usec(text: str) -> int | None:
    # `systemctl show --timestamp=unix` gives "@1700000000"; only seconds, good enough here
    return int(text[1:]) * 1_000_000 if text.startswith("@") and text[1:].isdigit() else None


def verdict(name: str, env: Mapping[str, str], systemd: Systemd) -> dict[str, str]:
    """What systemd says about the failed run: from $MONITOR_* (systemd ≥ 251) or the unit."""
    unit = naming.service(name)
    shown = systemd.show([unit], _SHOW).get(unit, {})
    # lower-case keys: the verdict; systemd's property names: the unit as shown (for evidence)
    return {**{k: shown.get(k, "") for k in _EVIDENCE}, **_verdict(env, shown)}


def _verdict(env: Mapping[str, str], shown: dict[str, str]) -> dict[str, str]:
    if env.get("MONITOR_SERVICE_RESULT"):
        return {
            "invocation": env.get("MONITOR_INVOCATION_ID", ""),
            "result": env["MONITOR_SERVICE_RESULT"],
            "code": env.get("MONITOR_EXIT_CODE", "exited"),
            "status": env.get("MONITOR_EXIT_STATUS", ""),
            **({"start": shown.get("ExecMainStartTimestamp", ""), "end": shown.get("ExecMainExitTimestamp", "")}
               if shown.get("InvocationID") == env.get("MONITOR_INVOCATION_ID") else {}),
        }
    return {
        "invocation": shown.get("InvocationID", ""),
        "result": shown.get("Result", "unknown"),
        "code": _CODES.get(shown.get("ExecMainCode", ""), "exited"),
        "status": shown.get("ExecMainStatus", ""),
        "start": shown.get("ExecMainStartTimestamp", ""),
        "end": shown.get("ExecMainExitTimestamp", ""),
    }


def _new_record(name: str, seen: dict[str, str], failures: int) -> RunRecord:
    """The record of a run run-check did not record, from systemd's verdict alone."""
    end = _usec(seen.get("end", "")) or int(time.time() * 1_000_000)
    exited = seen["code"] == "exited" and seen["status"].isdigit()
    return RunRecord(
        check=name, invocation=seen["invocation"], result=seen["result"],
        exit_status=int(seen["status"]) if exited else None,
        start_us=_usec(seen.get("start", "")) or end, end_us=end,
        consecutive_failures=failures, signal="" if exited else seen["status"],
    )


def record_failure(name: str, seen: dict[str, str], state_file: Path, journal: Journal) -> RunRecord | None:
    """Write the record of a failed run unless run-check already wrote the same verdict."""
    if seen["result"] == "success" or not seen["invocation"]:
        return None
    last = read_state(name, state_file)
    if last is not None and last.invocation != seen["invocation"] and last.invocation == seen.get("InvocationID"):
        # A later run of the unit (its current invocation) finished and recorded itself before this
        # notifier started, e.g. `bamon now` right after a failure: that record is the check's last
        # result and stays. The failed run only goes to history, and only if run-check could not
        # record it itself (systemd ended it: timeout, signal, memory).
        if seen["result"] != "exit-code":
            late = _new_record(name, seen, 1)
            journal.send(record_message(late), **journal_fields(late))
        return None
    if last is not None and last.invocation == seen["invocation"]:
        if last.result == seen["result"]:
            return None  # run-check recorded it
        # A failure already counted keeps its count; a run recorded as a success now counts as
        # a failure. From 1, as run-check counts a re-recorded run: the previous run's count
        # was in the line the success record replaced.
        record = replace(last, result=seen["result"], consecutive_failures=max(last.consecutive_failures, 1))
    else:
        record = _new_record(name, seen, (last.consecutive_failures if last and not last.ok else 0) + 1)
    # `failing` beside `last`, as run-check keeps it: what checks that depend on this one look at
    # (BAMON_WATCH). After `last`, so that it is never ahead of the record it stands for.
    failing = state_file.with_name(FAILING)
    atomic_write(state_file, record.state_line(), durable=False)
    atomic_write(failing, f"{record.consecutive_failures}\n", durable=False)
    # The directory belongs to the check's User= (StateDirectory=): so must the files, or the
    # check's next run could not rewrite them.
    owner = state_file.parent.stat()
    for path in (state_file, failing):
        os.chown(path, owner.st_uid, owner.st_gid)
    # The same line run-check prints: history reads records from the message alone.
    journal.send(record_message(record), **journal_fields(record))
    return record
