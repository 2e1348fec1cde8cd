#!/usr/bin/env python3
"""What being in a fleet costs a host, and what the fleet view costs, measured on the fleet
tier's simulated fleet (tests/fleet/fleetsim.py: Debian 12 hosts in systemd-nspawn on a private
bridge, configured by contrib/ansible; Prometheus scraping every host's /metrics every 2 s,
Alertmanager, and systemd-journal-remote on their monitor).

    sudo python3 bench/fleet.py [--deb dist/bamon_X_all.deb] [--hosts 20] [--rounds 5]

Figures (each host has two checks: one every 5 s, one every 10 s):
  * CPU per scrape of /metrics: a host container's whole cgroup (PID 1, the socket-activated
    web service, journald, …) over a window with extra scrapes (10 a second, on top of
    Prometheus' own), minus the same window without them, divided by the extra scrapes;
    interleaved rounds on three hosts, median. Also what Prometheus sees: the scrape's
    duration and its samples.
  * bytes per run uploaded to journal-remote: everything a host's journal gained over a window
    (journal export format, which is what systemd-journal-upload sends), divided by the runs it
    recorded in that window; and how much the host's file on the monitor grew per run; median
    over the hosts.
  * `bamon fleet status` (text and --json) wall time on the monitor for all hosts, median of 7.

It asserts nothing: the figures go into docs/fleet.md's sizing table. The host's load is
printed with them: on a shared machine it changes the CPU figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fleet"))
sys.path.insert(0, str(REPO / "bench"))

from fleetsim import REMOTE_DIR, SCRAPE_INTERVAL, WEB_PORT, Fleet, Host  # noqa: E402

from bench import package, row, section, timed  # noqa: E402

EXTRA_RATE = 10  # extra scrapes a second during a measuring window
WINDOW = 10.0  # seconds per window
TAIL_OBJECT_OFFSET = 136  # of the journal file header (systemd's journal-def.h): the last object's offset


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def scrape(host: Host) -> int:
    with urllib.request.urlopen(f"http://{host.address}:{WEB_PORT}/metrics", timeout=10) as answer:
        return len(answer.read())


def window_cpu(host: Host, extra: bool) -> tuple[float, int]:
    """(CPU µs of the host's cgroup over WINDOW s, extra scrapes made) with or without extra scrapes."""
    start_cpu, start = host.box.cpu_usec(), time.monotonic()
    made = 0
    while (now := time.monotonic()) < start + WINDOW:
        if extra:
            scrape(host)
            made += 1
            time.sleep(max(0.0, start + made / EXTRA_RATE - time.monotonic()))
        else:
            time.sleep(min(0.5, start + WINDOW - now))
    return (host.box.cpu_usec() - start_cpu) * WINDOW / (time.monotonic() - start), made


def bench_scrape(fleet: Fleet, rounds: int) -> None:
    section(f"CPU per scrape of /metrics (extra scrapes at {EXTRA_RATE}/s on top of Prometheus' every "
            f"{SCRAPE_INTERVAL} s; {rounds} interleaved rounds of {WINDOW:g} s windows, 3 hosts)")
    per_scrape = []
    for host in fleet.hosts[:3]:
        scrape(host)  # the web service is up (Prometheus keeps it so); this warms nothing else
        for _ in range(rounds):
            idle, _ = window_cpu(host, extra=False)
            busy, made = window_cpu(host, extra=True)
            per_scrape.append((busy - idle) / made / 1000)
    row("CPU per scrape, the host's whole cgroup", f"{statistics.median(per_scrape):.1f} ms",
        f"spread {min(per_scrape):.1f}–{max(per_scrape):.1f} ms")
    size = statistics.median(scrape(h) for h in fleet.hosts)
    samples = [float(s["value"][1]) for s in fleet.query('scrape_samples_scraped{job="bamon"}')]
    durations = [float(s["value"][1]) * 1000 for s in fleet.query('scrape_duration_seconds{job="bamon"}')]
    row("exposition size per host (2 checks)", f"{size / 1024:.1f} KiB", "uncompressed")
    row("samples per scrape per host (2 checks)", f"{statistics.median(samples):.0f}", "Prometheus' count")
    row("scrape duration as Prometheus sees it", f"{statistics.median(durations):.0f} ms",
        f"median of {len(durations)} hosts, max {max(durations):.0f} ms")


def used_bytes(fleet: Fleet, host: Host) -> int:
    """How far journal-remote has filled the host's file: the header's tail_object_offset.

    The file itself grows in 8 MiB steps (and starts with fixed-size hash tables), so its size
    says nothing about a minute of entries; the offset of its last object does.
    """
    assert fleet.monitor is not None
    path = fleet.monitor.box.path(f"{REMOTE_DIR}/remote-{host.address}.journal")
    with path.open("rb") as journal:
        header = journal.read(TAIL_OBJECT_OFFSET + 8)
    return int.from_bytes(header[TAIL_OBJECT_OFFSET:], "little")


def bench_upload(fleet: Fleet, window: int) -> None:
    assert fleet.monitor is not None
    section(f"journal-upload → journal-remote, per run ({window} s window, every host)")
    since = int(time.time()) + 1
    time.sleep(1)
    used = {h.name: used_bytes(fleet, h) for h in fleet.hosts}
    time.sleep(window)
    until = since + window
    time.sleep(5)  # the uploads of the window's last entries arrive
    per_run, disk, web = [], [], []
    for host in fleet.hosts:
        where = f"-D {REMOTE_DIR} _HOSTNAME={host.name} --since @{since} --until @{until}"
        total = int(fleet.monitor.run(f"journalctl {where} -o export | wc -c").strip())
        runs = int(fleet.monitor.run(f"journalctl {where} -o cat --grep '^bamon-run ' | wc -l").strip())
        served = int(fleet.monitor.run(f"journalctl {where} _SYSTEMD_UNIT=bamon.web.service -o export | wc -c"))
        if runs:
            per_run.append(total / runs)
            # the window plus the 5 s after it, against the runs of the window alone: a little high
            disk.append((used_bytes(fleet, host) - used[host.name]) / runs * window / (window + 5))
            web.append(served / window)
    row("journal bytes uploaded per run (export format, all entries)", f"{statistics.median(per_run):.0f} B",
        f"{len(per_run)} hosts, spread {min(per_run):.0f}–{max(per_run):.0f} B")
    row("journal-remote file growth per run", f"{statistics.median(disk):.0f} B",
        f"spread {min(disk):.0f}–{max(disk):.0f} B")
    row("of the upload: the web service's own entries", f"{statistics.median(web):.0f} B/s", "per host")


def bench_fleet_status(fleet: Fleet) -> None:
    assert fleet.monitor is not None
    section(f"`bamon fleet status` on the monitor, {len(fleet.hosts)} hosts × 2 checks (median of 7)")
    for args in ("", " --json"):
        seconds = statistics.median(timed(fleet.monitor.box, f"bamon fleet status{args}") for _ in range(7))
        row(f"bamon fleet status{args}", f"{seconds * 1000:.0f} ms", "wall time, Python start included")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--hosts", type=int, default=20, help="hosts in the fleet")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the CPU-per-scrape windows, per host")
    parser.add_argument("--window", type=int, default=60, help="seconds of the journal-upload window")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon fleet bench: {deb.name}, {args.hosts} Debian 12 hosts in systemd-nspawn, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; before: {load()}")
    with tempfile.TemporaryDirectory(prefix="bamon-fleet-bench.") as work, Fleet(deb, Path(work), args.hosts) as fleet:
        print("  up in " + ", ".join(f"{k} {v:.0f} s" for k, v in fleet.timings.items()) + f"; {load()}")
        bench_scrape(fleet, args.rounds)
        bench_upload(fleet, args.window)
        bench_fleet_status(fleet)
        print(f"\nafter: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
