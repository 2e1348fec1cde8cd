"""bamon-notify INSTANCE: the OnFailure= handler of every check unit.

INSTANCE is the failed unit's name without suffix (bamon-web_service), as passed by
`OnFailure=bamon.notify@%N.service`. Today it records runs systemd ended itself; alert
delivery builds on the same entry point.
"""

from __future__ import annotations

import os
import sys
import time

from bamon.history.records import RunRecord, outputs, read_state
from bamon.journal import Journal
from bamon.notify.record import memory_exhausted, record_failure, verdict
from bamon.paths import resolve
from bamon.systemd import Systemd
from bamon.units import naming


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # The user manager sets $MANAGERPID for its services; PID 1 never does.
    user_mode = "--user" in args or "MANAGERPID" in os.environ
    instances = [a for a in args if not a.startswith("--")]
    if len(instances) != 1:
        sys.stderr.write("usage: bamon-notify [--user] UNIT-NAME\n")
        return 2
    name = naming.script_of(instances[0])
    if name is None:
        return 0  # not a check (e.g. bamon.config-error): nothing to record
    paths = resolve(user_mode)
    systemd, journal = Systemd(user_mode), Journal(user_mode)
    state_file = paths.check_state_file(name) or paths.check_state_dirs[0] / name / "last"
    seen = verdict(name, os.environ, systemd)
    recorded = read_state(name, state_file)
    if (seen["result"] == "exit-code" and recorded and recorded.invocation == seen["invocation"]
            and memory_exhausted(_output(journal, recorded))):
        seen["result"] = "memory"
    record_failure(name, seen, state_file, journal)
    return 0


def _output(journal: Journal, record: RunRecord) -> list[str]:
    """The run's output; journald may still be storing its last lines, so look twice."""
    for attempt in range(2):
        lines = outputs(journal, [record]).get(record.invocation, [])
        if lines or attempt:
            return lines
        time.sleep(0.3)
    return []


if __name__ == "__main__":
    sys.exit(main())
