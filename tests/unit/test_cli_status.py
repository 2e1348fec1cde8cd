"""`bamon status` options (-n, -f, --sort, -v, --json, --webhook) and `bamon config edit`.

Run records come from `last` files in a tmp state directory (bamon.paths.SYSTEM_STATE is
pointed there), unit states from the fake systemctl runner, output lines from a stand-in for
the journal reader: the three seams of `bamon status`. The webhook goes to a real HTTP server
on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

if TYPE_CHECKING:
    from conftest import CliResult, FakeChecks

Cli = Callable[..., "CliResult"]

CONFIG = """\
scripts:
  - {name: alpha, command: "echo a", interval: 60}
  - {name: bravo, command: "exit 3", interval: 60}
  - {name: charlie, command: "sleep 9", interval: 60, timeout: 2}
  - {name: delta, command: "true", enabled: false}
"""
NOW_US = int(time.time() * 1e6)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """NOW_US as of this test: the fakes' "ten seconds ago" must not age while a long tier runs."""
    global NOW_US
    NOW_US = int(time.time() * 1e6)
# name: (invocation, result, exit status, seconds ago it started, duration in s, failures)
RUNS = {
    "alpha": ("inv-a", "success", 0, 30, 0.25, 0),
    "bravo": ("inv-b", "exit-code", 3, 20, 0.05, 4),
    "charlie": ("inv-c", "timeout", -1, 10, 2.0, 1),
}
OUTPUT = {"inv-a": ["alpha says hi"], "inv-b": ["first line", "disk on fire"], "inv-c": ["starting"]}


@pytest.fixture
def status_config(tmp_path: Path, fake_checks: FakeChecks) -> Path:
    config = tmp_path / "etc" / "config.yaml"
    config.parent.mkdir()
    config.write_text(CONFIG)
    fake_checks(tmp_path / "state", RUNS, OUTPUT, ("alpha", "bravo", "charlie"), NOW_US)
    return config


def status(cli: Cli, config: Path, *args: str) -> CliResult:
    result = cli("--config", str(config), "status", *args)
    assert result.code == 0, result.err
    return result


def names(result: CliResult) -> list[str]:
    return [line.split()[0] for line in result.out.splitlines()[1:]]


def test_table_has_the_original_columns_and_reasons(cli: Cli, status_config: Path) -> None:
    out = status(cli, status_config).out
    header = out.splitlines()[0]
    for column in ("NAME", "STATUS", "EXIT CODE", "OUTPUT", "DURATION", "TIME SINCE", "NEXT EXECUTION"):
        assert column in header
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    # the original's words; two lines of output are cut, and the table says so
    assert "Success" in rows["alpha"] and rows["alpha"].split("alpha says hi")[1].startswith("  ")
    assert "Failed" in rows["bravo"] and "disk on fire (truncated - use --json)" in rows["bravo"]
    assert "Timeout after 2s" in rows["charlie"]
    assert "Disabled" in rows["delta"] and "disabled" in rows["delta"]


def test_json_document(cli: Cli, status_config: Path) -> None:
    scripts = {s["name"]: s for s in json.loads(status(cli, status_config, "--json").out)["scripts"]}
    bravo = scripts["bravo"]
    assert (bravo["status"], bravo["exitCode"], bravo["failureReason"], bravo["consecutiveFailures"]) == \
        ("FAILED", 3, "exit-code", 4)
    assert bravo["output"] == ["first line", "disk on fire"] and bravo["error"] == "Exit code 3: disk on fire"
    assert bravo["invocationId"] == "inv-b" and bravo["unit"] == "bamon-bravo.service"
    assert isinstance(bravo["duration"], float) and 15 < bravo["timeSince"] < 60
    assert bravo["lastExecution"].endswith("Z") and bravo["nextExecution"].endswith("Z")
    assert scripts["charlie"]["exitCode"] is None and scripts["charlie"]["failureReason"] == "timeout"
    delta = scripts["delta"]
    assert (delta["status"], delta["lastExecution"], delta["result"], delta["nextExecution"]) == \
        ("DISABLED", None, "Unknown", None)
    assert scripts["alpha"]["output"] == "alpha says hi" and scripts["alpha"]["result"] == "Success"


def test_failed_only(cli: Cli, status_config: Path) -> None:
    assert names(status(cli, status_config, "-f")) == ["bravo", "charlie"]


def test_name_filter_repeatable(cli: Cli, status_config: Path) -> None:
    assert names(status(cli, status_config, "-n", "charlie", "-n", "alpha")) == ["alpha", "charlie"]


@pytest.mark.parametrize(("order", "expected"), [
    ("name", ["alpha", "bravo", "charlie", "delta"]),
    ("status", ["bravo", "charlie", "alpha", "delta"]),
    ("duration", ["charlie", "alpha", "bravo", "delta"]),
])
def test_sort(cli: Cli, status_config: Path, order: str, expected: list[str]) -> None:
    assert names(status(cli, status_config, "--sort", order)) == expected


def test_verbose_shows_details(cli: Cli, status_config: Path) -> None:
    out = status(cli, status_config, "-v", "-n", "bravo").out
    assert "journalctl -u bamon-bravo.service" in out
    assert "consecutive failures: 4" in out and "invocation inv-b" in out
    assert "      first line\n      disk on fire" in out


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/status"
    server.shutdown()
    server.server_close()


def test_webhook_posts_the_json_document(cli: Cli, status_config: Path, receiver: str) -> None:
    status(cli, status_config, "--webhook", receiver)
    assert [s["name"] for s in _Receiver.received[0]["scripts"]] == ["alpha", "bravo", "charlie", "delta"]


def test_webhook_that_cannot_be_reached_is_one_clean_error(cli: Cli, status_config: Path) -> None:
    result = cli("--config", str(status_config), "status", "--webhook", "http://127.0.0.1:9/nowhere")
    lines = result.err.strip().splitlines()
    assert result.code == 1 and lines[0].startswith("bamon: error: could not send the status to http://127.0.0.1:9/")
    assert lines[1].startswith("  hint: ")


# --- config edit ---------------------------------------------------------------------------------------


def _editor(tmp_path: Path, script: str) -> str:
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\n{script}\n")
    editor.chmod(0o755)
    return str(editor)


def test_config_edit_saves_a_valid_change(cli: Cli, status_config: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = status_config.read_text()
    monkeypatch.setenv("EDITOR", _editor(tmp_path, """printf '  - {name: echo_new, command: "true"}\\n' >> "$1" """))
    result = cli("--config", str(status_config), "config", "edit")
    assert result.code == 0, result.err
    assert status_config.read_text() == before + '  - {name: echo_new, command: "true"}\n'


def test_config_edit_refuses_an_invalid_change(cli: Cli, status_config: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    before = status_config.read_text()
    append = """printf '  - {name: bad, command: "x", intervall: 5}\\n' >> "$1" """
    monkeypatch.setenv("EDITOR", _editor(tmp_path, append))
    result = cli("--config", str(status_config), "config", "edit")
    assert result.code == 1
    assert f"{status_config}:" in result.err and "unknown key 'intervall'" in result.err
    assert "was not changed" in result.err
    assert status_config.read_text() == before


def test_config_edit_without_changes(cli: Cli, status_config: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "true"))
    result = cli("--config", str(status_config), "config", "edit")
    assert (result.code, result.out.strip()) == (0, "no changes")
