"""A scripted receiver on 127.0.0.1 for channel tests: it speaks just enough HTTP or SMTP to
answer what the test says, or to misbehave (hang, close the connection, answer garbage).

Ports come from 18600-18649 (the system tier uses 18650-18699).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

PORTS = range(18600, 18650)


def bind_free() -> socket.socket:
    for port in PORTS:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError("no free port in 18600-18649")


def closed_port() -> int:
    """A port in the range where nothing listens: connecting is refused."""
    sock = bind_free()
    port: int = sock.getsockname()[1]
    sock.close()
    return port


@dataclass
class Receiver:
    protocol: str = "http"  # http | smtp
    mode: str = "reply"  # reply | hang | close | garbage
    reply: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"  # http: the raw answer
    smtp_code: str = "250 ok"  # smtp: the answer to MAIL FROM
    auth_code: str = "235 2.7.0 ok"  # smtp: the answer to AUTH
    received: list[bytes] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock = bind_free()
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # wakes the blocked accept(); close() alone leaves it listening
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            if self.mode == "close":
                return
            if self.mode == "hang":
                self._stop.wait(5)
                return
            if self.protocol == "smtp":
                self._smtp(conn)
            else:
                self._http(conn)

    def _http(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        self.received.append(head + b"\r\n\r\n" + body)
        conn.sendall(b"garbage\r\n\r\n" if self.mode == "garbage" else self.reply)

    def _smtp(self, conn: socket.socket) -> None:
        if self.mode == "garbage":
            conn.sendall(b"garbage\r\n")
            return
        reader = conn.makefile("rb")
        conn.sendall(b"220 test ESMTP\r\n")
        for raw in reader:
            line = raw.decode(errors="replace").strip()
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                conn.sendall(b"250-test\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == "AUTH":
                conn.sendall(self.auth_code.encode() + b"\r\n")
            elif verb == "MAIL":
                conn.sendall(self.smtp_code.encode() + b"\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go on\r\n")
                message = b"".join(iter(lambda: next(reader), b".\r\n"))
                self.received.append(message)
                conn.sendall(b"250 queued as 42\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")


def http_reply(status: str, body: str = "", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body.encode())}", "Connection: close",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
