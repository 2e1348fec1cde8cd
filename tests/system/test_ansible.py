"""contrib/ansible's role on a real Debian 12 container (Ansible on the host, the nsenter
connection of ansible_run.py): it installs the .deb, lays down config.yaml and scripts.d
entries from variables, applies them (the checks run), refuses an invalid entry before writing
it, removes entries no longer listed — and a second run with the same variables changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_run import PLAYBOOK, playbook, prepare
from nspawn import Container
from support import bamon, wait_status

OK = {"name": "role_ok", "command": "echo fine", "interval": "2s", "tags": ["base"]}
BAD = {"name": "role_bad", "command": "echo broken; exit 3", "interval": "2s", "severity": "critical"}


def variables(deb: Path, *scripts: dict[str, Any]) -> dict[str, Any]:
    return {"bamon_deb": str(deb), "bamon_scripts": list(scripts),
            "bamon_config": {"daemon": {"default_interval": 60}, "scripts": []}}


def test_role_installs_applies_validates_and_is_idempotent(system_host: None, bamon_deb: Path,
                                                           tmp_path: Path) -> None:
    with Container() as box:  # no bamon yet: the role installs it
        prepare(box)
        assert box.run(["dpkg-query", "-W", "bamon"], check=False).returncode != 0
        hosts = {"box": box}
        first = playbook(hosts, PLAYBOOK, variables(bamon_deb, OK, BAD), tmp_path)
        assert first.hosts["box"]["changed"] >= 5 and first.hosts["box"]["failed"] == 0, first.output
        assert "RUNNING HANDLER [bamon : Apply the bamon configuration]" in first.output
        wait_status(box, "role_ok", "OK")
        assert wait_status(box, "role_bad", "FAILED")["exitCode"] == 3
        entry = box.path("/etc/bamon/scripts.d/role_bad.yaml").read_text()
        assert entry.startswith("# Ansible managed") and "severity: critical" in entry

        second = playbook(hosts, PLAYBOOK, variables(bamon_deb, OK, BAD), tmp_path)
        assert second.hosts["box"]["changed"] == 0, second.output
        assert "RUNNING HANDLER" not in second.output

        # an invalid entry is refused by `bamon config validate --candidate` before it is written
        broken = {"name": "role_broken", "command": "true", "interval": "soon"}
        refused = playbook(hosts, PLAYBOOK, variables(bamon_deb, OK, BAD, broken), tmp_path, expect_failure=True)
        assert "failed to validate" in refused.output and "interval: 'soon' is not valid" in refused.output
        assert not box.path("/etc/bamon/scripts.d/role_broken.yaml").exists()

        # an entry no longer listed is removed, and the checks follow
        third = playbook(hosts, PLAYBOOK, variables(bamon_deb, OK), tmp_path)
        assert third.hosts["box"]["changed"] >= 1 and not box.path("/etc/bamon/scripts.d/role_bad.yaml").exists()
        assert bamon(box, "list").split().count("role_bad") == 0 and "role_ok" in bamon(box, "list")
        assert playbook(hosts, PLAYBOOK, variables(bamon_deb, OK), tmp_path).hosts["box"]["changed"] == 0
