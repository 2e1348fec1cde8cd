"""Fuzz bamon/units/shell.py against bash itself: every command it lets run-check run without a
subshell must give the same output, exit status and run record as in the subshell.

Commands are drawn from words that sit on both sides of the line (builtins that change the
shell, keywords, separators, redirections, comments, quotes). Derandomized like the API fuzz:
the same examples on every run; BAMON_FUZZ_RANDOM=1 draws new ones.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from bamon.history.records import parse_record
from bamon.units.render import RUN_CHECK
from bamon.units.shell import runs_inline

# Words a plain command is made of, and words on the other side of the line (drawn less often).
PLAIN = ["echo", "true", "false", "ls", "/bin/echo", "cat", "test", "[", "]", "-d", "/tmp", "/nonexistent",
         "x", "-n", "0", "sleep", ";", "&&", "||", "|", "&", "\n", ">/dev/null", "2>&1", ">&2", "#", "*"]
EDGE = ["exit", "exec", "set", "-e", "cd", "read", "wait", "trap", "return", "kill", "if", "then", "fi",
        "{", "}", "(", ")", "'q'", "$HOME", "X=1", "!", "__bamon_record", "time", "%1", "<<E", "E"]
WORDS = st.one_of(st.sampled_from(PLAIN), st.sampled_from(PLAIN), st.sampled_from(EDGE))
DERANDOMIZE = os.environ.get("BAMON_FUZZ_RANDOM") != "1"


def _run(command: str, state: Path, inline: bool) -> tuple[str, int, str]:
    """(output, exit status, the record's result and status) of run-check, inline or not."""
    state.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "STATE_DIRECTORY": str(state), "INVOCATION_ID": "f",
           **({"BAMON_INLINE": "1"} if inline else {})}
    done = subprocess.run(["/bin/bash", str(RUN_CHECK), "probe", command], capture_output=True, text=True,
                          errors="replace", env=env, timeout=20, check=False, stdin=subprocess.DEVNULL,
                          cwd=state)  # globs see only this run's own, still empty, directory
    # the record is run-check's last stderr line, "<N>bamon-run …": read as bamon's history reads it
    record = parse_record("probe", done.stderr.rstrip("\n").rpartition("\n")[2].partition(">")[2])
    assert record is not None, f"no record for {command!r}: {done.stderr!r}"
    # bash names the line of run-check's `eval` in its messages, which differs between the two
    output = re.sub(r"line \d+", "line N", done.stdout.replace(str(RUN_CHECK), "run-check"))
    # the processes of a pipeline write at once, in either order, byte by byte: compare the bytes
    output = "".join(sorted(output))
    return output, done.returncode, f"{record.result} {record.exit_status}"


@settings(max_examples=400, deadline=None, derandomize=DERANDOMIZE)
@given(st.lists(WORDS, min_size=1, max_size=8))
def test_what_runs_inline_behaves_as_in_the_subshell(words: list[str]) -> None:
    command = " ".join(words)
    if not runs_inline(command):
        event("keeps its subshell")
        return
    event("runs inline")
    with tempfile.TemporaryDirectory() as base:
        inline = _run(command, Path(base) / "inline", True)
        subshell = _run(command, Path(base) / "subshell", False)
    assert inline == subshell, command
