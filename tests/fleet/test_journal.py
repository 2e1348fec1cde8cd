"""Central logs: systemd-journal-upload on every host sends its journal to systemd-journal-remote
on the monitor (Debian 12 packages; plain HTTP on the tier's private bridge). On the monitor,
`bamon history --journal-dir DIR --host H NAME` reads every host's run records from there,
complete (each run the host's own `bamon history` lists is in the central one), and `bamon log`
reads their output.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from fleetsim import REMOTE_DIR, STEADY, Fleet, Host
from nspawn import wait_for


def runs(host: Host, *central: str) -> dict[str, dict[str, Any]]:
    """{invocation id: run} of `bamon history STEADY --json` on host (with central's options)."""
    out = host.bamon("history", STEADY, "--json", "--since", "1h", *central)
    return {r["invocationId"]: r for r in json.loads(out)["runs"]}


def central_runs(fleet: Fleet, host: Host) -> dict[str, dict[str, Any]]:
    assert fleet.monitor is not None
    return runs(fleet.monitor, "--journal-dir", REMOTE_DIR, "--host", host.name)


def arrived(fleet: Fleet, host: Host, local: set[str]) -> bool:
    return local <= set(central_runs(fleet, host))


def test_every_hosts_run_records_are_read_from_the_central_journal(fleet: Fleet) -> None:
    assert fleet.monitor is not None
    for host in fleet.hosts:
        local = runs(host)
        assert local, f"{host.name} has no runs of {STEADY} yet"
        assert all(r["status"] == "OK" for r in local.values())
        wait_for(partial(arrived, fleet, host, set(local)), 60, 1,
                 f"every run of {STEADY} that {host.name} recorded in the central journal")
    first, second = fleet.hosts[0], fleet.hosts[1]
    mine, theirs = central_runs(fleet, first), central_runs(fleet, second)
    assert not set(mine) & set(theirs)  # --host keeps each host's runs apart
    assert all(r["status"] == "OK" and r["exitCode"] == 0 for r in mine.values())
    # the monitor's own journal has no such runs: the monitor has no checks
    assert json.loads(fleet.monitor.bamon("history", STEADY, "--json", "--journal-dir", REMOTE_DIR,
                                          "--host", "fleet-mon"))["runs"] == []


def test_bamon_log_reads_a_hosts_output_from_the_central_journal(fleet: Fleet) -> None:
    assert fleet.monitor is not None
    host = fleet.hosts[-1]
    out = fleet.monitor.bamon("log", STEADY, "--journal-dir", REMOTE_DIR, "--host", host.name, "-n", "20")
    said = {line.split("steady on ", 1)[1].strip() for line in out.splitlines() if "steady on " in line}
    assert said == {host.name}, out  # that host's output, and only that host's
