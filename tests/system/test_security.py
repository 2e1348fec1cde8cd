"""Security under the real systemd: exposure scores, per-check sandbox overrides, journald's
Forward Secure Sealing of the audit trail, and the compliance report of a weakened setup.

`bamon security` must say what `systemd-analyze security` says about the same units; a sealed
journal must verify with the key `bamon audit seal` printed and stop verifying once one byte
of it changes; the compliance report must validate against docs/compliance.schema.json and
fail exactly the controls the test weakens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from alert_receiver import free_port
from conftest import REPO, installed
from nspawn import Container
from support import bamon, output_text, wait_status

SCHEMA = json.loads((REPO / "docs" / "compliance.schema.json").read_text())
_OVERALL = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+) ([A-Z]+)")


def analyze(box: Container, unit: str) -> tuple[float, str, dict[str, float]]:
    """systemd-analyze security of one unit, read here on its own: (score, level, {open item: exposure})."""
    out = box.run(["systemd-analyze", "security", "--no-pager", unit], env={"LC_ALL": "C"}).stdout
    match = _OVERALL.search(out)
    assert match and match[1] == unit, out[-500:]
    items = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "-" and re.fullmatch(r"\d+\.\d", fields[-1]):
            items[fields[1]] = float(fields[-1])
    return float(match[2]), match[3], items


def add_file(box: Container, name: str, body: str) -> None:
    box.path(f"/etc/bamon/scripts.d/{name}.yaml").write_text(f"name: {name}\ninterval: 1h\n{body}")


def report(box: Container) -> dict[str, Any]:
    done = box.run(["bamon", "compliance", "report", "--format", "json"], check=False)
    assert done.returncode in (0, 1), done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert done.returncode == (1 if doc["summary"]["fail"] else 0)
    return doc


def controls(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in doc["controls"]}


def test_security_scores_are_systemds_and_overrides_close_items(container: Container) -> None:
    add_file(container, "sec_plain", 'command: "grep -c : /proc/net/dev"\n')
    add_file(container, "sec_strict", 'command: "true"\nsandbox: strict\n')
    add_file(container, "sec_root", 'command: "true"\nsandbox: minimal\n')
    add_file(container, "sec_offline", 'command: "grep -c : /proc/net/dev"\n'
                                       "sandbox: {profile: balanced, PrivateNetwork: true, IPAddressDeny: [any]}\n")
    try:
        bamon(container, "apply")
        names = ("sec_plain", "sec_strict", "sec_root", "sec_offline")
        doc = json.loads(bamon(container, "security", "--json"))
        ours = {c["name"]: c for c in doc["checks"] if c["name"] in names}
        assert set(ours) == set(names)
        for name in names:
            score, level, items = analyze(container, f"bamon-{name}.service")
            assert (ours[name]["score"], ours[name]["level"]) == (score, level), name
            top = ours[name]["top"]
            assert len(top) == 3
            # the three biggest open items, with systemd's own exposure for each
            assert all(items[i["setting"]] == i["exposure"] for i in top), (name, top)
            assert [i["exposure"] for i in top] == sorted(items.values(), reverse=True)[:3]
        assert ours["sec_strict"]["score"] < ours["sec_plain"]["score"] < ours["sec_root"]["score"]
        # the overrides close what they name, and systemd rates the check better for it
        _, _, offline_items = analyze(container, "bamon-sec_offline.service")
        _, _, plain_items = analyze(container, "bamon-sec_plain.service")
        assert "PrivateNetwork=" in plain_items and "PrivateNetwork=" not in offline_items
        assert "IPAddressDeny=" in plain_items and "IPAddressDeny=" not in offline_items
        assert ours["sec_offline"]["score"] < ours["sec_plain"]["score"]
        shown = container.run(["systemctl", "show", "-p", "PrivateNetwork", "bamon-sec_offline.service"]).stdout
        assert shown.strip() == "PrivateNetwork=yes"
        # and the check itself sees only its loopback, where the plain one sees the host's interfaces
        container.run(["systemctl", "start", "bamon-sec_offline.service", "bamon-sec_plain.service"])
        assert output_text(wait_status(container, "sec_offline", "OK", with_output=True)) == "1"
        assert int(output_text(wait_status(container, "sec_plain", "OK", with_output=True))) > 1
        # status -v shows the level systemd gives
        verbose = bamon(container, "status", "-v", "-n", "sec_root")
        assert f"exposure: {ours['sec_root']['score']:.1f} {ours['sec_root']['level']}" in verbose
        text = bamon(container, "security", "sec_root")
        for item in ours["sec_root"]["top"]:
            assert f"{item['setting']}  {item['description']}\n        closes with: {item['fix']}" in text
    finally:
        for name in ("sec_plain", "sec_strict", "sec_root", "sec_offline"):
            container.path(f"/etc/bamon/scripts.d/{name}.yaml").unlink(missing_ok=True)
        bamon(container, "apply")


@pytest.fixture(scope="module")
def box(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    """A container of this module's own: its web socket, journal keys and journal files get changed."""
    yield from installed(Container(), bamon_deb, "the security test container")


