"""Every shell script in the repository passes shellcheck: the development and release scripts
(dev/, .ci/run, homebrew/, snap/hooks/) and run-check with the parts it sources, which every check
run executes. The maintainer scripts are checked as the .deb ships them (test_deb.py): in the
repository they hold debhelper's placeholders."""

from __future__ import annotations

import subprocess
from pathlib import Path

from packaging_support import REPO, need

# Sourced by run-check, no shebang of their own (each names its shell in a directive)
RUN_CHECK = sorted((REPO / "bamon" / "units").glob("run-check*"))


def shell_scripts() -> list[Path]:
    """Tracked files that start with a shell's #! line, outside debian/ and the tests."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                            check=True).stdout.decode().split("\0")
    found = []
    for name in filter(None, listed):
        path = REPO / name
        if name.startswith(("debian/", "tests/")) or not path.is_file():
            continue
        with path.open("rb") as handle:
            first = handle.readline(80)
        if first.startswith(b"#!") and first.rstrip().endswith((b"/sh", b"/bash", b" sh", b" bash")):
            found.append(path)
    return found


def shellcheck(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([need("shellcheck"), "-x", *map(str, paths)], capture_output=True, text=True,
                          check=False, cwd=REPO)


def test_run_check_and_its_parts() -> None:
    assert len(RUN_CHECK) >= 10, RUN_CHECK  # run-check and its run-check-* parts
    proc = shellcheck(*RUN_CHECK)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_script_with_a_shell_line() -> None:
    scripts = shell_scripts()
    assert REPO / "dev" / "test" in scripts and REPO / ".ci" / "run" in scripts, scripts
    proc = shellcheck(*scripts)
    assert proc.returncode == 0, proc.stdout + proc.stderr
