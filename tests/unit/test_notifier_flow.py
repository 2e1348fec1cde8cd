"""The notifier's occasions end to end, with systemd, journald and delivery at their seams:
a failure alerts once with its evidence, repeats stay quiet, recovery tells everyone told,
escalation steps become transient timers, the recovery watch is armed and disarmed."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeRunner, JournalSink, WriteConfig

from bamon.config.model import load
from bamon.history.records import RunRecord, record_message
from bamon.journal import Journal
from bamon.notify import escalation, evidence, silences
from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.flow import Notifier
from bamon.notify.state import check_state
from bamon.paths import Paths
from bamon.systemd import Systemd

CONFIG = """
alerts:
  channels:
    - {name: chat, type: webhook, url: "http://127.0.0.1:1/a"}
    - {name: pager, type: webhook, url: "http://127.0.0.1:1/b"}
  gradual_step: 30s
  rules:
    - {name: page, condition: "status == 'FAILED'", escalation: gradual, cooldown: 10m}
scripts:
  - {name: web, command: "curl -f http://localhost/", severity: critical, tags: [prod], hint: "see the runbook"}
"""


class Sent(list[tuple[Alert, list[str]]]):
    def __call__(self, alert: Alert, specs: Sequence[Any], *, paths: Paths, journal: Journal) -> list[Delivery]:
        self.append((alert, [s.name for s in specs]))
        return [Delivery(s.name, Outcome.DELIVERED, "HTTP 200") for s in specs]


START = 0  # set per test: the episode begins now, and escalation steps are timed from it


def record(invocation: str, result: str = "exit-code", failures: int = 1) -> RunRecord:
    return RunRecord("web", invocation, result, 7 if result == "exit-code" else 0, START, START + 1_500_000, failures)


@pytest.fixture
def setup(tmp_path: Path, write_config: WriteConfig, runner: FakeRunner,
          sink: JournalSink) -> tuple[Callable[[], Notifier], Sent, Paths]:
    global START
    START = int(time.time()) * 1_000_000
    config_file = write_config(CONFIG)
    paths = Paths(user_mode=False, config_file=config_file, scripts_dir=tmp_path / "scripts.d",
                  state_dir=tmp_path / "state", check_state_dirs=(tmp_path / "state" / "checks",),
                  unit_dir=tmp_path / "units", config_overridden=False)
    (tmp_path / "state" / "checks" / "web").mkdir(parents=True)
    runner.on(["systemctl", "show"], "Id=bamon-web.service\nInvocationID=inv1\nCPUUsageNSec=42000000\n"
                                     "MemoryPeak=[not set]\n")
    sent = Sent()

    def make() -> Notifier:
        return Notifier(paths, Systemd(runner=runner), Journal(sink=sink), deliver=sent,
                        config=load(config_file, None))
    return make, sent, paths


def decisions(sink: JournalSink) -> list[tuple[str, str]]:
    return [(e.get("RULE", ""), e["ACTION"]) for e in sink.entries if e.get("BAMON_EVENT") == "alert.decision"]


def test_failure_alerts_once_with_evidence_then_recovery(setup: Any, runner: FakeRunner, sink: JournalSink) -> None:
    make, sent, paths = setup
    last = paths.check_state_dirs[0] / "web" / "last"
    last.write_text(record("inv1").state_line())
    make().failure(record("inv1"), ["connecting…", "curl: (7) Failed to connect"])
    assert len(sent) == 1
    alert, channels = sent[0]
    assert channels == ["chat"] and alert.kind is Kind.FAILURE and alert.rule == "page"
    ev = alert.evidence
    assert ev["exit_code"] == 7 and ev["failure_reason"] == "exit-code" and ev["duration_s"] == 1.5
    assert ev["cpu_s"] == 0.042 and ev["output_tail"][-1] == "curl: (7) Failed to connect"
    assert ev["journalctl"] == "journalctl --no-pager INVOCATION_ID=inv1 + _SYSTEMD_INVOCATION_ID=inv1"
    assert "see the runbook" in ev["hint"] and ev["episode_start"] == START / 1e6
    assert "CRITICAL: web on" in alert.title and "curl: (7) Failed to connect" in alert.body
    assert alert.dedup_key.endswith(f"/web/{START // 1_000_000}")
    # the next step is a transient timer, the recovery watch is armed
    timers = [c for c in runner.calls if c[0] == "systemd-run"]
    assert len(timers) == 1 and "--on-active=30s" in timers[0] and timers[0][-5:-1] == [
        "--escalate", "web", "page", "1"]
    assert ["systemctl", "start", "--no-block", "bamon.recover@web.path"] in runner.calls
    assert (last.parent / "alerting").exists()  # bamon.rearm.service re-arms the watch after a reboot
    # a second failure of the same episode: decided, recorded, not sent
    make().failure(record("inv2", failures=2), [])
    assert len(sent) == 1 and decisions(sink)[-1] == ("page", "already-alerted")
    # the escalation timer fires: the second channel hears of it, at critical
    make().escalate("web", "page", 1, alert.dedup_key)
    assert sent[-1][1] == ["pager"] and sent[-1][0].step == 1
    # recovery: everyone told hears it once, timers and watch are stopped
    last.write_text(record("inv3", "success", 0).state_line())
    (last.parent / "recovered").write_text("")
    make().recovery("web")
    recovered, channels = sent[-1]
    assert recovered.kind is Kind.RECOVERY and channels == ["chat", "pager"]
    assert recovered.dedup_key == alert.dedup_key and "RECOVERED: web" in recovered.title
    assert not (last.parent / "recovered").exists() and not (last.parent / "alerting").exists()
    assert ["systemctl", "stop", "bamon.escalate-web:*.timer"] in runner.calls
    assert ["systemctl", "stop", "bamon.recover@web.path"] in runner.calls
    assert len(sent) == 3
    # a stray mark later: nothing open, nothing sent
    make().recovery("web")
    assert len(sent) == 3
    assert [a for _, a in decisions(sink)] == ["send", "already-alerted", "send", "send", "no-alert"]


def test_the_journalctl_command_also_matches_the_runs_output_stream() -> None:
    """journald leaves the invocation id off lines it reads after the run ended (CI saw the alert's
    command miss a run's error message so): the run's stream is found by any line with the id or
    by its run record, and the command matches it too."""
    run, older, other = record("inv1"), record("inv0"), record("inv10")
    entries = [
        {"MESSAGE": "older run", "_STREAM_ID": "s0", "_SYSTEMD_INVOCATION_ID": "inv0"},
        {"MESSAGE": record_message(older), "_STREAM_ID": "s0"},
        {"MESSAGE": "disk on fire", "_STREAM_ID": "s1"},  # no id
        {"MESSAGE": record_message(run), "_STREAM_ID": "s1"},
        {"MESSAGE": record_message(run), "SYSLOG_IDENTIFIER": "bamon-web"},  # not stdout
        {"MESSAGE": record_message(other), "_STREAM_ID": "s2"},  # another run's id
    ]
    assert evidence.streams_of(entries, run) == ["s1"]
    assert evidence.streams_of([{"MESSAGE": "x", "_STREAM_ID": "s3", "_SYSTEMD_INVOCATION_ID": "inv1"}],
                               run) == ["s3"]
    assert evidence.streams_of(entries, record("inv9")) == []
    assert evidence.journalctl_command(run, False, ["s1"]) == (
        "journalctl --no-pager INVOCATION_ID=inv1 + _SYSTEMD_INVOCATION_ID=inv1 + _STREAM_ID=s1")
    assert evidence.journalctl_command(run, True).startswith("journalctl --user --no-pager USER_INVOCATION_ID=inv1 + ")


def test_silenced_check_sends_nothing_and_records_why(setup: Any, sink: JournalSink) -> None:
    make, sent, paths = setup
    silence = silences.add(paths.silences_file, tag="prod", seconds=3600, reason="maintenance")
    make().failure(record("inv1"), [])
    assert sent == []
    entry = next(e for e in sink.entries if e.get("BAMON_EVENT") == "alert.decision")
    assert entry["ACTION"] == "silenced" and silence.id in entry["REASON"] and "maintenance" in entry["REASON"]
    assert entry["MESSAGE_ID"] and entry["BAMON_CHECK"] == "web"


def test_broken_template_override_falls_back_and_is_recorded(setup: Any, sink: JournalSink) -> None:
    make, sent, paths = setup
    paths.templates_dir.mkdir()
    (paths.templates_dir / "failure.body.j2").write_text("{{ evidence.nope( }}")
    (paths.templates_dir / "failure.title.j2").write_text("custom {{ check }}")
    make().failure(record("inv1"), [])
    assert len(sent) == 1 and "Check web on" in sent[0][0].body
    assert ("page", "template-error") in decisions(sink)


def _terminated_while_delivering(make: Callable[[], Notifier]) -> None:
    from bamon.notify.main import finish_before_exit

    finish_before_exit()
    notifier = make()
    inner = notifier.deliver

    def deliver(alert: Alert, specs: Sequence[Any], **kw: Any) -> list[Delivery]:
        os.kill(os.getpid(), signal.SIGTERM)  # a shutdown stops the notifier between delivery and save
        return inner(alert, specs, **kw)
    notifier.deliver = deliver
    notifier.failure(record("inv1"), [])


def test_a_sigterm_while_delivering_waits_until_the_state_is_saved(setup: Any) -> None:
    # dying there would forget the episode: no "recovered" alert, and a second page for it
    make, _, paths = setup
    child = multiprocessing.get_context("fork").Process(target=_terminated_while_delivering, args=(make,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    saved = json.loads((paths.alert_state_dir / "web.json").read_text())
    assert saved["episode"].endswith(f"/web/{START // 1_000_000}") and saved["rules"]["page"]["channels"] == ["chat"]


def _bump(path: str) -> None:
    for _ in range(50):
        with check_state(Path(path), "web") as state:
            state.failures += 1


def test_state_is_locked_across_processes_and_persisted(tmp_path: Path) -> None:
    procs = [multiprocessing.Process(target=_bump, args=(str(tmp_path),)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    assert json.loads((tmp_path / "web.json").read_text())["failures"] == 200
    assert oct((tmp_path / "web.json").stat().st_mode & 0o777) == "0o600"


def test_silences_expire_by_themselves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "silences.json"
    kept = silences.add(path, check="web", seconds=3600)
    gone = silences.add(path, check="db", seconds=60)
    assert {s.id for s in silences.active(path)} == {kept.id, gone.id}
    now = gone.until + 1
    monkeypatch.setattr(silences.time, "time", lambda: now)
    assert [s.id for s in silences.active(path)] == [kept.id]
    assert [s["id"] for s in json.loads(path.read_text())] == [kept.id]  # cleaned from the file
    assert silences.matching(silences.active(path), "web", [], now) == kept
    assert silences.remove(path, kept.id) and not silences.remove(path, kept.id)


def test_a_removed_check_leaves_no_alert_state(tmp_path: Path, runner: FakeRunner) -> None:
    with check_state(tmp_path, "web") as state:
        state.episode = "open"
    escalation.forget(Systemd(runner=runner), "web", tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert runner.calls == [["systemctl", "stop", "bamon.recover@web.path", "bamon.escalate-web:*.timer"]]
