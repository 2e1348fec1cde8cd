"""The fleet view: `bamon fleet status` on the monitor reads the Prometheus that scrapes every
host's /metrics (fleet.prometheus_url in its config, or --prometheus): every host × check with its
state, failures first; a host that stops reporting turns STALE within two scrape intervals.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fleetsim import FAIL_FLAG, PROBE, SCRAPE_INTERVAL, STEADY, Fleet
from nspawn import wait_for


def fleet_status(fleet: Fleet, *args: str) -> dict[str, Any]:
    assert fleet.monitor is not None
    doc: dict[str, Any] = json.loads(fleet.monitor.bamon("fleet", "status", "--json", *args))
    return doc


def rows(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["host"], r["check"]): r for r in doc["rows"]}


def failed_on(fleet: Fleet, names: set[str]) -> dict[str, Any] | None:
    doc = fleet_status(fleet, "--failed-only")
    return doc if {r["host"] for r in doc["rows"]} == names else None


def test_every_hosts_checks_appear_in_fleet_status(fleet: Fleet) -> None:
    names = {h.name for h in fleet.hosts}
    doc = fleet_status(fleet)  # fleet.prometheus_url of the monitor's config
    assert doc["prometheus"] == fleet.prometheus
    assert {h["host"] for h in doc["hosts"]} == names
    assert not any(h["stale"] for h in doc["hosts"]) and all(h["checks"] == 2 for h in doc["hosts"])
    found = rows(doc)
    assert set(found) == {(n, c) for n in names for c in (STEADY, PROBE)}
    # the probe runs every few seconds: a scrape may catch it RUNNING, its last run's OK beside it
    assert all(r["status"] in ("OK", "RUNNING") and r["lastStatus"] in ("OK", "RUNNING")
               and r["exitCode"] == 0 and r["lastRun"] for r in found.values()), found
    # the steady check runs every 10 s: a scrape can catch one of twenty hosts inside a run, too;
    # it is told apart from the probe by reading OK on every host in some scrape
    wait_for(lambda: {r["status"] for (_, check), r in rows(fleet_status(fleet)).items() if check == STEADY} == {"OK"},
             30, 1, f"{STEADY} to read OK on every host in one scrape")

    text = fleet.monitor.bamon("fleet", "status", "--prometheus", fleet.prometheus)  # the flag instead of the config
    assert all(n in text for n in names)

    # two hosts fail their probe: only they are listed with --failed-only, FAILED first
    two = fleet.hosts[6:8]
    fleet.each(two, lambda h: h.run(["touch", FAIL_FLAG]))
    try:
        doc = wait_for(lambda: failed_on(fleet, {h.name for h in two}), 30, 1, "the two failing hosts")
        # a scrape inside a run reads RUNNING: such a row is still failing (its last run did), so it stays
        assert [(r["check"], r["failing"], r["exitCode"]) for r in doc["rows"]] == [(PROBE, True, 3)] * 2
        assert {r["status"] for r in doc["rows"]} <= {"FAILED", "RUNNING"}
        everything = fleet_status(fleet)["rows"]
        assert [r["failing"] for r in everything[:2]] == [True, True]  # failures first
    finally:
        fleet.each(two, lambda h: h.run(["rm", "-f", FAIL_FLAG]))
    wait_for(lambda: failed_on(fleet, set()), 30, 1, "the two hosts to recover")


def test_a_stopped_host_is_stale_within_two_scrape_intervals(fleet: Fleet) -> None:
    gone, others = fleet.hosts[-1], {h.name for h in fleet.hosts[:-1]}
    before = fleet_status(fleet)
    assert not any(h["stale"] for h in before["hosts"])
    gone.box.shutdown()
    stopped = time.monotonic()
    while True:
        asked = time.monotonic()
        doc = fleet_status(fleet)
        hosts = {h["host"]: h for h in doc["hosts"]}
        if hosts[gone.name]["stale"]:
            break
        assert asked - stopped < 60, f"{gone.name} still not stale a minute after it stopped"
        time.sleep(0.2)
    print(f"{gone.name} STALE in the `bamon fleet status` started {asked - stopped:.1f} s after it stopped")
    assert asked - stopped <= 2 * SCRAPE_INTERVAL, f"stale only {asked - stopped:.1f} s after it stopped"
    assert hosts[gone.name]["staleReason"]
    mine = [r for r in doc["rows"] if r["host"] == gone.name]
    assert {(r["check"], r["status"], r["lastStatus"]) for r in mine} == {
        (STEADY, "STALE", "OK"), (PROBE, "STALE", "OK")}
    assert not any(hosts[n]["stale"] for n in others)
