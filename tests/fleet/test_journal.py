"""Central logs: systemd-journal-upload on every host sends its journal to systemd-journal-remote
on the monitor (Debian 12 packages; plain HTTP on the tier's private bridge). Every host's run
records arrive there, complete: each run the host's own journal has by a moment is also in the
central one, with the host's name on it.
"""

from __future__ import annotations

from functools import partial

from fleetsim import REMOTE_DIR, STEADY, Fleet, Host, remote_records
from nspawn import wait_for


def local_invocations(host: Host) -> set[str]:
    out = host.run(["journalctl", "--no-pager", "-o", "cat", f"SYSLOG_IDENTIFIER=bamon-{STEADY}",
                    "--grep=^bamon-run ", "--case-sensitive=yes"], check=False)
    return {field.split("=", 1)[1] for line in out.splitlines() for field in line.split()
            if field.startswith("invocation=")}


def remote_invocations(fleet: Fleet, host: Host) -> set[str]:
    assert fleet.monitor is not None
    return {field.split("=", 1)[1] for line in remote_records(fleet.monitor, host.name, STEADY)
            for field in line.split() if field.startswith("invocation=")}


def arrived(fleet: Fleet, host: Host, runs: set[str]) -> bool:
    return runs <= remote_invocations(fleet, host)


def test_every_hosts_run_records_reach_the_central_journal(fleet: Fleet) -> None:
    assert fleet.monitor is not None
    for host in fleet.hosts:
        wait_for(partial(remote_records, fleet.monitor, host.name, STEADY), 60, 1,
                 f"{host.name}'s run records in {REMOTE_DIR}")
    for host in fleet.hosts:
        before = local_invocations(host)
        assert before, f"{host.name} has no runs of {STEADY} in its own journal"
        wait_for(partial(arrived, fleet, host, before), 60, 1,
                 f"every run {host.name} recorded so far in the central journal")
    records = remote_records(fleet.monitor, fleet.hosts[0].name, STEADY)
    assert all("result=success" in r and "exit_status=0" in r for r in records), records
