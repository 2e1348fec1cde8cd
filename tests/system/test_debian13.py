"""The same .deb on Debian 13 (trixie: systemd 257, Python 3.13): checks run, status, manual, completion."""

from __future__ import annotations

import re

from nspawn import Container
from support import bamon, wait_status


def test_debian13_runs_checks_and_reports_status(debian13: Container) -> None:
    box = debian13
    version = box.run("systemctl --version").stdout.split()[1]
    assert int(version) >= 257, version
    assert box.run("python3 -c 'import sys; print(sys.version_info >= (3, 13))'").stdout.strip() == "True"
    assert box.run("systemctl is-active bamon.target").stdout.strip() == "active"

    bamon(box, "add", "trixie_ok", "-c", "echo fine on 13", "-i", "2s")
    bamon(box, "add", "trixie_bad", "-c", "echo broken; exit 2", "-i", "2s")
    try:
        ok = wait_status(box, "trixie_ok", "OK", timeout=30, with_output=True)
        assert "fine on 13" in str(ok["output"])
        bad = wait_status(box, "trixie_bad", "FAILED", timeout=30)
        assert bad["exitCode"] == 2
        table = bamon(box, "status")
        assert re.search(r"trixie_ok\s", table) and re.search(r"trixie_bad\s", table)
    finally:
        for name in ("trixie_ok", "trixie_bad"):
            bamon(box, "remove", "-f", name, check=False)


def test_debian13_manual_and_completion(debian13: Container) -> None:
    box = debian13
    env = {"MANPAGER": "cat", "MANWIDTH": "100"}
    page = box.run(["man", "bamon"], env=env).stdout
    assert "bamon completions" in page and "WITHOUT SYSTEMD" in page
    assert "scripts[].command" in box.run(["man", "5", "bamon.yaml"], env=env).stdout
    assert "SourcePath=" in box.run(["man", "8", "bamon-generator"], env=env).stdout
    bamon(box, "add", "completed_check", "-c", "true", "--disabled")
    try:
        script = ('source /usr/share/bash-completion/completions/bamon; '
                  'COMP_WORDS=(bamon history comp); COMP_CWORD=2; _bamon; echo "${COMPREPLY[*]}"')
        assert box.run(["bash", "-c", script]).stdout.strip() == "completed_check"
    finally:
        bamon(box, "remove", "-f", "completed_check", check=False)
