"""A real Prometheus (Debian 12 `prometheus`) scrapes bamon's metrics both ways bamon offers
them, started by the test on the host's loopback:

- through a real node_exporter's textfile collector (`prometheus-node-exporter`): the textfile
  is written inside the container by bamon.metrics.service, the unit bamon.metrics.timer runs;
  node_exporter reads it through the container's root;
- from /metrics of the web service itself: bamon.web.socket started by the first scrape, the
  service running as its own unprivileged user under its sandbox, without a session or token.

Shown: the query API returns bamon_check_up 1 for a passing check and 0 for a failing one, with
its exit status, consecutive failures and counters.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nspawn import Container
from promstack import free_port, get_json, server, wait
from support import bamon, wait_status
from web_support import active, set_up, tear_down

TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
PROMETHEUS = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: bamon
    static_configs: [{{targets: ["127.0.0.1:{port}"], labels: {{host: test-box}}}}]
"""
WEB_SCRAPE = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{rules}]
scrape_configs:
  - job_name: bamon-web
    metrics_path: /metrics
    scrape_interval: 3s  # the timeout is the interval: a loaded test host needs more than 1 s
    scrape_timeout: 3s
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""
EXAMPLES = "/usr/share/doc/bamon/examples"  # as the package ships them
# Grafana's variables in the dashboard's queries: every host, the test's checks
GRAFANA = {"$__rate_interval": "1m", "$__range": "1h", "$instance": ".*", "$check": "prom_(ok|bad)"}


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


@contextmanager
def prometheus(config: str, workdir: Path) -> Iterator[str]:
    """A real Prometheus with `config` (its scrape targets), on a free port; yields its base URL."""
    port = free_port()
    (workdir / "prometheus.yml").write_text(config)
    args = [f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}"]
    with server("prometheus", args, port, workdir, "/-/ready") as base:
        yield base


UP_OF_BOTH = {"prom_ok": 1.0, "prom_bad": 0.0}


def panel_query(expr: str) -> str:
    """A dashboard query as Grafana sends it, its variables filled in."""
    for name, value in sorted(GRAFANA.items(), key=lambda item: -len(item[0])):  # $__range before $__r…
        expr = expr.replace(name, value)
    return expr


def series_of_both_checks(base: str) -> None:
    """Prometheus's query API has the passing and the failing check, as the fixture made them."""
    up = wait("both checks in Prometheus", lambda: (
        found := query(base, 'bamon_check_up{check=~"prom_(ok|bad)"}')) and len(found) == 2 and found, 90)
    assert up == UP_OF_BOTH
    assert query(base, 'bamon_check_exit_status{check="prom_bad"}') == {"prom_bad": 2.0}
    assert query(base, 'bamon_check_consecutive_failures{check="prom_bad"}')["prom_bad"] >= 2
    runs = query(base, 'bamon_check_runs_total{check=~"prom_.*"}')
    failures = query(base, 'bamon_check_failures_total{check=~"prom_.*"}')
    assert runs["prom_ok"] >= 1 and failures["prom_ok"] == 0
    assert failures["prom_bad"] >= 2 and runs["prom_bad"] >= failures["prom_bad"]


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

    exporter_port = free_port()
    exporter_args = [f"--web.listen-address=127.0.0.1:{exporter_port}", "--collector.disable-defaults",
                     "--collector.textfile", f"--collector.textfile.directory={prom.parent}"]
    with server("prometheus-node-exporter", exporter_args, exporter_port, tmp_path, "/metrics"), \
            prometheus(PROMETHEUS.format(port=exporter_port), tmp_path) as base:
        series_of_both_checks(base)
        assert query(base, 'bamon_check_info{check="prom_bad", host="test-box"}') == {"prom_bad": 1.0}


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of a GET without any credentials."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type", ""), refused.read()


