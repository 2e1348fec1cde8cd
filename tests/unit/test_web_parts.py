"""Pieces of the web service on their own: the live feed's bounded queues, the journal entry →
event mapping, the write helper's refusal of strangers, and `bamon user` / `bamon token`."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from web_support import cheap_hasher

from bamon.journal import AUDIT_ID
from bamon.web import auth as auth_mod
from bamon.web import helper
from bamon.web.auth import Accounts
from bamon.web.events import QUEUE, Broadcaster, to_event


def test_a_slow_client_is_dropped_not_buffered() -> None:
    async def scenario() -> tuple[int, Any, int]:
        async def nothing() -> Any:
            await asyncio.sleep(3600)
            yield {}

        hub = Broadcaster(nothing)
        slow, fast = hub.subscribe(), hub.subscribe()
        for i in range(QUEUE + 1):
            hub.publish({"type": "run", "n": i})
            while not fast.empty():  # the fast client keeps up
                fast.get_nowait()
        sizes = slow.qsize()
        marker = slow.get_nowait()
        clients = hub.clients
        hub.unsubscribe(fast)
        return sizes, marker, clients

    size, marker, clients = asyncio.run(scenario())
    assert size == 1 and marker is None  # emptied, then the close marker
    assert clients == 1  # only the fast one is still subscribed


def test_journal_entries_become_events() -> None:
    run = {"SYSLOG_IDENTIFIER": "bamon-disk", "MESSAGE": (
        "bamon-run result=timeout exit_code=killed exit_status=TERM start_usec=1000000 end_usec=3000000 "
        "duration_usec=2000000 consecutive_failures=1 invocation=abc")}
    assert to_event(run) == {"type": "run", "check": "disk", "status": "FAILED", "result": "timeout", "exitCode": None,
                             "duration": 2.0, "lastExecution": "1970-01-01T00:00:01+00:00", "consecutiveFailures": 1}
    change = {"MESSAGE_ID": AUDIT_ID, "BAMON_AUDIT_ACTION": "add", "BAMON_CHECK": "x", "BAMON_AUDIT_USER": "root"}
    assert to_event(change) == {"type": "change", "action": "add", "check": "x", "user": "root", "via": "cli"}
    assert to_event({"SYSLOG_IDENTIFIER": "bamon-disk", "MESSAGE": "plain output"}) is None
    assert to_event({"SYSLOG_IDENTIFIER": "sshd", "MESSAGE": "bamon-run result=success"}) is None


def test_helper_refuses_callers_outside_the_web_service(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, theirs = socket.socketpair()
    monkeypatch.setattr(helper.sys, "stdin", ours.makefile("r"))
    theirs.sendall(json.dumps({"op": "remove", "name": "web", "data": {}, "user": "x"}).encode() + b"\n")
    theirs.shutdown(socket.SHUT_WR)
    assert helper.main() == 0  # this test process is not in bamon.web.service's cgroup
    assert json.loads(theirs.recv(4096))["error"]["code"] == "forbidden"


def test_helper_accepts_only_known_operations() -> None:
    from bamon.errors import BamonError

    with pytest.raises(BamonError, match="unknown operation"):
        helper.handle({"op": "rm -rf", "name": "x", "data": {}, "user": "x"})


def test_user_and_token_commands(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: Any) -> None:
    monkeypatch.setattr(auth_mod, "_hasher", cheap_hasher)
    monkeypatch.setattr("bamon.paths.SYSTEM_WEB_STATE", tmp_path / "web")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long password\n"))
    assert cli("user", "add", "alice", "--role", "operator", "--password-stdin").code == 0
    listed = cli("user", "list", "--json")
    assert json.loads(listed.out) == {"users": [{"name": "alice", "role": "operator",
                                                 "created": json.loads(listed.out)["users"][0]["created"]}]}
    created = cli("token", "create", "--user", "alice", "--label", "ci")
    token = created.out.strip()
    accounts = Accounts(tmp_path / "web")
    identity = accounts.token_identity(token)
    assert identity is not None and identity.user == "alice" and identity.role == "operator"
    assert accounts.check_password("alice", "a long password") is not None
    assert accounts.check_password("alice", "wrong") is None and accounts.check_password("nobody", "x") is None
    token_id = json.loads(cli("token", "list", "--json").out)["tokens"][0]["id"]
    assert cli("token", "revoke", token_id).code == 0 and accounts.token_identity(token) is None
    assert cli("user", "add", "alice", "--role", "admin", "--password-stdin").code == 1  # exists
    bad = cli("user", "add", "bob/..", "--role", "viewer", "--password-stdin")
    assert bad.code == 1 and "not valid" in bad.err
    assert cli("user", "remove", "alice").code == 0 and accounts.list_users() == []
    assert [e["BAMON_AUDIT_ACTION"] for e in sink.entries if e.get("MESSAGE_ID") == AUDIT_ID] == [
        "user-add", "token-create", "token-revoke", "user-remove"]
    assert oct((tmp_path / "web" / "users.json").stat().st_mode & 0o777) == "0o600"
