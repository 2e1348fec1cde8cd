"""Alerts across the fleet: bamon's Alertmanager channel on every host posts to one real
Alertmanager (Debian 12 prometheus-alertmanager) on the monitor, routed by the shipped
contrib/alertmanager/alertmanager.yml (waits shortened), which groups by alertname and check.
The same check failing on five hosts reaches the receiver as ONE notification naming all five
hosts; their recovery resolves it (in one notification, or a few when the hosts recover across
group intervals).
"""

from __future__ import annotations

import time
from typing import Any

from fleetsim import FAIL_FLAG, GROUP_WAIT, PROBE, Fleet, Host
from nspawn import wait_for
from promstack import get_json


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
