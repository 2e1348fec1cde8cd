"""Prometheus metrics: the series and their values for passing, failing, never-run and disabled
checks, the runs/failures counters counted from journal records, the textfile, the ASGI app,
and `promtool check metrics` (Debian's prometheus package) on the exposition."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_central_journal import BOOT, export
from test_central_journal import NOW_US as EXPORTED_US  # when the exported runs began

from bamon.history.records import RunRecord, record_message
from bamon.history.status import CheckStatus, collect
from bamon.integrations import prometheus
from bamon.integrations.counters import FIRST_WINDOW_S, OVERLAP_S, Counters, Kept, Tally
from bamon.journal import Journal
from bamon.paths import resolve
from bamon.systemd import Systemd

if TYPE_CHECKING:
    from conftest import FakeChecks, FakeRunner, WriteConfig

CONFIG = """\
scripts:
  - {name: web, command: "true", interval: 60, severity: critical, tags: [web, prod]}
  - {name: disk, command: "exit 2", interval: 60}
  - {name: fresh, command: "true", interval: 60}
  - {name: paused, command: "true", enabled: false}
"""
NOW_US = int(time.time() * 1e6)
RUNS = {"web": ("inv-w", "success", 0, 30, 0.25, 0), "disk": ("inv-d", "exit-code", 2, 20, 0.5, 3)}


class FakeJournal(Journal):
    """Answers the run-record query with the lines of `records` (test_counters_read_a_real_journal
    has the real journal)."""

    def __init__(self, records: list[RunRecord]) -> None:
        super().__init__()
        self.records, self.since = records, []  # type: list[RunRecord], list[int]

    def starting_with(self, prefix: str, fields: Any, *, since_us: int,
                      after: str | None = None) -> tuple[list[dict[str, str]], str | None]:
        self.since.append(since_us)
        return [{"MESSAGE": record_message(r), "SYSLOG_IDENTIFIER": f"bamon-{r.check}"} for r in self.records], None


def run(check: str, start_s: int, ok: bool) -> RunRecord:
    start = NOW_US - start_s * 1_000_000
    return RunRecord(check, f"i{check}{start_s}", "success" if ok else "exit-code", 0 if ok else 2,
                     start, start + 1000, 0 if ok else 1)


@pytest.fixture
def snapshot(write_config: WriteConfig, fake_checks: FakeChecks, runner: FakeRunner,
             tmp_path: Path) -> prometheus.Snapshot:
    config_file = write_config(CONFIG)
    fake_checks(tmp_path / "state", RUNS, {}, ("web", "disk", "fresh"), int(time.time() * 1e6))
    paths = resolve(False, str(config_file))
    from bamon.config.model import load

    config = load(config_file, config_file.parent / "scripts.d")
    journal = FakeJournal([run("web", 90, True), run("web", 30, True), run("disk", 80, False),
                           run("disk", 20, False)])
    checks = collect(config, paths, Systemd(False, runner=runner), None)
    counters = Counters()
    counters.update(journal)
    return prometheus.Snapshot(checks, counters, time.time())


def samples(text: bytes) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("check", "")): s.value
            for f in text_string_to_metric_families(text.decode()) for s in f.samples}


def test_series_of_passing_failing_never_run_and_disabled_checks(snapshot: prometheus.Snapshot) -> None:
    got = samples(prometheus.exposition(snapshot))
    assert got[("bamon_check_up", "web")] == 1 and got[("bamon_check_up", "disk")] == 0
    assert ("bamon_check_up", "fresh") not in got  # never ran: no verdict, not a failure
    assert got[("bamon_check_exit_status", "disk")] == 2
    assert got[("bamon_check_duration_seconds", "disk")] == pytest.approx(0.5)
    assert got[("bamon_check_consecutive_failures", "disk")] == 3
    last = got[("bamon_check_last_run_timestamp_seconds", "web")]
    assert last == pytest.approx(time.time() - 30, abs=5)
    assert got[("bamon_check_next_run_timestamp_seconds", "web")] == pytest.approx(last + 60)  # interval 60
    assert ("bamon_check_next_run_timestamp_seconds", "paused") not in got
    assert got[("bamon_check_enabled", "paused")] == 0 and got[("bamon_check_enabled", "web")] == 1
    assert got[("bamon_check_runs_total", "web")] == 2 and got[("bamon_check_failures_total", "web")] == 0
    assert got[("bamon_check_runs_total", "disk")] == 2 and got[("bamon_check_failures_total", "disk")] == 2
    assert got[("bamon_check_runs_total", "fresh")] == 0


def test_labels_stay_bounded(snapshot: prometheus.Snapshot) -> None:
    families = list(text_string_to_metric_families(prometheus.exposition(snapshot).decode()))
    labels = {name for f in families for s in f.samples for name in s.labels}
    assert labels == {"check", "severity", "tags", "status", "reason"}
    info = {s.labels["check"]: s.labels for f in families if f.name == "bamon_check_info" for s in f.samples}
    assert info["web"] == {"check": "web", "severity": "critical", "tags": "web,prod"}
    assert {f.name for f in families} | {s.name for f in families for s in f.samples} <= prometheus.metric_names()


def test_status_series_carries_the_status_word_and_failure_reason(snapshot: prometheus.Snapshot) -> None:
    families = list(text_string_to_metric_families(prometheus.exposition(snapshot).decode()))
    status = {s.labels["check"]: (s.labels["status"], s.labels["reason"], s.value)
              for f in families if f.name == "bamon_check_status" for s in f.samples}
    assert status == {"web": ("OK", "", 1.0), "disk": ("FAILED", "exit-code", 1.0),
                      "fresh": ("UNKNOWN", "", 1.0), "paused": ("DISABLED", "", 1.0)}


def test_counters_count_each_run_once_across_updates(tmp_path: Path) -> None:
    journal = FakeJournal([run("a", 50, True), run("a", 40, False)])
    counters = Counters()
    counters.update(journal)
    counters.save(tmp_path / "c.json")
    again = Counters.load(tmp_path / "c.json")
    journal.records.append(run("a", 10, False))  # the overlap window returns the old ones too
    again.update(journal)
    assert (again.checks["a"].runs, again.checks["a"].failures) == (3, 2)
    # the first update reads the last day, the next from the previous update on, less the overlap
    assert journal.since == [int((counters.updated - FIRST_WINDOW_S) * 1e6), int((counters.updated - OVERLAP_S) * 1e6)]
    assert Counters.load(tmp_path / "missing.json").checks == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert Counters.load(tmp_path / "bad.json").updated == 0


def test_skipped_runs_are_neither_runs_nor_failures() -> None:
    """max_concurrent, a dependency, the load or an open breaker skipped it: no command ran."""
    skipped = dataclasses.replace(run("a", 30, False), result="skipped", exit_status=0)
    journal = FakeJournal([run("a", 50, True), skipped, run("a", 10, False)])
    counters = Counters()
    counters.update(journal)
    assert (counters.checks["a"].runs, counters.checks["a"].failures) == (2, 1)


def test_a_nagios_warning_is_not_a_failure() -> None:
    """As status and history say it: exit 1 of a Nagios check is WARNING, exit 2 CRITICAL
    (FAILED), exit 3 UNKNOWN; the same exit 1 of a plain check is FAILED."""
    def exiting(check: str, ago: int, code: int) -> RunRecord:
        return dataclasses.replace(run(check, ago, False), exit_status=code)

    journal = FakeJournal([exiting(check, ago, code) for check in ("n", "p")
                           for ago, code in ((50, 1), (40, 2), (30, 3), (20, 1))])
    counters = Counters()
    counters.update(journal, formats={"n": "nagios"})
    assert (counters.checks["n"].runs, counters.checks["n"].failures) == (4, 2)
    assert (counters.checks["p"].runs, counters.checks["p"].failures) == (4, 4)


def test_textfile_is_replaced_whole(snapshot: prometheus.Snapshot, tmp_path: Path) -> None:
    target = tmp_path / "node-exporter" / "bamon.prom"
    target.parent.mkdir()
    target.write_text("old")
    prometheus.write_textfile(snapshot, target)
    assert target.read_bytes() == prometheus.exposition(snapshot)
    assert [p.name for p in target.parent.iterdir()] == ["bamon.prom"]  # no temporary file left


def test_asgi_app_serves_the_exposition(snapshot: prometheus.Snapshot) -> None:
    app = prometheus.asgi_app(lambda: snapshot)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b"bamon_check_up{check=\"web\"} 1.0" in b"".join(m.get("body", b"") for m in sent)


def test_promtool_accepts_the_exposition(snapshot: prometheus.Snapshot, promtool: str) -> None:
    result = subprocess.run(["promtool", "check", "metrics"], input=prometheus.exposition(snapshot),
                            capture_output=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip() and not result.stderr.strip(), result.stdout + result.stderr


def test_perfdata_of_the_last_run_become_bounded_gauges(snapshot: prometheus.Snapshot,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Nagios checks' perfdata (parsed by bamon.history.metrics) of the last run become series."""
    from dataclasses import replace

    from bamon.integrations import perfdata

    checks = [replace(c, script=replace(c.script, output_format="nagios")) for c in snapshot.checks]
    lines = {"inv-d": ["DISK WARNING - free space: / 3326 MB (8%) | /=2643MB;3000;4000;0;5000"],
             "inv-w": ["OK | " + " ".join(f"m{i}=1" for i in range(30))]}
    monkeypatch.setattr(perfdata, "outputs",
                        lambda journal, records: {r.invocation: lines[r.invocation] for r in records})
    values = perfdata.last_values(checks, Journal())
    assert values["disk"] == [("/", "MB", 2643.0)]
    assert len(values["web"]) == perfdata.MAX_PER_CHECK  # a chatty check cannot flood the series
    with_perfdata = prometheus.Snapshot(checks, snapshot.counters, snapshot.generated, values)
    families = text_string_to_metric_families(prometheus.exposition(with_perfdata).decode())
    [sample] = [s for f in families if f.name == "bamon_check_metric" for s in f.samples if s.labels["check"] == "disk"]
    assert sample.labels == {"check": "disk", "metric": "/", "unit": "MB"} and sample.value == 2643.0


