"""An Ansible connection into a running systemd-nspawn container: commands through nsenter on
its init (all namespaces), files through /proc/PID/root. ansible_host is that PID.

The test containers have no sshd and no machined, and a chroot would run systemctl outside the
container's systemd; this reaches the real one exactly as Container.run does.
"""

from __future__ import annotations

import shlex
import shutil
from typing import Any

from ansible.module_utils._text import to_text
from ansible.plugins.connection.local import Connection as Local

DOCUMENTATION = """
    name: nsenter
    short_description: run in a running systemd-nspawn container (ansible_host is its init's PID)
    description:
        - Commands run through nsenter in every namespace of the container's init.
        - Files are copied through /proc/PID/root.
    author: bamon tests
    extends_documentation_fragment:
        - connection_pipelining
"""


class Connection(Local):  # type: ignore[misc]
    transport = "nsenter"
    has_pipelining = True

    def _pid(self) -> str:
        pid = str(self._play_context.remote_addr)
        if not pid.isdigit():
            raise ValueError(f"ansible_host must be the container init's PID, not {pid!r}")
        return pid

    def _inside(self, path: str) -> str:
        return f"/proc/{self._pid()}/root/{path.lstrip('/')}"

    def exec_command(self, cmd: Any, in_data: bytes | None = None, sudoable: bool = True) -> Any:
        wrapped = f"nsenter -t {self._pid()} -a /bin/sh -c {shlex.quote(to_text(cmd))}"
        return super().exec_command(wrapped, in_data=in_data, sudoable=sudoable)

    def put_file(self, in_path: str, out_path: str) -> None:
        shutil.copyfile(in_path, self._inside(out_path))

    def fetch_file(self, in_path: str, out_path: str) -> None:
        shutil.copyfile(self._inside(in_path), out_path)
