"""The alertmanager channel against a real Alertmanager (Debian 12 prometheus-alertmanager),
started on the host's loopback: a failure becomes an active alert, a recovery resolves it, and
the same check failing on two hosts reaches the receiver as one grouped notification.

The channel is bamon's own code: run from the work tree for the protocol tests, and by the
installed package's notifier in a container for the end-to-end test.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nspawn import Container
from promstack import Hook, free_port, get_json, server, wait
from support import append_config, bamon

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bamon.notify.alert import Alert, Kind, Outcome
from bamon.notify.channels import build
from bamon.notify.channels.http import Request, Retry, send

CONFIG = """\
route:
  receiver: hook
  group_by: [alertname, check]
  group_wait: 2s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{hook}", send_resolved: true}}]
"""


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[str, Hook]]:
    hook = Hook()
    (tmp_path / "am.yml").write_text(CONFIG.format(hook=hook.url))
    port = free_port()
    args = [f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]
    try:
        with server("prometheus-alertmanager", args, port, tmp_path, "/-/ready") as base:
            yield base, hook
    finally:
        hook.close()


def failure(host: str) -> Alert:
    # The episode begins now: Alertmanager sends an alert that started more than group_wait
    # ago at once, without waiting to group it.
    now = time.time()
    return Alert(id=f"a-{host}", kind=Kind.FAILURE, check="web", host=host, status="FAILED",
                 severity="critical", title=f"web FAILED on {host}", body="exit code 7", created=now,
                 dedup_key=f"bamon/{host}/web/1", evidence={"tags": ["prod", "web"], "episode_start": now,
                                                            "journalctl": "journalctl -u bamon-web"})


def active(base: str) -> list[dict[str, object]]:
    return list(get_json(f"{base}/api/v2/alerts?active=true&silenced=false&inhibited=false"))


def test_failure_is_active_recovery_resolves_and_two_hosts_group(alertmanager: tuple[str, Hook]) -> None:
    base, hook = alertmanager
    channel = build("alertmanager", "am", {"url": base, "labels": {"team": "ops"}, "timeout": 5, "retries": 0})
    for host in ("alpha", "bravo"):
        delivery = channel.send(failure(host))
        assert delivery.outcome is Outcome.DELIVERED, delivery

    alerts = wait("two active alerts", lambda: len(active(base)) == 2 and active(base))
    assert {a["labels"]["host"] for a in alerts} == {"alpha", "bravo"}  # type: ignore[index]
    labels = alerts[0]["labels"]
    assert {k: labels[k] for k in ("alertname", "check", "severity", "tags", "team", "source")} == {  # type: ignore[index]
        "alertname": "BamonCheckFailed", "check": "web", "severity": "critical", "tags": "prod,web",
        "team": "ops", "source": "bamon"}
    assert alerts[0]["annotations"]["summary"].startswith("web FAILED on ")  # type: ignore[index]

    first = wait("the grouped notification", lambda: hook.bodies and hook.bodies[0])
    firing_now = [a for a in first["alerts"] if a["status"] == "firing"]
    assert first["status"] == "firing" and len(firing_now) == 2, first  # one notification, both hosts
    assert first["groupLabels"] == {"alertname": "BamonCheckFailed", "check": "web"}

    for host in ("alpha", "bravo"):
        recovered = replace(failure(host), kind=Kind.RECOVERY, status="OK", created=time.time())
        assert channel.send(recovered).outcome is Outcome.DELIVERED
    wait("no active alert", lambda: active(base) == [])
    resolved = wait("the resolved notification", lambda: [b for b in hook.bodies if b["status"] == "resolved"])
    assert {a["labels"]["host"] for a in resolved[-1]["alerts"]} == {"alpha", "bravo"}
    assert all(a["status"] == "resolved" for a in resolved[-1]["alerts"])


def test_a_rejected_label_set_is_a_permanent_failure_with_alertmanagers_reason(
        alertmanager: tuple[str, Hook]) -> None:
    base, _ = alertmanager
    bad = [{"labels": {"0bad name": "x"}, "startsAt": "2026-01-01T00:00:00Z"}]
    delivery = send("am", Request.json(f"{base}/api/v2/alerts", bad), Retry(timeout=5, retries=0))
    assert delivery.outcome is Outcome.PERMANENT and "HTTP 400" in delivery.detail, delivery
    assert "label" in delivery.detail.lower()


def test_a_failing_check_alerts_alertmanager_through_the_notifier_and_its_recovery_resolves(
        own_container: Container, alertmanager: tuple[str, Hook]) -> None:
    """End to end in the container: the check's OnFailure= notifier posts to the host's
    Alertmanager (the container shares the host's network), the recovery notifier resolves it."""
    base, hook = alertmanager
    box = own_container
    for sample in ("disk_root", "memory_available", "load_average"):  # a loaded host fails these
        bamon(box, "remove", "-f", sample)
    append_config(box, f"""
        alerts:
          channels:
            - {{name: am, type: alertmanager, url: "{base}", labels: {{team: ops}}}}
        """)
    assert box.run(["bamon", "config", "validate"], check=False).returncode == 0
    bamon(box, "add", "am_flaky", "-c", "test -e /run/am-ok", "-i", "2s")

    def firing() -> list[dict[str, Any]] | None:
        found = [a for a in active(base) if a["labels"].get("check") == "am_flaky"]  # type: ignore[union-attr]
        return found or None

    [alert] = wait("the notifier's alert in Alertmanager", firing, timeout=60)
    assert alert["labels"]["team"] == "ops" and alert["labels"]["source"] == "bamon"  # type: ignore[index]
    box.run(["touch", "/run/am-ok"])
    try:
        wait("the recovery to resolve it", lambda: firing() is None, timeout=60)
    except BaseException:
        log = box.run("bamon status -n am_flaky; journalctl --no-pager -o cat -u 'bamon.notify@*' "
                      "-u 'bamon.recovered@*' | tail -30", check=False).stdout
        print(log, active(base))
        raise
    wait("the resolved notification", lambda: any(
        b["status"] == "resolved" and b["commonLabels"].get("check") == "am_flaky" for b in hook.bodies), timeout=30)
    bamon(box, "remove", "-f", "am_flaky")
