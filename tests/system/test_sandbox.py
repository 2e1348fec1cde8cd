"""Sandbox profiles under the real systemd: who a check runs as, what it may touch, its network.

The default profile (balanced) runs checks as the system user bamon, which the package creates
(sysusers.d) as a member of systemd-journal and adm. These tests add checks with `bamon add` or a
scripts.d file, as an operator would, and judge them by what the checks themselves report.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import installed
from nspawn import Container, wait_for
from support import bamon, history_runs, output_text, status, wait_status

HTTP_PORT = 18163  # the container shares the host's network: a port in the tests' range
PROFILE_GOALS = {"balanced": 4.0, "strict": 2.5}


def output_of(box: Container, name: str) -> str:
    """Everything the check's last run printed, as bamon reads it: the lines of the check's stream
    up to its run record. (Not by _SYSTEMD_INVOCATION_ID: journald 252 can leave the id off a
    short run's last lines, which it reads after the process ended; CI lost a third line so.)"""
    runs = history_runs(box, name, "-n", "1")
    return "".join(f"{line}\n" for line in runs[0]["output"]) if runs else ""


def printed(box: Container, name: str, text: str) -> str:
    """The last run's journal once it holds `text` (journald files a run's output a moment late)."""
    def found() -> str | None:
        out = output_of(box, name)
        return out if text in out else None
    result: str = box.wait_for(found, 10, 0.5, f"{text!r} in the output of {name}")
    return result


def settled(box: Container, name: str, want: str, timeout: float = 30, with_output: bool = True) -> dict[str, Any]:
    """wait_status, but a timeout shows what the check last did (status and journal)."""
    try:
        return wait_status(box, name, want, timeout=timeout, with_output=with_output)
    except TimeoutError as exc:
        journal = box.run(["journalctl", "-u", f"bamon-{name}", "-o", "cat", "--no-pager"], check=False).stdout
        raise AssertionError(f"{exc}; status: {status(box, name)}\njournal:\n{journal[-3000:]}") from None


def add_file(box: Container, name: str, yaml: str) -> None:
    """A scripts.d file written by hand, then `bamon apply`: keys `bamon add` has no flag for."""
    box.path(f"/etc/bamon/scripts.d/{name}.yaml").write_text(f"name: {name}\ninterval: 1h\n{yaml}")
    bamon(box, "apply")
    box.run(["systemctl", "start", "--no-block", f"bamon-{name}.service"])


def test_the_package_creates_the_bamon_user_in_the_journal_and_adm_groups(container: Container) -> None:
    groups = container.run("id -nG bamon").stdout.split()
    assert {"bamon", "systemd-journal", "adm"} <= set(groups)
    assert container.run("getent passwd bamon").stdout.split(":")[6].strip() == "/usr/sbin/nologin"


def test_a_default_check_runs_as_bamon_confined_to_its_state_directory(container: Container) -> None:
    probe = (
        'id -un; '
        'touch /etc/bamon/probe 2>/dev/null && echo WROTE-etc; '
        'touch /var/lib/bamon/probe 2>/dev/null && echo WROTE-var-lib-bamon; '
        'touch /root/probe 2>/dev/null && echo WROTE-root; '
        'touch /usr/bin/probe 2>/dev/null && echo WROTE-usr; '
        'echo mine > "$STATE_DIRECTORY/probe" && echo state-ok; '
        'journalctl -q -n 1 --no-pager >/dev/null && echo journal-ok; '
        'grep CapEff /proc/self/status'
    )
    bamon(container, "add", "confined", "-c", probe, "-i", "1h")
    wait_status(container, "confined", "OK", with_output=True)
    out = output_of(container, "confined")
    assert "\nbamon\n" in f"\n{out}"
    assert "WROTE" not in out
    assert "state-ok" in out and "journal-ok" in out
    assert "CapEff:\t0000000000000000" in out
    # owned by the check's user, readable by `bamon status` of any user and by dependent checks
    assert container.run("stat -c '%U %a' /var/lib/bamon/checks/confined/last").stdout.strip() == "bamon 644"
    bamon(container, "remove", "-f", "confined")


def test_user_root_reads_what_the_default_user_cannot(container: Container) -> None:
    bamon(container, "add", "shadow_default", "-c", "head -c 0 /etc/shadow", "-i", "1h")
    bamon(container, "add", "shadow_root", "-c", "head -c 0 /etc/shadow && id -u", "-i", "1h", "--user", "root")
    wait_status(container, "shadow_default", "FAILED", with_output=True)
    assert "Permission denied" in output_of(container, "shadow_default")
    wait_status(container, "shadow_root", "OK", with_output=True)
    assert status(container, "shadow_root")["output"] == "0"
    notes = container.run(["bamon", "config", "validate", "--run-as"]).stdout
    assert "shadow_root" in container.run(["bamon", "config", "validate"]).stderr  # "runs as root (user: root)…"
    assert "runs as bamon:" in notes and "shadow_default (balanced)" in notes
    for name in ("shadow_default", "shadow_root"):
        bamon(container, "remove", "-f", name)


def test_state_file_stays_writable_for_bamon_after_the_notifier_records_a_timeout(container: Container) -> None:
    bamon(container, "add", "slow_bamon", "-c", "sleep 30", "-i", "1h", "-t", "1")
    wait_for(lambda: status(container, "slow_bamon")["failureReason"] == "timeout", 40, 0.5, "the timeout record")
    owner = container.run("stat -c %U /var/lib/bamon/checks/slow_bamon/last").stdout.strip()
    assert owner == "bamon"
    # the next run (as bamon) rewrites the file the notifier (root) wrote
    container.path("/etc/bamon/scripts.d/slow_bamon.yaml").write_text(
        "name: slow_bamon\ncommand: echo quick\ninterval: 1h\n")
    bamon(container, "apply")
    container.run("systemctl start bamon-slow_bamon.service")
    wait_status(container, "slow_bamon", "OK")
    bamon(container, "remove", "-f", "slow_bamon")


def test_capabilities_are_granted_to_an_unprivileged_check(container: Container) -> None:
    add_file(container, "raw", "command: grep CapEff /proc/self/status\ncapabilities: [CAP_NET_RAW]\n")
    wait_status(container, "raw", "OK", with_output=True)
    assert status(container, "raw")["output"] == "CapEff:\t0000000000002000"  # bit 13, CAP_NET_RAW
    bamon(container, "remove", "-f", "raw")


def test_strict_makes_the_file_system_read_only_except_read_write_paths(container: Container) -> None:
    container.run("install -d -o bamon /srv/rw")
    command = ("command: |\n  touch /srv/rw/ok && echo rw-ok\n"
               "  touch /var/tmp/x && echo tmp-ok\n  touch /srv/elsewhere 2>&1 || true\n")
    add_file(container, "strict_rw", command + "sandbox: strict\nread_write_paths: [/srv/rw]\n")
    wait_status(container, "strict_rw", "OK", with_output=True)
    out = output_of(container, "strict_rw")
    assert "rw-ok" in out and "tmp-ok" in out and "Read-only file system" in out
    assert container.run("test -e /srv/rw/ok && ! test -e /var/tmp/x", check=False).returncode == 0
    bamon(container, "remove", "-f", "strict_rw")


@pytest.mark.parametrize("profile", ["minimal", "balanced", "strict"])
def test_exposure_of_each_profile_is_within_its_goal_and_as_documented(container: Container, profile: str) -> None:
    """systemd's own rating of the generated units (a check of `true` as bamon and as root)."""
    from bamon.units.hardening import EXPOSURE  # the figures `bamon config validate` quotes

    scores = []
    for user in ("", "user: root\n"):
        name = f"exposure_{profile}{'_root' if user else ''}"
        container.path(f"/etc/bamon/scripts.d/{name}.yaml").write_text(
            f"name: {name}\ncommand: 'true'\nenabled: false\nsandbox: {profile}\n{user}")
        bamon(container, "apply")
        out = container.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                             f"/run/systemd/generator/bamon-{name}.service"], check=False).stdout
        found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
        assert found, out
        scores.append(float(found.group(1)))
        bamon(container, "remove", "-f", name)
    assert tuple(scores) == EXPOSURE[profile]
    if profile in PROFILE_GOALS:
        assert scores[0] <= PROFILE_GOALS[profile]


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    """An HTTP server on every address of the host (and so of the container): its other IP."""
    server = http.server.ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
        address = s.getsockname()[0]
    assert not address.startswith("127."), "the host needs a non-loopback IPv4 address for this test"
    try:
        yield address
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def bpf_container(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    """A container whose systemd may use BPF, as on a real host: IPAddressDeny= needs it.

    nspawn's default system call filter refuses bpf(), and systemd then ignores IPAddressDeny=.
    """
    yield from installed(Container(nspawn_args=["--system-call-filter=bpf"]), bamon_deb, "a container with bpf()")


def test_network_none_fails_a_curl_check_with_a_clear_reason(bpf_container: Container, http_server: str) -> None:
    box = bpf_container
    bamon(box, "add", "offline", "-c", f"curl -fsS -o /dev/null http://127.0.0.1:{HTTP_PORT}/", "-i", "1h",
          "--network", "none")
    entry = settled(box, "offline", "FAILED")
    assert entry["exitCode"] == 7  # curl: could not connect
    out = output_of(box, "offline")
    assert "Failed to connect to 127.0.0.1" in out
    assert "bamon: this check has no network (network: none" in out
    assert "network: none" in output_text(entry).splitlines()[-1]  # the reason is the last line bamon status shows
    bamon(box, "remove", "-f", "offline")


def test_network_localhost_reaches_127_0_0_1_only(bpf_container: Container, http_server: str) -> None:
    box = bpf_container
    local = f"curl -fsS -o /dev/null http://127.0.0.1:{HTTP_PORT}/"
    other = f"curl -fsS --max-time 3 -o /dev/null http://{http_server}:{HTTP_PORT}/"
    bamon(box, "add", "any_net", "-c", f"{local} && {other} && echo both", "-i", "1h")
    bamon(box, "add", "local_net", "-c", f"{local} && ! {other} && echo local-only", "-i", "1h",
          "--network", "localhost")
    # judged by the journal of the run itself: what it printed, not how `bamon status` shows it
    settled(box, "any_net", "OK", with_output=False)
    printed(box, "any_net", "both")
    settled(box, "local_net", "OK", timeout=40, with_output=False)
    output = printed(box, "local_net", "local-only")
    # systemd's BPF filter drops the packets to any other address: the connection times out
    assert "timed out" in output
    for name in ("any_net", "local_net"):
        bamon(box, "remove", "-f", name)