def test_compliance_report_reflects_a_weakened_setup(box: Container) -> None:
    # from a setup that passes: one check under the default profile (the package's samples
    # include a minimal one, cheap enough for every-second runs)
    box.path("/etc/bamon/config.yaml").write_text('scripts:\n  - {name: good_check, command: "true", interval: 1h}\n')
    bamon(box, "apply")
    before = controls(report(box))
    assert before["checks-sandboxed"]["status"] == "pass", before["checks-sandboxed"]
    assert before["api-exposure"]["status"] == "pass" and before["least-privilege"]["status"] == "pass"
    # weaken it: a check under sandbox minimal (root, unconfined), the API on every address, no accounts
    add_file(box, "weak_check", 'command: "true"\nsandbox: minimal\n')
    port = free_port()
    with box.path("/etc/bamon/config.yaml").open("a") as config:
        config.write(f'\nweb:\n  listen: ["0.0.0.0:{port}"]\n')
    bamon(box, "apply")
    box.run(["systemctl", "enable", "--now", "bamon.web.socket"])
    try:
        box.run(["systemctl", "restart", "bamon.web.socket"])
        after = controls(report(box))
        failing = {k for k, c in after.items() if c["status"] == "fail"}
        assert {"checks-sandboxed", "least-privilege", "api-exposure"} <= failing
        score, level, _ = analyze(box, "bamon-weak_check.service")
        assert f"weak_check: sandbox minimal, exposure {score:.1f} {level}" in after["checks-sandboxed"]["evidence"]
        assert "weak_check: runs as root" in after["least-privilege"]["evidence"]
        assert f"web.listen: 0.0.0.0:{port}" in after["api-exposure"]["evidence"]
        assert all(after[k]["fix"] for k in failing)
        page = box.run(["bamon", "compliance", "report", "--format", "html"], check=False).stdout
        assert "<td class=\"fail\">FAIL</td>" in page and "weak_check" in page
    finally:
        box.run(["systemctl", "disable", "--now", "bamon.web.socket"])


def test_sealed_journal_verifies_and_a_changed_byte_fails(box: Container) -> None:
    box.run("mkdir -p /var/log/journal && systemd-tmpfiles --create --prefix /var/log/journal "
            "&& journalctl --flush")
    assert controls(report(box))["audit-sealed"]["status"] == "fail"
    sealed = box.run(["bamon", "audit", "seal", "--interval", "10s"])
    key = sealed.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{6}(-[0-9a-f]{6})+/[0-9a-f]+-[0-9a-f]+", key), sealed.stdout
    assert "OFF" in sealed.stderr and "bamon keeps no copy" in sealed.stderr
    again = box.run(["bamon", "audit", "seal"], check=False)
    assert again.returncode == 1 and "sealed already" in again.stderr and key not in again.stdout
    assert controls(report(box))["audit-sealed"]["status"] == "pass"

    # an audited change, then a rotation: journald closes (and seals) the file that holds it
    bamon(box, "add", "sealed_probe", "-c", "true", "-i", "1h")
    entries = json.loads(bamon(box, "audit", "--json"))["entries"]
    assert any(e["action"] == "add" and e["check"] == "sealed_probe" and e["user"] == "root" for e in entries)
    box.run(["journalctl", "--rotate"])
    good = box.run(["bamon", "audit", "verify", "--key", key], check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "0 failed: hashes and seals" in good.stdout

    # change one byte of the record in the archived journal file that holds it
    directory = box.run("echo /var/log/journal/$(cat /etc/machine-id)").stdout.strip()
    needle = b"bamon add sealed_probe by root"
    holders = [p for p in box.path(directory).glob("system@*.journal") if needle in p.read_bytes()]
    assert holders, "no archived journal file holds the audit record"
    header = box.run(["journalctl", "--header", f"--file={directory}/{holders[0].name}"]).stdout
    assert re.search(r"Compatible flags:.*SEALED", header), header  # the file holding the record is sealed
    data = bytearray(holders[0].read_bytes())
    at = data.index(needle) + len(b"bamon add ")
    data[at] ^= 0x20  # sealed_probe → Sealed_probe
    holders[0].write_bytes(bytes(data))
    bad = box.run(["bamon", "audit", "verify", "--key", key], check=False)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"FAIL: {directory}/{holders[0].name}" in bad.stdout
    assert "journal verification failed (1 file(s))" in bad.stderr
    report_json = json.loads(box.run(["bamon", "audit", "verify", "--key", key, "--json"], check=False).stdout)
    assert report_json["ok"] is False and report_json["seals_checked"] is True
    assert [f["file"] for f in report_json["files"] if f["result"] == "FAIL"] == [f"{directory}/{holders[0].name}"]
