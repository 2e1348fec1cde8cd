"""bamon-web: serve the app on the sockets systemd passes; exit when idle.

bamon.web.socket holds the listening sockets; the first connection starts bamon.web.service,
which takes them over (sd_listen_fds) and exits after web.idle_exit without requests or open
WebSockets. The socket stays, so the next connection starts it again: an unused dashboard costs
no process. `--listen HOST:PORT` serves without systemd (development).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from pathlib import Path

import uvicorn

from bamon.config.model import Web
from bamon.context import Context
from bamon.errors import BamonError
from bamon.paths import resolve
from bamon.web.app import Activity, create_app
from bamon.web.writer import HelperWriter, LocalWriter, Writer


def systemd_sockets() -> list[socket.socket]:
    """The listening sockets passed by systemd, if any (python-systemd does the protocol)."""
    try:
        from systemd.daemon import listen_fds
    except ImportError:  # pip install without python-systemd: no socket activation
        return []
    return [socket.socket(fileno=fd) for fd in listen_fds()]


def bind(address: str) -> socket.socket:
    """A listening socket for "host:port", "[v6]:port" or "port" (all addresses)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "::"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)
    return sock


async def idle_exit(server: uvicorn.Server, activity: Activity, idle: float) -> None:
    while not server.should_exit:
        await asyncio.sleep(min(idle / 4, 5.0))
        if activity.open == 0 and time.monotonic() - activity.last >= idle:
            logging.getLogger("bamon.web").info("idle for %ss: exiting until the next connection", idle)
            server.should_exit = True


async def serve(server: uvicorn.Server, sockets: list[socket.socket], activity: Activity, idle: float) -> None:
    watcher = asyncio.create_task(idle_exit(server, activity, idle)) if idle > 0 else None
    try:
        await server.serve(sockets=sockets)
    finally:
        if watcher:
            watcher.cancel()


def settings(ctx: Context) -> Web:
    try:
        return ctx.config().web
    except BamonError:
        return Web()  # no config yet: the dashboard still starts (and shows no checks)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bamon-web", description="bamon's REST API and dashboard")
    p.add_argument("--listen", action="append", help="HOST:PORT to bind without systemd (repeatable)")
    p.add_argument("--state-dir", type=Path, default=Path(os.environ.get("STATE_DIRECTORY", "/var/lib/bamon-web")),
                   help="users, tokens, sessions, layouts (default $STATE_DIRECTORY)")
    p.add_argument("--writer", type=Path, help="the write helper's socket (default: write in-process)")
    p.add_argument("--idle-exit", type=float, help="seconds without requests before exiting (0: never)")
    p.add_argument("--config", help="another config.yaml")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    paths = resolve(False, args.config)
    web = settings(Context(paths))
    sockets = systemd_sockets() or [bind(a) for a in args.listen or web.listen]
    writer: Writer = HelperWriter(args.writer) if args.writer else LocalWriter(paths)
    activity = Activity()
    app = create_app(paths, args.state_dir, writer, activity=activity)
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, ws="auto", log_level="warning",
                            proxy_headers=False, server_header=False)
    idle = web.idle_exit if args.idle_exit is None else args.idle_exit
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(uvicorn.Server(config), sockets, activity, idle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
