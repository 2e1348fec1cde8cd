"""bamon-notify: the notifier, a short-lived process started by systemd, never resident.

    bamon-notify [--user] UNIT-NAME            OnFailure= of a check (bamon.notify@%N.service):
                                               record systemd's verdict, then alert
    bamon-notify [--user] --recovered CHECK     the first success after a failure
                                               (bamon.recovered@CHECK.service, from bamon.recover@.path)
    bamon-notify [--user] --escalate CHECK RULE STEP EPISODE
                                               an escalation step's transient timer fired

A notifier that cannot alert still exits 0 after recording why: a failing notifier would
only add a failed unit to the operator's screen, not tell anyone.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from collections.abc import Callable

from bamon.history.records import read_state
from bamon.journal import Journal
from bamon.notify import evidence
from bamon.notify.flow import Notifier
from bamon.notify.record import memory_exhausted, record_failure, verdict
from bamon.paths import Paths, resolve
from bamon.systemd import Systemd
from bamon.units import naming


def _failure(notifier: Notifier, words: list[str]) -> int:
    name = naming.script_of(words[0])
    if name is None:
        return 0  # not a check (e.g. bamon.config-error): nothing to record
    paths, journal = notifier.paths, notifier.journal
    state_file = paths.check_state_file(name) or paths.check_state_dirs[0] / name / "last"
    seen = verdict(name, os.environ, notifier.systemd)
    record = read_state(name, state_file)
    output = evidence.output_tail(journal, record) if record and record.invocation == seen["invocation"] else []
    if seen["result"] == "exit-code" and output and memory_exhausted(output):
        seen["result"] = "memory"
    record = record_failure(name, seen, state_file, journal) or read_state(name, state_file)
    if record is not None and not record.ok:
        if record.invocation != seen["invocation"] or not output:
            output = evidence.output_tail(journal, record, patience=0.3)
        notifier.failure(record, output, shown=seen)
    return 0


def _recovered(notifier: Notifier, words: list[str]) -> int:
    notifier.recovery(words[0])
    return 0


def _escalate(notifier: Notifier, words: list[str]) -> int:
    check, rule, step, episode = words
    notifier.escalate(check, rule, int(step), episode)
    return 0


# option → (number of arguments, handler); no option: the OnFailure= case
_OCCASIONS: dict[str, tuple[int, Callable[[Notifier, list[str]], int]]] = {
    "": (1, _failure), "--recovered": (1, _recovered), "--escalate": (4, _escalate),
}


def finish_before_exit() -> None:
    """Let a SIGTERM wait until this notifier is done.

    A shutdown stops the notifier like any unit. Dying at SIGTERM between a delivery and the
    save of the alert state would forget the episode: the "recovered" alert would never go
    out, and the next failure would page again. The notifier is short-lived and every channel
    has a timeout, so it finishes instead; the unit's TimeoutStopSec= bounds the wait (then
    SIGKILL). A Python handler, unlike SIG_IGN, is not inherited by the commands it runs.
    """
    signal.signal(signal.SIGTERM, lambda *_: None)


def main(argv: list[str] | None = None) -> int:
    # `systemctl kill -s USR1 bamon.notify@…` prints where a stuck notifier is (to the journal)
    faulthandler.register(signal.SIGUSR1)
    finish_before_exit()
    args = sys.argv[1:] if argv is None else argv
    # The user manager sets $MANAGERPID for its services; PID 1 never does.
    user_mode = "--user" in args or "MANAGERPID" in os.environ
    args = [a for a in args if a != "--user"]
    option = args[0] if args and args[0] in _OCCASIONS else ""
    words = args[1:] if option else args
    count, handler = _OCCASIONS[option]
    if len(words) != count or any(w.startswith("--") for w in words):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    paths: Paths = resolve(user_mode)
    return handler(Notifier(paths, Systemd(user_mode), Journal(user_mode)), words)


if __name__ == "__main__":
    sys.exit(main())
