"""Config to many hosts: contrib/ansible's role configured all twenty hosts when the fleet came
up (Ansible on the machine running the tier, one play over every host at once); applied again
with the same variables it changes nothing on any of them and applies nothing.
"""

from __future__ import annotations

from fleetsim import Fleet


def test_the_role_applied_a_second_time_to_the_fleet_changes_nothing(fleet: Fleet) -> None:
    first = fleet.first_recap
    assert first is not None
    names = {h.name for h in fleet.hosts}
    assert set(first.hosts) == names
    # the package copied, config.yaml and two scripts.d entries written, bamon apply run
    assert all(first.hosts[n]["changed"] >= 4 and first.hosts[n]["failed"] == 0 for n in names), first.output

    second = fleet.apply_role()
    assert set(second.hosts) == names
    assert {n: second.hosts[n]["changed"] for n in names} == dict.fromkeys(names, 0), second.output
    assert all(second.hosts[n]["failed"] == 0 and second.hosts[n]["unreachable"] == 0 for n in names)
    assert "RUNNING HANDLER" not in second.output
