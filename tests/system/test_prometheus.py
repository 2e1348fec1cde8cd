"""A real Prometheus (Debian 12 `prometheus`) scrapes bamon's metrics through a real
node_exporter's textfile collector (`prometheus-node-exporter`), both started by the test on the
host's loopback. The textfile is written inside the container by bamon.metrics.service, the
unit bamon.metrics.timer runs; node_exporter reads it through the container's root.

Shown: the query API returns bamon_check_up 1 for a passing check and 0 for a failing one, with
its exit status, consecutive failures and counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nspawn import Container
from promstack import free_port, get_json, server, wait
from support import bamon, wait_status

TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
PROMETHEUS = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: bamon
    static_configs: [{{targets: ["127.0.0.1:{port}"], labels: {{host: test-box}}}}]
"""


@pytest.fixture
def checks(container: Container) -> Iterator[None]:
    bamon(container, "add", "prom_ok", "-c", "echo fine", "-i", "2s")
    bamon(container, "add", "prom_bad", "-c", "echo broken; exit 2", "-i", "2s")
    wait_status(container, "prom_ok", "OK")
    entry = wait_status(container, "prom_bad", "FAILED")
    container.wait_for(lambda: wait_status(container, "prom_bad", "FAILED")["consecutiveFailures"] >= 2,
                       30, 0.5, "two failures of prom_bad")
    assert entry["exitCode"] == 2
    yield
    for name in ("prom_ok", "prom_bad"):
        bamon(container, "remove", "-f", name)


def query(base: str, expr: str) -> dict[str, float]:
    """{check label: value} of an instant query."""
    answer = get_json(f"{base}/api/v1/query?query={quote(expr)}")
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return {r["metric"].get("check", ""): float(r["value"][1]) for r in result}


def test_prometheus_scrapes_the_textfile_written_by_the_metrics_unit(
        container: Container, checks: None, tmp_path: Path) -> None:
    container.run(["mkdir", "-p", TEXTFILE_DIR])
    container.run(["systemctl", "start", "bamon.metrics.service"])  # what the timer starts each minute
    prom = container.path(f"{TEXTFILE_DIR}/bamon.prom")
    assert b'bamon_check_up{check="prom_bad"} 0.0' in prom.read_bytes()
    assert container.run(["systemctl", "is-enabled", "bamon.metrics.timer"], check=False).stdout.strip() in (
        "static", "indirect", "enabled")
    assert container.path("/var/lib/bamon/metrics/counters.json").is_file()  # kept between runs of the unit
    units = ["/lib/systemd/system/bamon.metrics.service", "/lib/systemd/system/bamon.metrics.timer"]
    verify = container.run(["systemd-analyze", "verify", "--man=no", "--recursive-errors=yes", *units], check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    exporter_port, prometheus_port = free_port(), 0
    exporter_args = [f"--web.listen-address=127.0.0.1:{exporter_port}", "--collector.disable-defaults",
                     "--collector.textfile", f"--collector.textfile.directory={prom.parent}"]
    with server("prometheus-node-exporter", exporter_args, exporter_port, tmp_path, "/metrics"):
        prometheus_port = free_port()
        (tmp_path / "prometheus.yml").write_text(PROMETHEUS.format(port=exporter_port))
        args = [f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}"]
        with server("prometheus", args, prometheus_port, tmp_path, "/-/ready") as base:
            up = wait("both checks in Prometheus", lambda: (
                found := query(base, 'bamon_check_up{check=~"prom_.*"}')) and len(found) == 2 and found)
            assert up == {"prom_ok": 1.0, "prom_bad": 0.0}
            assert query(base, 'bamon_check_exit_status{check="prom_bad"}') == {"prom_bad": 2.0}
            assert query(base, 'bamon_check_consecutive_failures{check="prom_bad"}')["prom_bad"] >= 2
            runs = query(base, 'bamon_check_runs_total{check=~"prom_.*"}')
            failures = query(base, 'bamon_check_failures_total{check=~"prom_.*"}')
            assert runs["prom_ok"] >= 1 and failures["prom_ok"] == 0
            assert failures["prom_bad"] >= 2 and runs["prom_bad"] >= failures["prom_bad"]
            assert query(base, 'bamon_check_info{check="prom_bad", host="test-box"}') == {"prom_bad": 1.0}
