#!/usr/bin/env python3
"""History and analytics figures against a journal holding weeks of runs (DESIGN §7, issue 9).

The journal is filled with systemd's own tools: a generator (run inside the container) writes
run records and output lines in the Journal Export Format, and `systemd-journal-remote` imports
that stream into a journal file beside the machine's own, where journalctl and python-systemd
read it like any other. Each check also gets the `last` file run-check would have left, naming
its newest synthetic invocation, so `bamon status` does the same seeks as on a live machine.

    sudo python3 bench/history_bench.py [--deb dist/bamon_X_all.deb] [--status-days 7]

The container's file system is a volatile overlay, kept in memory: 30 days of 5-minute runs of
1,000 checks is about 8 GB of journal, so the default is 7 days (2 GB); `status` reads the
`last` files and seeks the journal's indexes, so its cost hardly grows with the days held.

Figures (goals from issue 9): `status --json` with 1,000 checks and N days of 5-minute history
(≤ 0.5 s), `history NAME --since 30d` of a 1-minute check (≤ 1 s), `analytics` for 100 checks
over 7 days (≤ 5 s). Asserts nothing: the numbers are for people.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from nspawn import Container  # noqa: E402

from bench import package  # noqa: E402

# Runs inside the container: prints the export stream on stdout and writes the `last` files.
# argv: NOW_S, then groups "prefix:count:interval_s:days".
GENERATOR = r'''
import os, sys, uuid
now = int(float(sys.argv[1]))
boot = uuid.uuid4().hex
out = sys.stdout.buffer
def entry(fields, realtime):
    text = "".join(f"{k}={v}\n" for k, v in fields.items())
    out.write(f"__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP={realtime % 10**12}\n_BOOT_ID={boot}\n"
              f"{text}\n".encode())
for group in sys.argv[2:]:
    prefix, count, interval, days = group.split(":")
    count, interval, days = int(count), int(interval), float(days)
    runs = int(days * 86400 // interval)
    for i in range(count):
        name = f"{prefix}{i:04d}"
        common = {"SYSLOG_IDENTIFIER": f"bamon-{name}", "BAMON_CHECK": name, "_TRANSPORT": "stdout",
                  "_SYSTEMD_UNIT": f"bamon-{name}.service"}
        for r in range(runs):
            start = (now - (runs - r) * interval + i % interval) * 1_000_000
            failed = (r * 7 + i) % 97 == 0
            duration = 40_000 + (r * 31 + i) % 20_000 + (1_500_000 if (r + i) % 1009 == 0 else 0)
            inv = f"{i:08x}{r:024x}"
            ids = {**common, "_SYSTEMD_INVOCATION_ID": inv}
            entry({**ids, "PRIORITY": 6, "MESSAGE": f"check {name} run {r}: {'broken' if failed else 'fine'}"},
                  start + duration - 100)
            result, status = ("exit-code", 1) if failed else ("success", 0)
            entry({**ids, "PRIORITY": 3 if failed else 6,
                   "MESSAGE": f"bamon-run result={result} exit_code=exited exit_status={status} start_usec={start} "
                              f"end_usec={start + duration} duration_usec={duration} "
                              f"consecutive_failures={int(failed)} invocation={inv} cpu_usec={duration // 4}"},
                  start + duration)
        state = f"/var/lib/bamon/checks/{name}"
        os.makedirs(state, exist_ok=True)
        with open(f"{state}/last", "w") as handle:
            handle.write(f"{inv} {result} {status} {start} {start + duration} {int(failed)}\n")
'''


def timed(box: Container, script: str) -> float:
    out = box.run(f"s=$(date +%s%N); {script} >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))",
                  timeout=600).stdout
    return int(out.split()[-1]) / 1e6


def row(what: str, value: str, goal: str) -> None:
    print(f"  {what:<66} {value:>10}   goal: {goal}")


def config(groups: list[tuple[str, int, int]]) -> str:
    lines = ["scripts:"]
    for prefix, count, interval in groups:
        lines += [f"  - {{name: {prefix}{i:04d}, command: 'echo ok', interval: {interval}, enabled: false}}"
                  for i in range(count)]
    return "\n".join(lines) + "\n"


def fill(box: Container, groups: list[str], now: float) -> float:
    """Import the generated stream; seconds it took."""
    box.path("/tmp/gen.py").write_text(GENERATOR)
    started = time.monotonic()
    box.run(f"python3 /tmp/gen.py {now} {' '.join(groups)} | /lib/systemd/systemd-journal-remote "
            "--split-mode=none -o /var/log/journal/$(cat /etc/machine-id)/remote-bench.journal -", timeout=7200)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--status-days", type=float, default=7, help="days of 5-minute history for 1,000 checks")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon history bench: {deb.name}, systemd in systemd-nspawn (Debian 12), {time.strftime('%Y-%m-%d')}")
    with Container() as box:
        box.install_deb(deb)
        box.run("apt-get install -y -qq --no-install-recommends systemd-journal-remote >/dev/null",
                env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
        box.run("systemctl stop bamon.target; mkdir -p /var/log/journal && systemd-tmpfiles --create --prefix "
                "/var/log/journal && systemctl restart systemd-journald")
        box.path("/etc/bamon/config.yaml").write_text(config([("s", 1000, 300), ("a", 100, 300), ("m", 1, 60)]))
        box.run("systemctl daemon-reload")
        now = time.time()
        groups = [f"s:1000:300:{args.status_days}", "a:100:300:7", "m:1:60:30"]
        took = fill(box, groups, now)
        runs = int(1000 * args.status_days * 288 + 100 * 7 * 288 + 30 * 1440)
        size = box.run("journalctl --disk-usage").stdout.strip().split("take up ")[-1].split(" in")[0]
        print(f"  journal: {runs:,} synthetic runs ({2 * runs:,} entries) imported with systemd-journal-remote "
              f"in {took:.0f} s; journal {size}")
        box.run("bamon status --json >/dev/null; bamon history m0000 --since 30d --json >/dev/null")  # warm caches
        status = statistics.median(timed(box, "bamon status --json") for _ in range(5))
        row(f"bamon status --json, 1,000 checks, {args.status_days:g} days of 5-min history",
            f"{status * 1000:.0f} ms", "≤ 500 ms")
        history = statistics.median(timed(box, "bamon history m0000 --since 30d --json") for _ in range(3))
        shown = box.run("bamon history m0000 --since 30d --json | grep -c invocationId").stdout.strip()
        row(f"bamon history NAME --since 30d, 1-minute check ({shown} runs)", f"{history * 1000:.0f} ms", "≤ 1 s")
        names = " ".join(f"a{i:04d}" for i in range(100))
        box.path("/etc/bamon/config.yaml").write_text(config([("a", 100, 300)]))  # analytics of these 100
        analytics = statistics.median(timed(box, "bamon analytics --since 7d --json") for _ in range(3))
        row(f"bamon analytics, 100 checks over 7 days ({len(names.split())} × 2,016 runs)",
            f"{analytics:.2f} s", "≤ 5 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
