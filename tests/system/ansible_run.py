"""Run contrib/ansible's playbooks against booted test containers, and read Ansible's recap.

The connection is ansible_plugins/connection/nsenter.py (commands through nsenter on the
container's init, files through /proc/PID/root): no sshd, no machined, the container's own
systemd. Ansible itself runs on the host (Debian 12's `ansible`, from dev/install-deps); the
apt module needs python3-apt inside, which `prepare` installs from the host's Debian 12
packages (support.install_packages), so nothing is fetched per container.

    recap = playbook({"web1": box}, PLAYBOOK, {"bamon_deb": str(deb)}, tmp_path)
    assert recap.hosts["web1"]["changed"] == 0
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nspawn import Container
from support import install_packages

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib" / "ansible"
PLAYBOOK = CONTRIB / "site.yml"
PLUGINS = Path(__file__).resolve().parent / "ansible_plugins" / "connection"
# the apt module's python3-apt, with the dependencies a minbase rootfs lacks
APT_DEBS = ("python3-apt", "python-apt-common", "distro-info-data")
_RECAP = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$")


@dataclass(frozen=True)
class Recap:
    hosts: dict[str, dict[str, int]]  # host → {ok, changed, unreachable, failed, skipped, rescued, ignored}
    output: str


def _ansible_playbook() -> str:
    found = shutil.which("ansible-playbook")
    if found is None:
        pytest.fail("ansible-playbook is missing: dev/install-deps installs Debian's ansible", pytrace=False)
    return found


def prepare(box: Container) -> None:
    """What Ansible needs inside a test container: python3 is there; the apt module's python3-apt."""
    install_packages(box, *APT_DEBS)


def playbook(boxes: Mapping[str, Container], book: Path, extra_vars: Mapping[str, Any], workdir: Path,
             forks: int = 20, timeout: float = 900, expect_failure: bool = False,
             env: Mapping[str, str] | None = None) -> Recap:
    """ansible-playbook `book` on `boxes` ({inventory name: container}) as root inside (no become).

    Fails the test when a host fails, or with expect_failure when none did. env adds Ansible
    settings (the fleet tier turns fact gathering off and pipelining on for its twenty hosts).
    """
    inventory = workdir / "inventory.ini"
    inventory.write_text("[fleet]\n" + "".join(
        f"{name} ansible_host={box.init_pid} ansible_connection=nsenter ansible_become=false "
        "ansible_python_interpreter=/usr/bin/python3\n"
        for name, box in boxes.items()))
    variables = workdir / "vars.json"
    variables.write_text(json.dumps(dict(extra_vars)))
    env = {**os.environ, "ANSIBLE_CONNECTION_PLUGINS": str(PLUGINS), "ANSIBLE_ROLES_PATH": str(CONTRIB / "roles"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_HOST_KEY_CHECKING": "False",
           "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
           "ANSIBLE_FORKS": str(forks), **(env or {})}
    done = subprocess.run([_ansible_playbook(), "-i", str(inventory), "-e", f"@{variables}", str(book)],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    output = done.stdout + done.stderr
    hosts = {}
    for line in output.splitlines():
        found = _RECAP.match(line.strip())
        if found and found.group(1) in boxes:
            hosts[found.group(1)] = {k: int(v) for k, v in (kv.split("=") for kv in found.group(2).split())}
    if set(hosts) != set(boxes) or (done.returncode != 0) != expect_failure:
        pytest.fail(f"ansible-playbook {'succeeded' if expect_failure else 'failed'} ({done.returncode}):\n"
                    f"{output[-6000:]}", pytrace=False)
    return Recap(hosts, output)
