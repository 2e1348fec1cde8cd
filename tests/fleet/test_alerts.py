"""Alerts across the fleet: bamon's Alertmanager channel on every host posts to one real
Alertmanager (Debian 12 prometheus-alertmanager) on the monitor, routed by the shipped
contrib/alertmanager/alertmanager.yml (waits shortened), which groups by alertname and check.
The same check failing on five hosts reaches the receiver as ONE notification naming all five
hosts; their recovery resolves it (in one notification, or a few when the hosts recover across
group intervals). A silence on a tag, made with amtool as docs/fleet.md shows it, covers every
host: their alerts are kept as suppressed and nobody is told.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

from fleetsim import FAIL_FLAG, GROUP_WAIT, PROBE, Fleet, Host
from nspawn import wait_for
from promstack import get_json

# docs/fleet.md's silence of every check tagged `web` across the fleet, here for the probe's tag
FLEET_SILENCE = ['tags=~"(.*,)?probe(,.*)?"', "source=bamon"]


def notifications(fleet: Fleet, status: str) -> list[dict[str, Any]]:
    """Webhook bodies Alertmanager sent for the probe's group, with this status."""
    assert fleet.hook is not None
    return [b for b in fleet.hook.bodies if b["groupLabels"].get("check") == PROBE and b["status"] == status]


def active_hosts(fleet: Fleet) -> set[str]:
    alerts = get_json(f"{fleet.alertmanager}/api/v2/alerts?active=true&silenced=false&inhibited=false")
    return {a["labels"]["host"] for a in alerts if a["labels"].get("check") == PROBE}


def test_one_check_failing_on_five_hosts_is_one_grouped_notification_and_recovery_resolves_it(
        fleet: Fleet) -> None:
    five: list[Host] = fleet.hosts[:5]
    names = {h.name for h in five}
    assert notifications(fleet, "firing") == [] and active_hosts(fleet) == set()

    fleet.each(five, lambda h: h.run(["touch", FAIL_FLAG]))
    [first] = wait_for(lambda: notifications(fleet, "firing"), 90, 0.5, "Alertmanager's notification")
    firing = [a for a in first["alerts"] if a["status"] == "firing"]
    assert {a["labels"]["host"] for a in firing} == names, first
    assert len(firing) == 5 and first["commonLabels"]["check"] == PROBE
    assert first["commonLabels"]["alertname"] == "BamonCheckFailed"
    assert first["receiver"] == "ops-pager"  # the example's route for severity critical
    assert active_hosts(fleet) == names  # the other fifteen hosts are quiet

    # While the five keep failing (each runs the probe every few seconds), nothing more is sent.
    time.sleep(GROUP_WAIT * 2 + 2)
    assert len(notifications(fleet, "firing")) == 1, notifications(fleet, "firing")

    assert fleet.hook is not None
    sent = len(fleet.hook.bodies)
    fleet.each(five, lambda h: h.run(["rm", FAIL_FLAG]))
    wait_for(lambda: not active_hosts(fleet), 90, 0.5, "the five alerts to be resolved")
    wait_for(lambda: notifications(fleet, "resolved"), 60, 0.5, "the group's resolved notification")
    # Hosts that recover between two group intervals are told together; one that recovers
    # later comes in the next notification (Alertmanager sends each resolution once), so the
    # five may take more than one notification. Every one is there, resolved, and the group
    # ends with a notification whose status is resolved.
    after = [b for b in fleet.hook.bodies[sent:] if b["groupLabels"].get("check") == PROBE]
    told = {a["labels"]["host"] for b in after for a in b["alerts"] if a["status"] == "resolved"}
    assert told == names, after
    assert after[-1]["status"] == "resolved" and len(after) <= 5, after


def amtool(fleet: Fleet, *args: str) -> str:
    return subprocess.run(["amtool", f"--alertmanager.url={fleet.alertmanager}", *args], check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()


def test_a_silence_on_a_tag_covers_every_host(fleet: Fleet) -> None:
    three: list[Host] = fleet.hosts[5:8]
    names = {h.name for h in three}
    assert fleet.hook is not None
    sent = len(fleet.hook.bodies)
    silence = amtool(fleet, "silence", "add", *FLEET_SILENCE, "--duration=10m", "--comment=probe maintenance")
    assert re.fullmatch(r"[0-9a-f-]{36}", silence), silence
    try:
        fleet.each(three, lambda h: h.run(["touch", FAIL_FLAG]))

        def suppressed() -> set[str] | None:
            alerts = get_json(f"{fleet.alertmanager}/api/v2/alerts")  # every state
            held = {a["labels"]["host"] for a in alerts if a["labels"].get("check") == PROBE
                    and a["status"]["state"] == "suppressed" and silence in a["status"]["silencedBy"]}
            return held if held == names else None

        wait_for(suppressed, 90, 0.5, "the three hosts' alerts, held by the silence")
        assert active_hosts(fleet) == set()  # nothing unsilenced
        time.sleep(GROUP_WAIT * 2 + 2)  # a group's first notification would have gone by now
        told = [b for b in fleet.hook.bodies[sent:] if b["groupLabels"].get("check") == PROBE]
        assert told == [], told

        fleet.each(three, lambda h: h.run(["rm", FAIL_FLAG]))

        def resolved() -> bool:
            alerts = get_json(f"{fleet.alertmanager}/api/v2/alerts")  # resolved ones are not listed
            return not any(a["labels"].get("check") == PROBE and a["labels"]["host"] in names for a in alerts)

        wait_for(resolved, 90, 0.5, "the three alerts to be resolved by the recoveries")
    finally:
        fleet.each(three, lambda h: h.run(["rm", "-f", FAIL_FLAG]))
        amtool(fleet, "silence", "expire", silence)
    # a silenced episode that ended is not told afterwards either (nobody heard it begin)
    assert [b for b in fleet.hook.bodies[sent:] if b["groupLabels"].get("check") == PROBE] == []
