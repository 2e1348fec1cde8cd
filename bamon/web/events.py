"""/api/v1/events: run results, changes, alert deliveries and notifier messages as they land in journald.

One reader follows the journal (`journalctl -f`, started with the first subscriber and stopped
with the last) and fans each event out to every WebSocket. Each client has a bounded queue: a
client that falls that far behind is disconnected (close code 1013, "try again later") rather
than buffered without bound; its page reconnects and reloads the status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bamon.history.records import from_entry
from bamon.journal import AUDIT_ID, field
from bamon.notify import ledger
from bamon.web.errors import ApiError
from bamon.web.http import identify, state

Source = Callable[[], AsyncIterator[dict[str, Any]]]
QUEUE = 256
_FIELDS = ("MESSAGE", "SYSLOG_IDENTIFIER", "MESSAGE_ID", "BAMON_CHECK", "BAMON_AUDIT_ACTION", "BAMON_AUDIT_USER",
           "BAMON_AUDIT_VIA", "PRIORITY", "BAMON_EVENT", "CHANNEL", "OUTCOME", "ACTION")


def journal_source(user_mode: bool = False) -> Source:
    async def follow() -> AsyncIterator[dict[str, Any]]:
        proc = await asyncio.create_subprocess_exec(
            "journalctl", *(["--user"] if user_mode else []), "--no-pager", "--follow", "--lines=0", "--output=json",
            f"--output-fields={','.join(_FIELDS)}", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            while line := await proc.stdout.readline():
                with contextlib.suppress(ValueError):
                    yield json.loads(line)
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            await proc.wait()
    return follow


def to_event(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The event a journal entry means for the dashboard, or None for everything else."""
    record = from_entry(entry)
    if record is not None:
        return {"type": "run", "check": record.check, "status": "OK" if record.ok else "FAILED",
                "result": record.result, "exitCode": record.exit_status, "duration": round(record.duration, 3),
                "lastExecution": record.started.isoformat(), "consecutiveFailures": record.consecutive_failures}
    if field(entry, "MESSAGE_ID") == AUDIT_ID:
        return {"type": "change", "action": field(entry, "BAMON_AUDIT_ACTION"), "check": field(entry, "BAMON_CHECK"),
                "user": field(entry, "BAMON_AUDIT_USER"), "via": field(entry, "BAMON_AUDIT_VIA") or "cli"}
    if field(entry, "BAMON_EVENT") in ledger.EVENTS:  # from the notifier or the outbox drain
        return {"type": "delivery", "check": field(entry, "BAMON_CHECK"), "channel": field(entry, "CHANNEL"),
                "answer": field(entry, "OUTCOME") or field(entry, "ACTION"), "message": field(entry, "MESSAGE")}
    if field(entry, "SYSLOG_IDENTIFIER").startswith("bamon-notify"):
        return {"type": "alert", "check": field(entry, "BAMON_CHECK"), "message": field(entry, "MESSAGE")}
    return None


class Broadcaster:
    def __init__(self, source: Source, on_event: Callable[[dict[str, Any]], None] = lambda e: None) -> None:
        self._source, self._on_event = source, on_event
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def clients(self) -> int:
        return len(self._queues)

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE)
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._pump())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._queues.discard(queue)
        if not self._queues and self._task is not None:
            self._task.cancel()
            self._task = None

    def publish(self, event: dict[str, Any]) -> None:
        self._on_event(event)
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # too slow: end it with a marker instead of growing
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)
                self._queues.discard(queue)

    async def _pump(self) -> None:
        async for entry in self._source():
            event = to_event(entry)
            if event is not None:
                self.publish(event)
        # the reader ended (journalctl gone): close the clients; their pages reconnect and resync
        logging.getLogger("bamon.web").warning("the journal reader stopped; closing live clients")
        for queue in list(self._queues):
            queue.put_nowait(None)
        self._queues.clear()


async def events(websocket: WebSocket) -> None:
    """Authenticated like the API; a browser's cookie only counts from our own origin."""
    try:
        who = identify(websocket)
    except ApiError:
        who = None
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host", "")
    cross_site = origin is not None and origin.split("://", 1)[-1] != host and who is not None and who.via == "session"
    if who is None or cross_site:
        await websocket.close(code=4401 if who is None else 4403)
        return
    broadcaster: Broadcaster = state(websocket).extra["events"]
    await websocket.accept()
    queue = broadcaster.subscribe()
    receiver = asyncio.create_task(_drain(websocket))
    try:
        await websocket.send_json({"type": "hello", "user": who.user, "role": who.role})
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                return
            event = getter.result()
            if event is None:
                await websocket.close(code=1013)
                return
            await websocket.send_json(event)
    except WebSocketDisconnect:
        return
    finally:
        receiver.cancel()
        broadcaster.unsubscribe(queue)


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


ROUTES = [WebSocketRoute("/api/v1/events", events)]
