"""A local HTTP receiver for alerts, on the host (the test container shares its network).

Every POST/PUT is kept with its path, headers, JSON body and arrival time; it answers 202
(PagerDuty's answer) so any channel counts it as delivered — or, for the paths given in
`answers`, that HTTP status (a 4xx: a receiver refusing the alert for good); for the paths in
`delays`, only after that many seconds (a slow receiver). Ports 18500-18599 belong to the
alert system tests and the bench.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PORTS = range(18500, 18600)


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON (or the text when it is not JSON)
    received: float  # time.time() on the host


class Receiver:
    def __init__(self, ports: range = PORTS, answers: dict[str, int] | None = None,
                 delays: dict[str, float] | None = None) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                with owner._lock:
                    owner.requests.append(Request(self.path, dict(self.headers), body, time.time()))
                time.sleep((delays or {}).get(self.path, 0.0))  # kept (above) before the answer is late
                refused = (answers or {}).get(self.path)
                reply = b'{"status": "refused"}' if refused else b'{"status": "success", "message": "Event processed"}'
                self.send_response(refused or 202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        for port in ports:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port(ports: range = PORTS) -> int:
    """A port in the range where nothing listens (a broken channel's address)."""
    import socket

    for port in reversed(ports):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")
