"""bamon-web-manage: the root side of the web service's writes (bamon.web-manage@.service).

systemd accepts each connection on bamon.web-manage.socket and starts one instance with the
connection as stdin/stdout. The caller must be a process of bamon.web.service (checked through
the peer's cgroup, which no other process can fake); the request is one operation of ops.OPS,
done by bamon.manage with its usual validation, lock, audit and reload.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
from typing import Any

from bamon.errors import BamonError
from bamon.paths import resolve
from bamon.units import naming
from bamon.web.ops import perform


def _peer_unit(conn: socket.socket) -> str:
    """The last component of the connecting process's cgroup (its unit), "" if unknown."""
    pid, _, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8") as handle:
            return handle.read().strip().splitlines()[-1].rsplit("/", 1)[-1]
    except (OSError, IndexError):
        return ""


def handle(request: dict[str, Any]) -> dict[str, Any]:
    data = request.get("data") or {}
    if not isinstance(data, dict):
        raise BamonError("data must be an object", code="invalid_body")
    return perform(resolve(), str(request.get("op")), str(request.get("name")), data, str(request.get("user")))


def main() -> int:
    conn = socket.socket(fileno=sys.stdin.fileno())
    try:
        if _peer_unit(conn) != naming.WEB_SERVICE:
            answer: dict[str, Any] = {"error": {"code": "forbidden", "message": "only bamon.web.service may write",
                                                "hint": ""}}
        else:
            request = json.loads(b"".join(iter(lambda: conn.recv(65536), b"")))
            answer = {"result": handle(request)}
    except BamonError as exc:
        answer = {"error": {"code": exc.code, "message": exc.message, "hint": exc.hint}}
    except (ValueError, AttributeError):
        answer = {"error": {"code": "invalid_json", "message": "the request was not a JSON object", "hint": ""}}
    conn.sendall((json.dumps(answer) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