def test_plain_checks_print_no_perfdata(snapshot: prometheus.Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without output_format: nagios, a "|" in the output is just text."""
    from bamon.integrations import perfdata

    monkeypatch.setattr(perfdata, "outputs", lambda journal, records: {r.invocation: ["OK | x=1"] for r in records})
    assert perfdata.last_values(snapshot.checks, Journal()) == {}


def remote_journal(directory: Path, entries: str) -> None:
    """Entries appended to a journal file by the real systemd-journal-remote."""
    remote = Path("/lib/systemd/systemd-journal-remote")
    if not remote.exists():
        pytest.fail(f"{remote} is missing: install systemd-journal-remote (dev/install-deps)", pytrace=False)
    done = subprocess.run([str(remote), f"--output={directory / 'remote.journal'}", "-"], input=entries, text=True,
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_counters_read_a_real_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run records among output lines and other programs' lines, in journal files written by the
    real systemd-journal-remote: read in-process (python-systemd) and by journalctl alike."""
    noise = (f"__REALTIME_TIMESTAMP={NOW_US}\n__MONOTONIC_TIMESTAMP={NOW_US}\n_BOOT_ID={BOOT}\n"
             "_HOSTNAME=web1\nSYSLOG_IDENTIFIER=sshd\nMESSAGE=bamon-runner logged in (not a record)\n\n")
    records = export("web1", "disk", [("exit-code", 3, "disk full")] * 2) + \
        export("web1", "api", [("success", 0, "bamon-run result=failed printed by the check itself")]) + noise
    remote_journal(tmp_path, records)
    counted = []
    for reader in ("python-systemd", "journalctl"):
        if reader == "journalctl":
            monkeypatch.setattr(Journal, "_reader", lambda self: None)
        counters = Counters()
        counters.update(Journal(directory=tmp_path))
        counted.append({name: (t.runs, t.failures) for name, t in counters.checks.items()})
    # an output line that looks like a record is not the run's record line: it parses as no run
    assert counted == [{"disk": (2, 2), "api": (1, 0)}] * 2


def test_a_frequent_reader_reads_on_past_its_last_entry_and_the_whole_window_once_per_overlap(
        tmp_path: Path) -> None:
    """The web service's counters: each update reads the journal from just past the entry where
    the previous one stopped; the whole window again once per OVERLAP_S, and when that entry is
    gone. The counts of `disk` are forgotten on purpose: only a read of the window brings them back."""
    remote_journal(tmp_path, export("web1", "disk", [("exit-code", 3, "disk full")] * 2))
    # the updates' clock starts just after the runs it reads (not at the wall clock: the records'
    # times are fixed when test_central_journal is imported, maybe long before this test runs)
    journal, start = Journal(directory=tmp_path), EXPORTED_US / 1e6 + 5
    counters = Counters()
    counters.update(journal, now=start)
    assert (counters.checks["disk"].runs, counters.checks["disk"].failures) == (2, 2)
    if journal._reader() is None:
        # no python-systemd (a pip venv): journalctl gives no cursor, and every update reads
        # the whole window — which brings the forgotten counts back at once
        assert counters.cursor is None
        counters.checks["disk"] = Tally()
        counters.update(journal, now=start + 10)
        assert counters.checks["disk"].runs == 2
        return
    assert counters.cursor
    counters.checks["disk"] = Tally()
    remote_journal(tmp_path, export("web1", "late", [("success", 0, "fine")]))
    counters.update(journal, now=start + 10)
    assert {n: (t.runs, t.failures) for n, t in counters.checks.items()} == {"disk": (0, 0), "late": (1, 0)}
    assert counters.cursor is not None
    counters.cursor = re.sub(r"^s=[0-9a-f]+", "s=" + "0" * 32, counters.cursor)  # an entry of no journal here
    counters.update(journal, now=start + 20)
    assert (counters.checks["disk"].runs, counters.checks["late"].runs) == (2, 1)
    counters.checks["disk"] = Tally()
    counters.update(journal, now=start + 30)
    assert counters.checks["disk"].runs == 0  # the cursor is a good one again
    counters.update(journal, now=start + OVERLAP_S)  # the window's turn
    assert (counters.checks["disk"].runs, counters.checks["late"].runs) == (2, 1)


def test_a_scraper_that_may_not_keep_the_counters_reads_only_the_runs_since_its_last_scrape(
        write_config: WriteConfig, fake_checks: FakeChecks, runner: FakeRunner, tmp_path: Path) -> None:
    # the web service's user cannot write the counters file, and without bamon.metrics.timer
    # nobody does: each scrape goes on from the counters of the one before
    from bamon.config.model import load

    config_file = write_config(CONFIG)
    fake_checks(tmp_path / "state", RUNS, {}, ("web", "disk", "fresh"), NOW_US)
    paths = resolve(False, str(config_file))
    (paths.state_dir / "metrics").write_text("")  # not a directory: the file can be neither read nor written
    config = load(config_file, config_file.parent / "scripts.d")
    journal = FakeJournal([run("web", 90, True)])
    kept = Kept(prometheus.counters_file(paths))
    first = prometheus.take(config, paths, Systemd(False, runner=runner), journal, kept)
    first_update = first.counters.updated
    journal.records.append(run("web", 10, False))
    second = prometheus.take(config, paths, Systemd(False, runner=runner), journal, kept)
    assert journal.since == [int((first_update - FIRST_WINDOW_S) * 1e6), int((first_update - OVERLAP_S) * 1e6)]
    assert (second.counters.checks["web"].runs, second.counters.checks["web"].failures) == (2, 1)
    # a file newer than the kept counters wins (bamon.metrics.service ran since)
    (paths.state_dir / "metrics").unlink()
    Counters(second.counters.updated + 5, {"web": Tally(7, 3, 0)}).save(prometheus.counters_file(paths))
    kept_on = prometheus.take(config, paths, None, None, kept).counters
    assert kept_on is not second.counters and kept_on.checks["web"] == Tally(7, 3, 0)


def test_kept_counters_read_the_file_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "counters.json"
    Counters(100.0, {"web": Tally(7, 3, 5)}).save(path)
    loads: list[Path] = []
    load = Counters.load
    monkeypatch.setattr(Counters, "load", classmethod(lambda cls, p: loads.append(p) or load(p)))
    kept = Kept(path)
    counters = kept.current()
    assert counters.checks == {"web": Tally(7, 3, 5)} and len(loads) == 1
    counters.update(FakeJournal([run("web", 10, False)]))  # a scrape counts on: newer than the file
    assert kept.current() is counters and len(loads) == 1  # the file is as read: not parsed again
    Counters(50.0, {"web": Tally(1, 0, 0)}).save(path)  # replaced (older: the scrape's counters stay)
    assert kept.current() is counters and len(loads) == 2 and counters.checks["web"].runs == 8
    Counters(time.time() + 60, {"web": Tally(9, 4, 0)}).save(path)  # bamon.metrics.service ran since
    assert kept.current().checks == {"web": Tally(9, 4, 0)} and len(loads) == 3
    path.unlink()
    assert kept.current().checks == {"web": Tally(9, 4, 0)} and len(loads) == 4  # gone: counting goes on


def test_an_update_skips_the_records_it_counted_before_and_still_parses_odd_ones() -> None:
    """Records read again in the overlap are recognised by their start_usec= alone; a line whose
    start cannot be told that way (field twice, another order) is parsed whole, as before."""
    counters = Counters()
    journal = FakeJournal([run("web", 50, True), run("web", 40, False)])
    counters.update(journal)
    assert counters.checks["web"] == Tally(2, 1, run("web", 40, False).start_us)
    newer = run("web", 30, True)
    odd = FakeJournal([])
    odd.starting_with = lambda prefix, fields, *, since_us, after: ([  # type: ignore[method-assign]
        {"MESSAGE": record_message(run("web", 40, False)), "SYSLOG_IDENTIFIER": "bamon-web"},  # counted
        {"MESSAGE": record_message(newer).replace(" start_usec=", " start_usec=1 start_usec="),
         "SYSLOG_IDENTIFIER": "bamon-web"},  # the parser takes the last: newer, counts
        {"MESSAGE": f"bamon-run invocation=x9 start_usec={newer.start_us + 5} result=success exit_status=0 "
                    f"end_usec={newer.start_us + 9}", "SYSLOG_IDENTIFIER": "bamon-web"},  # another order
    ], None)
    counters.update(odd)
    assert counters.checks["web"] == Tally(4, 1, newer.start_us + 5)


def test_a_reader_that_may_not_write_does_not_try(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bamon.integrations import counters as module

    target = tmp_path / "state" / "metrics" / "counters.json"
    assert module.may_write(target)  # missing directories are created by the write
    monkeypatch.setattr(module.os, "access", lambda path, mode: Path(path) != tmp_path)
    assert not module.may_write(target)


def test_a_frequent_reader_reads_each_runs_output_once_and_never_waits(
        snapshot: prometheus.Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from bamon.integrations import perfdata

    checks = [replace(c, script=replace(c.script, output_format="nagios")) for c in snapshot.checks]
    printed = {"inv-w": (["OK | rt=1s"], True), "inv-d": (["DISK OK | /=10MB"], True),
               "inv-d2": (["DISK WARNING | /=20MB"], False)}  # journald has not stored its record line yet
    asked: list[set[str]] = []

    def outputs_now(journal: Journal, records: list[RunRecord]) -> dict[str, tuple[list[str], bool]]:
        asked.append({r.invocation for r in records})
        return {r.invocation: printed[r.invocation] for r in records}

    monkeypatch.setattr(perfdata, "outputs_now", outputs_now)
    monkeypatch.setattr(perfdata, "outputs", lambda *args: pytest.fail("a frequent reader never waits"))
    held: perfdata.Held = {}
    first = perfdata.last_values(checks, Journal(), held)
    assert first == {"web": [("rt", "s", 1.0)], "disk": [("/", "MB", 10.0)]} and asked == [{"inv-w", "inv-d"}]
    assert perfdata.last_values(checks, Journal(), held) == first and len(asked) == 1  # nothing new: nothing read

    def ran_again(check: CheckStatus, invocation: str) -> CheckStatus:
        if check.script.name != "disk" or check.record is None:
            return check
        return replace(check, record=replace(check.record, invocation=invocation))

    again = [ran_again(c, "inv-d2") for c in checks]
    assert perfdata.last_values(again, Journal(), held) == first and asked[-1] == {"inv-d2"}  # not all there yet
    printed["inv-d2"] = (["DISK WARNING | /=20MB"], True)
    assert perfdata.last_values(again, Journal(), held)["disk"] == [("/", "MB", 20.0)]
    assert perfdata.last_values([c for c in again if c.script.name != "disk"], Journal(), held) == {
        "web": [("rt", "s", 1.0)]} and set(held) == {"web"}  # a check gone from the config is forgotten
