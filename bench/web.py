#!/usr/bin/env python3
"""The dashboard's figures, measured against bamon.web.service in a real systemd (nspawn).

    sudo python3 bench/web.py [--deb dist/bamon_X_all.deb] [--clients 50] [--requests 40]
    sudo python3 bench/web.py --only-metrics [--checks 1000] [--history 60000]

Figures (goals from DESIGN §7 and issues 10 and 11); it asserts nothing:
  * cold start: socket connect → first byte of /api/v1/status while the service is not running
  * /api/v1/status latency with 50 concurrent keep-alive clients and 200 checks (p50/p95/max);
    the clients run on the same machine and share its CPU with the service
  * resident memory of the service after the load
  * run finished (end_usec of the run record) → the browser's tile changed (headless Chromium)
  * --only-metrics: one scrape of /metrics with 1,000 checks (each has run), as a plain GET and
    as Prometheus asks (OpenMetrics, gzip): wall time at the client and CPU time of the
    service's cgroup (the service and the systemctl and journalctl it starts) and of PID 1
    (which answers list-units); with the runs/failures counters kept fresh by
    bamon.metrics.timer, and without it (no node_exporter directory: the service counts the run
    records itself, those since its previous scrape). --history adds synthetic run records
    first, as a host's journal holds them (60,000 = an hour of 1,000 checks every minute).
    CPU time is the figure to compare: a loaded host stretches wall time, not CPU time. The
    host's load average is printed beside the figures.
Load goes only to 127.0.0.1, bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import socket
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from nspawn import Container  # noqa: E402
from web_support import PASSWORD, Dashboard, set_up  # noqa: E402

from bench import package, row, run_each, section, synthetic_runs, write_scripts  # noqa: E402


def first_byte(dash: Dashboard) -> float:
    """Seconds from connect() to the first byte of the answer."""
    request = (f"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {dash.tokens['viewer']}"
               "\r\nConnection: close\r\n\r\n").encode()
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", dash.port), timeout=30) as conn:
        conn.sendall(request)
        conn.recv(1)
        return time.perf_counter() - start


def bench_cold_start(dash: Dashboard, rounds: int = 5) -> None:
    times = []
    for _ in range(rounds):
        dash.box.run(["systemctl", "stop", "bamon.web.service"])
        times.append(first_byte(dash))
    row("cold start: connect → first byte (median of 5)", f"{statistics.median(times) * 1000:.0f} ms", "—")
    row("cold start: slowest of 5", f"{max(times) * 1000:.0f} ms", "—")
    row("warm: connect → first byte", f"{first_byte(dash) * 1000:.1f} ms", "—")


async def client(dash: Dashboard, requests: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", dash.port)
    request = (f"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {dash.tokens['viewer']}\r\n\r\n").encode()
    for _ in range(requests):
        start = time.perf_counter()
        writer.write(request)
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - start)
    writer.close()


def bench_load(dash: Dashboard, clients: int, requests: int) -> None:
    latencies: list[float] = []

    async def run() -> None:
        await asyncio.gather(*(client(dash, requests, latencies) for _ in range(clients)))

    start = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    what = f"/api/v1/status, {clients} clients × {requests}"
    row(f"{what}: p50", f"{cuts[49] * 1000:.1f} ms", "—")
    row(f"{what}: p95", f"{cuts[94] * 1000:.1f} ms", "≤ 50 ms")
    row(f"{what}: max", f"{max(latencies) * 1000:.1f} ms", "—")
    row(f"{what}: throughput", f"{len(latencies) / elapsed:.0f} req/s", "—")
    pid = dash.box.run(["systemctl", "show", "-p", "MainPID", "--value", "bamon.web.service"]).stdout.strip()
    rss = int(dash.box.run(["ps", "-o", "rss=", "-p", pid]).stdout.strip())
    row("resident memory of bamon.web.service (RSS)", f"{rss / 1024:.1f} MiB", "—")


def _status_at(driver: Any, want: str) -> float | None:
    """The browser's clock (ms) if the flip tile shows `want` now (polled every 10 ms)."""
    status, now = driver.execute_script(
        "return [document.querySelector('.tile[data-name=flip]').dataset.status, Date.now()]")
    return float(now) if status == want else None


