"""bamon secret, bamon alert test and bamon alerts, in user mode against a tmp config and a
local receiver (system mode's systemd-creds path is proven in the system tier)."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from receiver import Receiver, http_reply

from bamon.cli.alerts import collect

if TYPE_CHECKING:
    from conftest import CliResult, JournalSink

Cli = Callable[..., "CliResult"]
TOKEN = "T0KEN-s3cr3t"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(reply=http_reply("200 OK", "thanks, got it"))
    yield server
    server.close()


@pytest.fixture
def config(tmp_path: Path, receiver: Receiver) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"""\
scripts: []
alerts:
  channels:
    - {{name: hook, type: webhook, url: "{receiver.url}/hook/${{secret:hook_token}}", retries: 0}}
    - {{name: down, type: webhook, url: "http://127.0.0.1:9/nothing", retries: 0, timeout: 1}}
""")
    return path


def test_secret_set_list_use_and_remove(cli: Cli, config: Path, receiver: Receiver, sink: JournalSink,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    base = ("--user", "--config", str(config))
    assert cli(*base, "config", "validate").code == 1  # the secret does not exist yet
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    result = cli(*base, "secret", "set", "hook_token")
    assert result.code == 0 and "0600 file" in result.out and TOKEN not in result.out
    stored = Path.home() / ".config" / "bamon" / "credentials" / "hook_token"
    assert stored.read_text() == TOKEN and stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert cli(*base, "secret", "list").out.split() == ["hook_token"]
    assert cli(*base, "config", "validate").code == 0

    result = cli(*base, "alert", "test", "hook")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["hook (webhook): delivered after 1 attempt",
                                       "  answer: HTTP 200 OK: thanks, got it"]
    assert receiver.received[0].startswith(f"POST /hook/{TOKEN} ".encode())
    assert json.loads(receiver.received[0].split(b"\r\n\r\n", 1)[1])["kind"] == "test"
    show = cli(*base, "config", "show")
    assert TOKEN not in show.out + show.err and TOKEN not in json.dumps(sink.entries)
    assert "/hook/${secret:hook_token}" in show.out  # the reference, as written

    result = cli(*base, "secret", "rm", "hook_token")
    assert result.code == 0 and "a channel still uses ${secret:hook_token}" in result.err


def test_alert_test_says_what_went_wrong(cli: Cli, config: Path) -> None:
    base = ("--user", "--config", str(config))
    result = cli(*base, "alert", "test", "down")
    assert result.code == 1 and "down (webhook): transient" in result.out and "connection refused" in result.out
    result = cli(*base, "alert", "test", "hoook")
    assert result.code == 1 and "no channel named 'hoook'" in result.err and "did you mean 'hook'?" in result.err
    result = cli(*base, "alert", "test", "hook")  # its secret is missing: invalid, and says so
    assert result.code == 1 and "configured but invalid" in result.err


def test_alerts_groups_the_journal_records_by_alert() -> None:
    def entry(event: str, t: int, **fields: str) -> dict[str, str]:
        return {"BAMON_EVENT": event, "__REALTIME_TIMESTAMP": str(t * 1_000_000), "ALERT_ID": "a1",
                "BAMON_CHECK": "web", "KIND": "failure", **fields}
    entries = [
        entry("alert.delivery", 100, CHANNEL="chat", OUTCOME="delivered", DETAIL="HTTP 200", ATTEMPTS="1"),
        entry("alert.delivery", 100, CHANNEL="hook", OUTCOME="transient", DETAIL="HTTP 503", ATTEMPTS="3"),
        entry("alert.outbox", 130, CHANNEL="hook", ACTION="retry", DETAIL="HTTP 503"),
        entry("alert.delivery", 160, CHANNEL="hook", OUTCOME="delivered", DETAIL="HTTP 200", ATTEMPTS="1",
              SOURCE="outbox"),
    ]
    (alert,) = collect(entries, 10)
    assert alert["check"] == "web" and alert["time"] == "1970-01-01T00:01:40Z"
    assert [(c["channel"], c["outcome"], c["attempts"], c["via"]) for c in alert["channels"]] == [
        ("chat", "delivered", 1, "notifier"), ("hook", "delivered", 4, "outbox")]


def test_the_cli_does_not_import_what_only_sending_needs() -> None:
    # every bamon command imports every command module; the package build imports them too
    import subprocess
    import sys

    code = ("import sys, bamon.cli.main; "
            "print(sorted(m for m in ('structlog', 'requests', 'smtplib', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
