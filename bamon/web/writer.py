"""How the web service gets a write done: in its own process, or through the privileged helper.

The packaged service runs as an unprivileged dynamic user that cannot write /etc/bamon or start
units; it hands each write to bamon.web-manage.socket, whose root helper (bamon/web/helper.py)
accepts only the operations of bamon/web/ops.py and only from this service's cgroup. Tests and
root-run development servers write in-process.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Protocol

from bamon.errors import BamonError
from bamon.paths import Paths
from bamon.web.ops import perform


class Writer(Protocol):
    def __call__(self, op: str, name: str, data: dict[str, Any], user: str) -> dict[str, Any]: ...


class LocalWriter:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths

    def __call__(self, op: str, name: str, data: dict[str, Any], user: str) -> dict[str, Any]:
        return perform(self.paths, op, name, data, user)


class HelperWriter:
    """One JSON line to the helper's socket, one JSON line back."""

    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self.path, self.timeout = path, timeout

    def __call__(self, op: str, name: str, data: dict[str, Any], user: str) -> dict[str, Any]:
        request = json.dumps({"op": op, "name": name, "data": data, "user": user}) + "\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                conn.connect(str(self.path))
                conn.sendall(request.encode())
                conn.shutdown(socket.SHUT_WR)
                reply = b"".join(iter(lambda: conn.recv(65536), b""))
        except OSError as exc:
            raise BamonError(f"the write helper is not reachable: {exc}",
                             "systemctl status bamon.web-manage.socket", code="unavailable") from None
        try:
            answer = json.loads(reply)
        except ValueError:
            raise BamonError("the write helper gave no answer", "journalctl -u 'bamon.web-manage@*'",
                             code="unavailable") from None
        if "error" in answer:
            error = answer["error"]
            raise BamonError(error.get("message", "refused"), error.get("hint", ""), code=error.get("code", "invalid"))
        result: dict[str, Any] = answer["result"]
        return result