def bench_live(dash: Dashboard, rounds: int) -> None:
    """Run end (the record's end_usec) → the tile's data-status changed in Chromium (the
    container shares the host's clock; polling adds up to ~10 ms)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box, flag = dash.box, "/etc/bamon/bench-flip"
    box.run(["bamon", "add", "flip", "-c", f"test ! -e {flag}", "-i", "1h"])
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=/tmp/bamon-bench-chromium"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    delays = []
    try:
        driver.get(dash.base + "/")
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "login-user").is_displayed())
        driver.find_element(By.ID, "login-user").send_keys("viewer")
        driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-submit").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.tile[data-name="flip"]'))
        WebDriverWait(driver, 20).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
        for i in range(rounds):
            box.run(["touch" if i % 2 == 0 else "rm", *([] if i % 2 == 0 else ["-f"]), flag])
            want = "FAILED" if i % 2 == 0 else "OK"
            box.run(["systemctl", "start", "bamon-flip.service"], check=False)
            record = json.loads(box.run("journalctl -o json -n 1 --no-pager SYSLOG_IDENTIFIER=bamon-flip "
                                        "--grep='^bamon-run ' --case-sensitive=yes").stdout)
            end_ms = int(record["MESSAGE"].split("end_usec=")[1].split()[0]) / 1000
            seen = WebDriverWait(driver, 10, 0.01).until(lambda d, want=want: _status_at(d, want))
            delays.append((seen - end_ms) / 1000)
            # let the failure's notifier finish before the next run: it rewrites the state file
            box.wait_for(lambda: not box.run("systemctl list-jobs --no-legend; systemctl list-units --no-legend "
                                             "--state=activating 'bamon.notify@*'").stdout.strip(), 10, 0.1)
    finally:
        driver.quit()
    row(f"run finished → browser updated (median of {rounds})", f"{statistics.median(delays) * 1000:.0f} ms", "≤ 1 s")
    row("run finished → browser updated (slowest)", f"{max(delays) * 1000:.0f} ms", "≤ 1 s")


def load() -> str:
    """The host's load average and core count: what the wall-clock figures were taken under."""
    one, five, fifteen = os.getloadavg()
    return f"host load {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def cpu_us(box: Container) -> tuple[int, int]:
    """CPU so far (µs) of bamon.web.service's cgroup (with its children) and of PID 1."""
    out = box.run("awk '/^usage_usec/ {print $2}' /sys/fs/cgroup/system.slice/bamon.web.service/cpu.stat; "
                  "cut -d' ' -f1 /proc/1/schedstat").stdout.split()
    return int(out[0]), int(out[1]) // 1000


# What Prometheus (2.42, Debian 12) sends with a scrape: OpenMetrics preferred, gzip accepted.
PROMETHEUS_ASKS = {"Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                             "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "Accept-Encoding": "gzip"}


def scrape(dash: Dashboard, headers: dict[str, str]) -> tuple[float, bytes]:
    """Wall seconds of one GET /metrics (connect → last byte, no credentials), and the exposition."""
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(f"{dash.base}/metrics", headers=headers),
                                timeout=120) as answer:
        body = answer.read()
        encoding = answer.headers.get("Content-Encoding")
    wall = time.perf_counter() - start
    return wall, gzip.decompress(body) if encoding == "gzip" else body


def bench_scrapes(dash: Dashboard, what: str, rounds: int) -> None:
    for asks, headers in (("plain GET", {}), ("as Prometheus asks (OpenMetrics, gzip)", PROMETHEUS_ASKS)):
        scrape(dash, headers)  # the service is up and has loaded the config: the figures are of a steady scrape
        walls, service, pid1, body = [], [], [], b""
        for _ in range(rounds):
            before = cpu_us(dash.box)
            wall, body = scrape(dash, headers)
            after = cpu_us(dash.box)
            walls.append(wall * 1000)
            service.append((after[0] - before[0]) / 1000)
            pid1.append((after[1] - before[1]) / 1000)
        row(f"/metrics, {what}, {asks}: CPU, service (median of {rounds})", f"{statistics.median(service):.0f} ms",
            "≤ 100 ms")
        row(f"/metrics, {what}, {asks}: CPU, PID 1 (median)", f"{statistics.median(pid1):.0f} ms", "—")
        row(f"/metrics, {what}, {asks}: wall (median; max)",
            f"{statistics.median(walls):.0f}; {max(walls):.0f} ms", "≤ 100 ms")
        results = body.count(b"\nbamon_check_up{")  # a check with a result: its `last` file was read
        print(f"  ({len(body)} bytes of exposition, {results} checks with a result; {load()})")


def bench_metrics(box: Container, checks: int, history: int, rounds: int) -> None:
    write_scripts(box, checks)
    dash = set_up(box, idle_exit=600)
    box.run("systemctl daemon-reload")
    run_each(box, checks)
    if history:
        synthetic_runs(box, history, checks, prefix="c")  # logged now: inside the counters' window
    size = box.run("journalctl --disk-usage").stdout.strip().split("take up ")[-1].split(" in")[0]
    section(f"/metrics of bamon.web.service: {checks} checks, each has run, {history} more run records "
            f"(journal {size})")
    box.run("mkdir -p /var/lib/prometheus/node-exporter && systemctl start bamon.metrics.service")
    bench_scrapes(dash, "counters kept by bamon.metrics.timer", rounds)
    box.run("rm -rf /var/lib/prometheus/node-exporter /var/lib/bamon/metrics/counters.json")
    bench_scrapes(dash, "no textfile collector", rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="requests per client")
    parser.add_argument("--checks", type=int, help="default: 200, and 1,000 with --only-metrics")
    parser.add_argument("--only-live", action="store_true", help="only the browser figure")
    parser.add_argument("--only-metrics", action="store_true", help="only the /metrics figures (1,000 checks)")
    parser.add_argument("--history", type=int, default=0, help="--only-metrics: synthetic run records first")
    parser.add_argument("--rounds", type=int, default=20, help="--only-metrics: scrapes measured")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon web bench: {deb.name}, systemd in systemd-nspawn (Debian 12), {time.strftime('%Y-%m-%d')}")
    with Container() as box:
        box.install_deb(deb)
        box.run("systemctl stop bamon.target")  # the sample checks would add noise
        if args.only_metrics:
            bench_metrics(box, args.checks or 1000, args.history, args.rounds)
            return 0
        checks = args.checks or 200
        write_scripts(box, checks)
        dash = set_up(box, idle_exit=600)
        box.run("systemctl daemon-reload")
        run_each(box, checks)
        section(f"bamon.web.service ({checks} checks, each has run)")
        if not args.only_live:
            bench_cold_start(dash)
            bench_load(dash, args.clients, args.requests)
        bench_live(dash, 6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
