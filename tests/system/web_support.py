"""Helpers for the web tiers: a free port of the range the tests may use, the dashboard set up
in a container (listen address, users, tokens), and a small JSON client."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from nspawn import Container

PORTS = range(18400, 18500)  # containers share the host's network: never the packaged 8477
PASSWORD = "correct horse battery"


def free_port() -> int:
    """A port of PORTS nobody listens on now (other test runs may be up at the same time)."""
    for port in random.sample(list(PORTS), len(PORTS)):
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18400-18499")


@dataclass
class Dashboard:
    box: Container
    port: int
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: Any = None, role: str | None = "admin",
             base: str | None = None) -> tuple[int, Any]:
        """(status, decoded JSON body) of one request with the role's token."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request((base or self.base) + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if role:
            request.add_header("Authorization", f"Bearer {self.tokens[role]}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


def active(box: Container, unit: str) -> str:
    """systemctl is-active: active, inactive, activating, failed…"""
    return box.run(["systemctl", "is-active", unit], check=False).stdout.strip()


def set_up(box: Container, idle_exit: int = 4) -> Dashboard:
    """web.listen on a free port (IPv4 and IPv6 loopback), users of every role, one token each;
    the socket started as an operator would (the package leaves it disabled)."""
    port = free_port()
    box.run(["bash", "-c", f"cat >> /etc/bamon/config.yaml <<'EOF'\nweb: {{listen: [\"127.0.0.1:{port}\", "
                           f"\"[::1]:{port}\"], idle_exit: {idle_exit}}}\nEOF"])
    box.run(["bamon", "config", "validate"])
    box.run(["systemctl", "daemon-reload"])
    dash = Dashboard(box, port)
    for role in ("viewer", "operator", "admin"):
        box.run(["bamon", "user", "add", role, "--role", role, "--password-stdin"], input=PASSWORD + "\n")
        dash.tokens[role] = box.run(["bamon", "token", "create", "--user", role]).stdout.strip()
    box.run(["systemctl", "restart", "bamon.web.socket"])
    return dash


def tear_down(dash: Dashboard) -> None:
    """Stop listening and take web: out of the config again (the container is shared)."""
    dash.box.run("systemctl stop bamon.web.socket bamon.web.service; sed -i '/^web: /d' /etc/bamon/config.yaml; "
                 "systemctl daemon-reload; for u in viewer operator admin; do bamon user remove $u; done", check=False)
