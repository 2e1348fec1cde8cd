#!/usr/bin/env python3
"""`bamon add` with 1,000 checks present (DESIGN §7: ≤ 2 s, aim ≤ 1 s), and where its time goes.

Measured in a real systemd (Debian 12 in systemd-nspawn) with bamon.target active and 1,000
checks scheduled, as on a production host:

    sudo python3 bench/add.py [--deb dist/bamon_X_all.deb] [--times 5]

Rows: the generator alone and a full `systemctl daemon-reload` (what every add paid before:
systemd re-runs the generators and re-reads 2,000 check units and the 1,000 notifier instances
their OnFailure= names), then `bamon add` itself (validate, write, version, load the new
check's units without a reload, start its timer), and whether the new timer really runs. The
host's load average is printed before and after: on a shared machine it moves every figure.
Asserts nothing: the numbers are for people.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from nspawn import Container  # noqa: E402

from bench import median_of, package, row, section, timed, write_scripts  # noqa: E402


def cpu(box: Container, command: str) -> float:
    """CPU seconds a command costs: its own processes (user + system) plus PID 1's, which does a
    daemon-reload's work. Unlike wall time, this hardly depends on what else the host runs."""
    out = box.run("a=$(cut -d' ' -f1 /proc/1/schedstat); TIMEFORMAT='%3U %3S'; "
                  f"t=$( {{ time {command} >/dev/null 2>&1; }} 2>&1 ); "
                  "b=$(cut -d' ' -f1 /proc/1/schedstat); echo $t $(( b - a ))").stdout.split()
    return float(out[-3]) + float(out[-2]) + int(out[-1]) / 1e9


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--times", type=int, default=5, help="runs of each measurement (the median is shown)")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon add bench: {deb.name}, systemd in systemd-nspawn (Debian 12), {time.strftime('%Y-%m-%d %H:%M')}")
    with Container() as box:
        box.install_deb(deb)
        write_scripts(box, 1000)
        box.run("bamon apply", timeout=1200)  # bamon.target is active: apply starts the new timers
        # the first runs (OnBootSec ≤ 10 s) are over before anything is timed
        box.run("sleep 10; while systemctl list-jobs --no-legend | grep -q .; do sleep 1; done", timeout=1200)
        print(f"  host load average before: {load()}")
        section("with 1,000 checks scheduled (bamon.target active)")
        gen = "/lib/systemd/system-generators/bamon-generator"
        wall = median_of(lambda: timed(box, f"rm -rf /tmp/gen && {gen} /tmp/gen /tmp/gen /tmp/gen"), args.times)
        row("bamon-generator alone", f"{wall * 1000:.0f} ms", "≤ 250 ms")
        reload = median_of(lambda: timed(box, "systemctl daemon-reload"), args.times)
        row("systemctl daemon-reload (what each add paid before)", f"{reload * 1000:.0f} ms", "-")
        reload_cpu = median_of(lambda: cpu(box, "systemctl daemon-reload"), args.times)
        row("  its CPU (systemctl + PID 1)", f"{reload_cpu * 1000:.0f} ms", "-")
        names: list[str] = []

        def add() -> float:
            names.append(f"extra{len(names)}")
            return timed(box, f"bamon add {names[-1]} -c true -i 1h")

        def add_cpu() -> float:
            names.append(f"extra{len(names)}")
            return cpu(box, f"bamon add {names[-1]} -c true -i 1h")
        added = median_of(add, args.times)
        row("bamon add (validate, write, version, load, start)", f"{added * 1000:.0f} ms", "≤ 2 s, aim ≤ 1 s")
        row("  its CPU (bamon, git, systemctl + PID 1)", f"{median_of(add_cpu, args.times) * 1000:.0f} ms", "-")
        running = all(box.run(f"systemctl is-active --quiet bamon-{n}.timer", check=False).returncode == 0
                      for n in names)
        row(f"the {len(names)} added timers are active", "yes" if running else "NO", "yes")
        versions = box.run("bamon config history --json | grep -c '\"version\"'", check=False).stdout.strip()
        row("config versions kept", versions, f"{len(names) + 1}")
        print(f"  host load average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
