"""The Prometheus stack from Debian 12 (prometheus, prometheus-alertmanager,
prometheus-node-exporter), started by a test on the host's loopback, ports 18900-18999.

Each server runs with its own throwaway config and data directory and is stopped (by its own
process id) when the test is done. A server that does not come up fails the test with its log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import alert_receiver
import pytest

PORTS = range(18900, 19000)


def free_port() -> int:
    return alert_receiver.free_port(PORTS)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def wait(what: str, ready: Any, timeout: float = 30, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = ready()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}", pytrace=False)


@contextmanager
def server(binary: str, args: list[str], port: int, workdir: Path, ready_path: str,
           address: str = "127.0.0.1") -> Iterator[str]:
    """Run `binary args…`, wait until http://address:port{ready_path} answers; yield the base URL.

    address is where the server listens (args say so): the loopback, or the fleet tier's bridge."""
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is missing: dev/install-deps installs it", pytrace=False)
    log = workdir / f"{binary}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([path, *args], stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    base = f"http://{address}:{port}"
    try:
        wait(f"{binary} on port {port}", lambda: proc.poll() is None and
             urllib.request.urlopen(base + ready_path, timeout=2).status == 200, log=log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Hook:
    """An HTTP receiver for Alertmanager's webhook notifications: keeps every JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        # Port 0: the kernel picks a free one and it is ours at once. (A port picked in the tests'
        # range and bound later could be taken meanwhile by the tier that runs beside this one.)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
