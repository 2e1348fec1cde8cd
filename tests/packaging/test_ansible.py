"""contrib/ansible: ansible-playbook --syntax-check and ansible-lint (Debian 12's ansible and
ansible-lint, from dev/install-deps) accept the example playbook and the bamon role.
tests/system/test_ansible.py applies it to a real container."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from packaging_support import REPO, need

CONTRIB = REPO / "contrib" / "ansible"


def run(tool: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(CONTRIB / "roles"), "ANSIBLE_LOCAL_TEMP": str(tmp_path),
           "HOME": str(tmp_path), "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run([need(tool), *args], cwd=CONTRIB, env=env, capture_output=True, text=True, check=False,
                          timeout=600)


def test_playbook_syntax(tmp_path: Path) -> None:
    done = run("ansible-playbook", "-i", "localhost,", "--syntax-check", "site.yml", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ansible_lint_production_profile(tmp_path: Path) -> None:
    done = run("ansible-lint", "--offline", "-p", "--profile", "production", "site.yml", "roles/bamon",
               tmp_path=tmp_path)
    assert done.returncode == 0 and "Passed with production profile" in done.stdout + done.stderr, \
        done.stdout + done.stderr