def test_prometheus_scrapes_metrics_from_the_socket_activated_web_service(
        container: Container, checks: None, tmp_path: Path) -> None:
    bamon(container, "add", "prom_perf", "-c", "echo 'RT OK | rt=0.25s;1;2'", "-i", "1h", "--output-format", "nagios")
    bamon(container, "add", "prom_warn", "-c", "echo 'DISK WARNING - 85% used'; exit 1", "-i", "1h",
          "--output-format", "nagios")
    container.run(["systemctl", "start", "bamon-prom_perf.service"])
    wait_status(container, "prom_warn", "WARNING")  # its first run, at once
    dash = set_up(container, idle_exit=60)  # web.listen on a free port; the socket started, the service not yet
    try:
        container.wait_for(lambda: active(container, "bamon.web.service") == "inactive", 30, 0.5,
                           "the web service to be idle")
        status, content_type, body = fetch(f"{dash.base}/metrics")  # no session, no token
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4"), (status, body[:300])
        assert active(container, "bamon.web.service") == "active"  # the scrape started it
        user = container.run(["systemctl", "show", "-p", "User", "--value", "bamon.web.service"]).stdout.strip()
        assert user == "bamon-web"
        # read as bamon-web, under the service's sandbox: the checks' state, timers and journal
        assert b'bamon_check_up{check="prom_bad"} 0.0' in body and b'bamon_check_up{check="prom_ok"} 1.0' in body
        assert b'bamon_check_exit_status{check="prom_bad"} 2.0' in body
        assert b"bamon_check_next_run_timestamp_seconds{check=\"prom_ok\"}" in body
        assert b"broken" not in body  # a check's output never reaches the metrics
        # perfdata of the last run, read from the journal by the service (the output itself is not there)
        assert b'bamon_check_metric{check="prom_perf",metric="rt",unit="s"} 0.25' in body and b"RT OK" not in body
        again = fetch(f"{dash.base}/metrics")[2]  # the next scrape keeps it without reading the run again
        # a Nagios WARNING ran and is counted as a run, not as a failure (as status says it)
        counted = {name: float(value) for name, value in re.findall(
            rb'^bamon_check_(runs|failures)_total\{check="prom_warn"\} (\S+)$', again, re.MULTILINE)}
        assert counted[b"runs"] >= 1 and counted[b"failures"] == 0, counted
        assert b'bamon_check_metric{check="prom_perf",metric="rt",unit="s"} 0.25' in again
        # the auth rule: /metrics is open to a scraper, everything else still needs a token
        assert fetch(f"{dash.base}/api/v1/status")[0] == 401
        promtool = shutil.which("promtool")
        assert promtool, "promtool is missing: dev/install-deps installs the prometheus package"
        lint = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, check=False)
        assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr

        rules = tmp_path / "bamon-rules.yml"
        rules.write_bytes(container.path(f"{EXAMPLES}/prometheus/bamon-rules.yml").read_bytes())
        dashboard = json.loads(container.path(f"{EXAMPLES}/grafana/bamon-dashboard.json").read_bytes())
        with prometheus(WEB_SCRAPE.format(port=dash.port, rules=rules), tmp_path) as base:
            series_of_both_checks(base)
            assert query(base, 'up{job="bamon-web"}') == {"": 1.0}  # the scrape itself succeeded
            # the shipped dashboard's queries on what Prometheus scraped from the service
            panels = {p["title"]: [panel_query(t["expr"]) for t in p["targets"]] for p in dashboard["panels"]}
            for title, exprs in panels.items():
                for expr in exprs:
                    assert get_json(f"{base}/api/v1/query?query={quote(expr)}")["status"] == "success", (title, expr)
            assert query(base, panels["Checks failing"][0]) == query(base, panels["Checks passing"][0]) == {"": 1.0}
            assert query(base, panels["Status per check (1 = passing, 0 = failing)"][0]) == UP_OF_BOTH
            # the shipped alerting rule, pending for the failing check only (it fires after its `for:`)
            # (prom_warn's WARNING is not up either: the rule's severity is warning)
            pending = wait("BamonCheckFailing pending", lambda: query(
                base, 'ALERTS{alertname="BamonCheckFailing", check=~"prom_(ok|bad)"}'))
            assert pending == {"prom_bad": 1.0}
    finally:
        tear_down(dash)
        bamon(container, "remove", "-f", "prom_perf")
        bamon(container, "remove", "-f", "prom_warn")
