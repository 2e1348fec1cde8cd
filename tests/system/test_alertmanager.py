"""The alertmanager channel against a real Alertmanager (Debian 12 prometheus-alertmanager),
started on the host's loopback: a failure becomes an active alert, a recovery resolves it, and
the same check failing on two hosts reaches the receiver as one grouped notification.

The channel is bamon's own code: run from the work tree for the protocol tests, and by the
installed package's notifier in a container for the end-to-end test. The shipped
contrib/alertmanager/alertmanager.yml groups one check failing on five hosts into one
notification, routes by tag and severity, and a silence on a tag covers every host.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
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
    yield from running(tmp_path, hook)


def running(tmp_path: Path, hook: Hook) -> Iterator[tuple[str, Hook]]:
    """Alertmanager with tmp_path/am.yml on a free port; the hook is closed afterwards."""
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
    # Alertmanager sends "resolved" only for an alert it has notified: let it notify first
    wait("the firing notification", lambda: any(
        b["status"] == "firing" and b["commonLabels"].get("check") == "am_flaky" for b in hook.bodies), timeout=30)
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


EXAMPLE = Path(__file__).resolve().parents[2] / "contrib" / "alertmanager" / "alertmanager.yml"


@pytest.fixture
def shipped_alertmanager(tmp_path: Path) -> Iterator[tuple[str, Hook]]:
    """Alertmanager with contrib/alertmanager/alertmanager.yml as shipped, but every receiver
    posting to one hook (the body names the receiver) and the waits cut to a second."""
    hook = Hook()
    config = yaml.safe_load(EXAMPLE.read_text())
    for receiver in config["receivers"]:
        for webhook in receiver["webhook_configs"]:
            webhook["url"] = hook.url
    config["route"].update(group_wait="1s", group_interval="1s")
    for route in config["route"]["routes"]:
        route.pop("group_wait", None)
    (tmp_path / "am.yml").write_text(json.dumps(config))
    yield from running(tmp_path, hook)


def fleet_failure(check: str, host: str, severity: str, tags: list[str]) -> Alert:
    now = time.time()
    return Alert(id=f"{check}-{host}", kind=Kind.FAILURE, check=check, host=host, status="FAILED",
                 severity=severity, title=f"{check} FAILED on {host}", body="exit code 1", created=now,
                 dedup_key=f"bamon/{host}/{check}/1", evidence={"tags": tags, "episode_start": now})


def test_shipped_config_groups_five_hosts_routes_by_tag_and_a_tag_silence_covers_the_fleet(
        shipped_alertmanager: tuple[str, Hook]) -> None:
    base, hook = shipped_alertmanager
    channel = build("alertmanager", "am", {"url": base, "timeout": 5, "retries": 0})
    hosts = [f"web{i}" for i in range(1, 6)]
    for host in hosts:
        assert channel.send(fleet_failure("backup", host, "critical", ["db", "nightly"])).outcome is Outcome.DELIVERED

    notices = wait("the grouped backup notification", lambda: [b for b in hook.bodies
                                                                if b["groupLabels"].get("check") == "backup"])
    assert len(notices) == 1 and notices[0]["receiver"] == "dba-pager", notices  # tag db + critical
    assert sorted(a["labels"]["host"] for a in notices[0]["alerts"]) == hosts

    # `amtool silence add 'tags=~"(.*,)?web(,.*)?"' source=bamon`, through the same API
    now = datetime.now(UTC)
    silence = {"matchers": [{"name": "tags", "value": "(.*,)?web(,.*)?", "isRegex": True, "isEqual": True},
                            {"name": "source", "value": "bamon", "isRegex": False, "isEqual": True}],
               "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
               "createdBy": "test", "comment": "web maintenance across the fleet"}
    assert send("silence", Request.json(f"{base}/api/v2/silences", silence),
                Retry(timeout=5, retries=0)).outcome is Outcome.DELIVERED
    for host in hosts[:3]:
        channel.send(fleet_failure("http", host, "warning", ["prod", "web"]))
    channel.send(fleet_failure("disk", "web4", "warning", ["base"]))

    def states() -> dict[tuple[str, str], str] | None:
        found = {(a["labels"]["check"], a["labels"]["host"]): a["status"]["state"]  # type: ignore[index]
                 for a in get_json(f"{base}/api/v2/alerts") if a["labels"]["severity"] == "warning"}  # type: ignore[index]
        return found if len(found) == 4 else None

    got = wait("the web alerts silenced", states)
    assert got == {("http", "web1"): "suppressed", ("http", "web2"): "suppressed", ("http", "web3"): "suppressed",
                   ("disk", "web4"): "active"}
    disk = wait("the disk notification", lambda: [b for b in hook.bodies if b["groupLabels"].get("check") == "disk"])
    assert disk[0]["receiver"] == "ops-chat"
    time.sleep(2)  # two group intervals: a silenced group would have been sent by now
    assert not [b for b in hook.bodies if b["groupLabels"].get("check") == "http"]
