"""bamon/units/minify.py: the run-check scripts as installed, without comments, names short.

The cases are the places where a `#` is not a comment in bash. Then the real thing: every
run-check file as installed is valid bash without a comment line or a long name, and the
run-check tests pass against those copies.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bamon.units import minify, render

CASES = {
    "# a whole-line comment": "",
    "   # an indented one": "",
    "": "",
    "x=1  # why": "x=1",
    "x=1\t# after a tab": "x=1",
    'echo "a # b"': 'echo "a # b"',
    "echo 'a # b' # c": "echo 'a # b'",
    "echo ${x#*/} ${y##*-}": "echo ${x#*/} ${y##*-}",
    "echo ${x:- # not a comment}": "echo ${x:- # not a comment}",
    "echo $# args": "echo $# args",
    "echo a\\ #b": "echo a\\ #b",
    "echo a#b": "echo a#b",
    "echo \"it's\" # c": "echo \"it's\"",
    "printf '%s\\n' \"$1\"  # \"quoted\" in a comment": "printf '%s\\n' \"$1\"",
}


@pytest.mark.parametrize("line", CASES)
def test_only_comments_go(line: str) -> None:
    assert minify.strip(line + "\n") == (CASES[line] + "\n" if CASES[line] else "")


def test_a_script_with_a_here_document_is_left_alone() -> None:
    script = "cat <<EOF\n# data, not a comment\nEOF\n# comment\n"
    assert minify.strip(script) == script


SCRIPTS = sorted(render.RUN_CHECK.parent.glob("run-check*"))


@pytest.mark.parametrize("source", SCRIPTS, ids=lambda p: p.name)
def test_every_run_check_file_installed_is_valid_bash_without_comments(source: Path, tmp_path: Path) -> None:
    stripped = tmp_path / source.name
    stripped.write_text(minify.installed(source.read_text()))
    assert subprocess.run(["/bin/bash", "-n", str(stripped)], capture_output=True, text=True).stderr == ""
    lines = stripped.read_text().splitlines()
    assert lines and not any(line.lstrip().startswith("#") or not line.strip() for line in lines)
    assert len(stripped.read_bytes()) < len(source.read_bytes())
    assert minify.PREFIX not in stripped.read_text()


def test_the_short_prefix_joins_no_two_names() -> None:
    """A name already spelled with the short prefix would meet its long twin once shortened."""
    assert minify.installed("__bamon_x=1 __bamon_start=2\n") == "_Bx=1 _Bstart=2\n"
    starts_a_name = re.compile(rf"(?<![A-Za-z0-9_]){minify.SHORT_PREFIX}")  # a name's start, not its inside
    for source in SCRIPTS:
        assert not starts_a_name.search(source.read_text()), source.name
    assert starts_a_name.search(minify.installed("x=$__bamon_x\n"))  # the test can see one


def test_the_run_check_tests_pass_against_the_installed_copies(tmp_path: Path) -> None:
    for source in SCRIPTS:
        (tmp_path / source.name).write_text(minify.installed(source.read_text()))
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         str(tests / "test_run_check.py"), str(tests / "test_run_check_recovery.py")],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "BAMON_TEST_RUN_CHECK": str(tmp_path / "run-check")}, cwd=tests.parents[1])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-500:]
