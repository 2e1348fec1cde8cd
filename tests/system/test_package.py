"""The .deb as a package: install enables bamon.target, purge removes units, state and accounts.

Uses a container of its own, since purging would take bamon away from the other tests.
"""

from __future__ import annotations

from nspawn import Container
from support import bamon, unit_exists, wait_status


def test_install_enables_target_and_purge_removes_everything(own_container: Container) -> None:
    box = own_container
    assert box.run("systemctl is-enabled bamon.target").stdout.strip() == "enabled"
    assert box.run("systemctl is-active bamon.target").stdout.strip() == "active"
    assert box.run("dpkg-query -W -f='${Conffiles}' bamon").stdout.strip().startswith("/etc/bamon/config.yaml")
    bamon(box, "add", "pkgcheck", "-c", "echo packaged", "-i", "2s")
    wait_status(box, "pkgcheck", "OK", timeout=20)

    # the accounts the package's sysusers.d file declares (none before the sandbox user lands)
    accounts = box.run("awk '$1 == \"u\" || $1 == \"g\" {print $2}' /usr/lib/sysusers.d/bamon.conf 2>/dev/null",
                       check=False).stdout.split()
    for account in accounts:
        assert box.run(["getent", "passwd", account], check=False).returncode == 0 or \
            box.run(["getent", "group", account], check=False).returncode == 0

    box.run(["apt-get", "purge", "-y", "bamon"], env={"DEBIAN_FRONTEND": "noninteractive"})
    for account in accounts:
        assert box.run(["getent", "passwd", account], check=False).returncode != 0, account
        assert box.run(["getent", "group", account], check=False).returncode != 0, account
    assert not unit_exists(box, "bamon-pkgcheck.service")
    assert not unit_exists(box, "bamon-disk_root.timer")
    assert not unit_exists(box, "bamon.target")
    for path in ("/var/lib/bamon", "/etc/bamon", "/run/systemd/generator/bamon-*", "/etc/systemd/system/bamon*",
                 "/usr/share/man/man1/bamon.1.gz", "/usr/share/bash-completion/completions/bamon"):
        assert box.run(f"ls -d {path} 2>&1", check=False).returncode != 0, path
    assert box.run("systemctl list-units --all --no-legend 'bamon-*'").stdout.strip() == ""
