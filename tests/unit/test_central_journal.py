"""`bamon history` and `bamon log` with --journal-dir DIR --host H: a central journal as
systemd-journal-remote writes it. No fake here: the test feeds journal export records (what
systemd-journal-upload sends) of two hosts to the real systemd-journal-remote, which writes
real journal files; bamon reads them through python-systemd and journalctl.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bamon.context import Context
from bamon.history.records import RunRecord, record_message
from bamon.journal import Journal

if TYPE_CHECKING:
    from conftest import CliResult, WriteConfig

REMOTE = Path("/lib/systemd/systemd-journal-remote")
NOW_US = int(time.time() * 1e6) - 60_000_000
BOOT = "0123456789abcdef0123456789abcdef"
REAL_JOURNAL = Context.__dict__["journal"]  # the cli fixture swaps in a sink-only journal


@pytest.fixture(autouse=True)
def real_journal(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Context.journal as shipped, after the cli fixture replaced it: these tests read real files."""
    monkeypatch.setattr(Context, "journal", REAL_JOURNAL)


def export(host: str, check: str, runs: list[tuple[str, int, str]]) -> str:
    """Journal export format of `runs` (result, exit status, output line) of `check` on `host`."""
    entries = []
    for k, (result, status, line) in enumerate(runs):
        start = NOW_US + k * 1_000_000
        record = RunRecord(check, f"{host}-{k}", result, status, start, start + 2000, k + 1 if status else 0)
        for offset, message in enumerate((line, record_message(record))):
            at = start + 1 + offset
            entries.append(f"__REALTIME_TIMESTAMP={at}\n__MONOTONIC_TIMESTAMP={at}\n_BOOT_ID={BOOT}\n"
                           f"_HOSTNAME={host}\nSYSLOG_IDENTIFIER=bamon-{check}\n_SYSTEMD_UNIT=bamon-{check}.service\n"
                           f"_SYSTEMD_INVOCATION_ID={host}-{k}\nPRIORITY={6 if offset or not status else 3}\n"
                           f"MESSAGE={message}\n\n")
    return "".join(entries)


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal directory with web1 (disk failing, exit 3) and web2 (disk passing)."""
    if not REMOTE.exists():
        pytest.fail(f"{REMOTE} is missing: install systemd-journal-remote (dev/install-deps)", pytrace=False)
    directory = tmp_path_factory.mktemp("remote")
    records = export("web1", "disk", [("exit-code", 3, "disk full on /srv")] * 3) + \
        export("web2", "disk", [("success", 0, "disk fine")] * 2)
    done = subprocess.run([str(REMOTE), f"--output={directory / 'remote.journal'}", "-"], input=records, text=True,
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    return directory


def test_history_of_one_host_from_the_central_journal(cli: Any, central: Path, write_config: WriteConfig) -> None:
    config = str(write_config("scripts: []\n"))  # the log host's own config does not know `disk`
    web1: CliResult = cli("--config", config, "history", "--journal-dir", str(central), "--host", "web1", "disk",
                          "--json")
    assert web1.code == 0, web1.err
    runs = json.loads(web1.out)["runs"]
    assert [(r["status"], r["exitCode"], r["output"]) for r in runs] == [("FAILED", 3, ["disk full on /srv"])] * 3
    web2 = json.loads(cli("--config", config, "history", "--journal-dir", str(central), "--host", "web2", "disk",
                          "--json").out)["runs"]
    assert [(r["status"], r["output"]) for r in web2] == [("OK", ["disk fine"])] * 2
    both = json.loads(cli("--config", config, "history", "--journal-dir", str(central), "disk", "--json").out)
    assert len(both["runs"]) == 5  # no --host: every host's runs
    table = cli("--config", config, "history", "--journal-dir", str(central), "--host", "web1", "disk")
    assert table.out.splitlines()[1].split()[2:6] == ["FAILED", "0.002s", "3", "exit"]


def test_log_of_one_host_from_the_central_journal(cli: Any, central: Path) -> None:
    # no bamon config at all on the log host
    result = cli("--config", "/nonexistent/config.yaml", "log", "--journal-dir", str(central), "--host", "web1",
                 "disk", "-o", "json", "-n", "10")
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert {line["message"] for line in lines} >= {"disk full on /srv"}
    assert not any("disk fine" in line["message"] for line in lines)
    levels = cli("--config", "/nonexistent/config.yaml", "log", "--journal-dir", str(central), "--host", "web1",
                 "disk", "-l", "ERROR", "-o", "json")
    assert [json.loads(line)["message"] for line in levels.out.splitlines()] == ["disk full on /srv"] * 3


def test_journal_reader_and_journalctl_agree_on_a_host(central: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(directory=central, host="web2")
    fields = ("MESSAGE", "_HOSTNAME")
    in_process = journal.scan_each("SYSLOG_IDENTIFIER", ["bamon-disk"], fields)["bamon-disk"]
    monkeypatch.setattr(Journal, "_reader", lambda self: None)  # python-systemd absent: journalctl
    by_journalctl = journal.scan_each("SYSLOG_IDENTIFIER", ["bamon-disk"], fields)["bamon-disk"]
    # (without python-systemd, as in a pip venv, both are journalctl, which adds the match field)
    def shown(entries: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{f: e[f] for f in fields} for e in entries]

    assert shown(in_process) == shown(by_journalctl) and len(in_process) == 4
    assert {e["_HOSTNAME"] for e in in_process} == {"web2"}
    assert journal.base_command()[:2] == ["journalctl", f"--directory={central}"]


def test_bad_journal_dir_and_names_are_one_line_errors(cli: Any, central: Path, tmp_path: Path) -> None:
    missing = cli("history", "--journal-dir", str(tmp_path / "nope"), "--host", "web1", "disk")
    assert missing.code != 0 and f"--journal-dir {tmp_path / 'nope'}: no such directory" in missing.err
    assert "hint:" in missing.err
    bad = cli("--config", "/nonexistent/config.yaml", "history", "--journal-dir", str(central), "../etc")
    assert bad.code != 0 and "'../etc' is not a check name" in bad.err
    assert shutil.which("journalctl")
