"""The fleet from one host's side, on a real Debian 12 container:

- its run records and audit entries, sent by the real systemd-journal-upload to the real
  systemd-journal-remote (Debian 12's systemd-journal-remote package, inside the container),
  are read back from the received directory with `bamon history/log --journal-dir DIR --host H`;
- a real Prometheus (on the host) scraping the host's bamon metrics (the textfile through a real
  node_exporter) is what `bamon fleet status` shows, failures first; when the scrape stops, the
  host's rows turn STALE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from nspawn import HOSTNAME, Container
from promstack import free_port, server, wait
from support import bamon, install_packages, wait_status

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "fleet-status.schema.json").read_text())
AUDIT_ID = "f84e75758ce842fcaa04acb843d014d6"
REMOTE_DIR = "/var/log/journal/remote"


@pytest.fixture
def checks(container: Container) -> Iterator[None]:
    bamon(container, "add", "fl_ok", "-c", "echo all fine", "-i", "2s")
    bamon(container, "add", "fl_bad", "-c", "echo disk on fire; exit 3", "-i", "2s")
    wait_status(container, "fl_ok", "OK")
    wait_status(container, "fl_bad", "FAILED")
    container.wait_for(lambda: wait_status(container, "fl_bad", "FAILED")["consecutiveFailures"] >= 2,
                       30, 0.5, "two failures of fl_bad")
    yield
    for name in ("fl_ok", "fl_bad"):
        bamon(container, "remove", "-f", name)


def test_journal_upload_to_journal_remote_then_history_and_log_read_it(container: Container, checks: None) -> None:
    install_packages(container, "systemd-journal-remote", "libmicrohttpd12")
    port = free_port()
    container.run(["mkdir", "-p", REMOTE_DIR])
    container.run(["systemd-run", "--unit=fleet-journal-remote", "--", "/lib/systemd/systemd-journal-remote",
                   f"--listen-http={port}", f"--output={REMOTE_DIR}/"])
    try:
        wait("journal-remote listening", lambda: container.run(
            ["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"], check=False).returncode == 0)
        upload = container.run(["/lib/systemd/systemd-journal-upload", f"--url=http://127.0.0.1:{port}",
                                "--follow=no", "--save-state=/run/fleet-upload-state"], check=False)
        assert upload.returncode == 0, upload.stdout + upload.stderr
    finally:
        container.run(["systemctl", "stop", "fleet-journal-remote"], check=False)
    received = container.run(["ls", REMOTE_DIR]).stdout.split()
    assert received and all(name.endswith(".journal") for name in received), received

    def history(host: str, name: str) -> list[dict[str, Any]]:
        out = bamon(container, "history", "--journal-dir", REMOTE_DIR, "--host", host, name, "--json")
        runs: list[dict[str, Any]] = json.loads(out)["runs"]
        return runs

    bad = history(HOSTNAME, "fl_bad")
    assert len(bad) >= 2 and all((r["status"], r["exitCode"], r["output"]) == ("FAILED", 3, ["disk on fire"])
                                 for r in bad), bad[:3]
    assert {r["status"] for r in history(HOSTNAME, "fl_ok")} == {"OK"}
    assert history("another-host", "fl_bad") == []
    log = bamon(container, "log", "--journal-dir", REMOTE_DIR, "--host", HOSTNAME, "fl_bad", "-n", "20")
    assert "disk on fire" in log
    # the audit trail travels too: who added fl_bad, with the entry
    audit = container.run(["journalctl", f"--directory={REMOTE_DIR}", "-o", "json", f"MESSAGE_ID={AUDIT_ID}",
                           f"_HOSTNAME={HOSTNAME}"]).stdout
    assert any("fl_bad" in line for line in audit.splitlines())
    missing = container.run(["bamon", "history", "--journal-dir", "/nonexistent", "fl_bad"], check=False)
    assert missing.returncode != 0 and "no such directory" in missing.stderr and "Traceback" not in missing.stderr


PROMETHEUS = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: bamon
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"


def fleet(container: Container, base: str) -> dict[str, Any]:
    out = container.run(["bamon", "fleet", "status", "--prometheus", base, "--json"]).stdout
    document: dict[str, Any] = json.loads(out)
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    return document


def test_fleet_status_reads_the_hosts_checks_from_prometheus_and_a_silent_host_turns_stale(
        container: Container, checks: None, tmp_path: Path) -> None:
    container.run(["mkdir", "-p", TEXTFILE_DIR])
    exporter_port = free_port()
    target = f"127.0.0.1:{exporter_port}"
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS.format(port=exporter_port))
    with ExitStack() as stack:
        exporter = stack.enter_context(ExitStack())  # closed on its own below: the host falls silent
        exporter.enter_context(server("prometheus-node-exporter", [
            f"--web.listen-address={target}", "--collector.disable-defaults", "--collector.textfile",
            f"--collector.textfile.directory={container.path(TEXTFILE_DIR)}"], exporter_port, tmp_path, "/metrics"))
        prometheus_port = free_port()  # after the exporter took its port: free_port reserves nothing
        base = stack.enter_context(server("prometheus", [
            f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}"], prometheus_port, tmp_path, "/-/ready"))

        def ours(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
            return {r["check"]: r for r in doc["rows"] if r["instance"] == target and r["check"].startswith("fl_")}

        def settled() -> dict[str, dict[str, Any]] | None:
            # a 2 s check is RUNNING now and then: the textfile is written again until it caught both at rest
            container.run(["systemctl", "start", "bamon.metrics.service"])
            found = ours(fleet(container, base))
            return found if {k: r["status"] for k, r in found.items()} == {"fl_ok": "OK", "fl_bad": "FAILED"} else None

        rows = wait("both checks in bamon fleet status", settled)
        assert (rows["fl_bad"]["status"], rows["fl_bad"]["reason"], rows["fl_bad"]["exitCode"]) == \
            ("FAILED", "exit code 3", 3)
        assert rows["fl_ok"]["status"] == "OK" and rows["fl_ok"]["lastRun"] is not None
        document = fleet(container, base)
        assert document["rows"][0]["failing"]  # failures first
        # fl_bad may be caught RUNNING by now (it runs every 2 s): still listed, as a check whose last run failed
        table = container.run(["bamon", "fleet", "status", "--prometheus", base, "--failed-only"]).stdout
        assert "fl_bad" in table and "fl_ok" not in table

        exporter.close()  # the host stops answering its scrapes
        stale = wait("the host's rows STALE", lambda: (
            found := ours(fleet(container, base))) and all(r["status"] == "STALE" for r in found.values()) and found,
            timeout=15)
        assert stale["fl_bad"]["lastStatus"] == "FAILED" and stale["fl_ok"]["lastStatus"] == "OK"
        assert stale["fl_bad"]["reason"].startswith("scrape failing (up == 0)")
        host = next(h for h in fleet(container, base)["hosts"] if h["instance"] == target)
        assert host["stale"] and host["lastScrape"] is not None
