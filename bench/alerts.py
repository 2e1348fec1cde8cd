#!/usr/bin/env python3
"""Alerting figures, measured in a real systemd (Debian 12 in systemd-nspawn).

Prints each figure beside its goal from DESIGN §7 / issue 5; asserts nothing.

    sudo python3 bench/alerts.py [--deb dist/bamon_X_all.deb] [--samples 20] [--window 30]

Figures:
  * failure → alert received by a local webhook (on the host): from the end of the failed run
    (its record's end time) to the receiver's clock, median and max of --samples episodes
  * recovery → "recovered" received: the same, for the first success after each failure
  * CPU per successful run, timer-driven: the container's whole cgroup v2 tree over a window in
    which timers fire a bare `bash -c true` oneshot, then bamon `minimal` checks (`true`), minus
    the idle rate
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))
sys.path.insert(0, str(REPO / "bench"))

from alert_receiver import Receiver  # noqa: E402
from nspawn import Container  # noqa: E402

from bench import package, row  # noqa: E402

TIMERS = 8  # units fired once a second each during a window


def end_of_last_run(box: Container, name: str) -> float:
    fields = box.path(f"/var/lib/bamon/checks/{name}/last").read_text().split()
    return int(fields[4]) / 1e6


def bench_latency(box: Container, receiver: Receiver, samples: int) -> None:
    print(f"\n== alert latency ({samples} failure episodes; webhook receiver on the host)")
    box.path("/etc/bamon/config.yaml").write_text(
        "alerts:\n"
        f"  channels: [{{name: hook, type: webhook, url: '{receiver.url('/hook')}'}}]\n"
        "scripts:\n"
        "  - {name: bench_alert, command: 'test -e /etc/bamon/ok', sandbox: minimal, enabled: false}\n")
    box.run("bamon apply")
    failure: list[float] = []
    recovery: list[float] = []
    for _ in range(samples):
        for ok, kind, into in ((False, "failure", failure), (True, "recovery", recovery)):
            box.run("touch /etc/bamon/ok" if ok else "rm -f /etc/bamon/ok")
            seen = len(receiver.at("/hook"))
            box.run("systemctl start bamon-bench_alert.service", check=False)

            def arrived(seen: int = seen) -> bool:
                return len(receiver.at("/hook")) > seen
            box.wait_for(arrived, 20, 0.01, f"{kind} alert")
            got = receiver.at("/hook")[-1]
            assert got.body["kind"] == kind, got.body
            into.append(got.received - end_of_last_run(box, "bench_alert"))
    for name, values in (("failure → alert received", failure), ("recovery → \"recovered\" received", recovery)):
        row(f"{name}, median (max)", f"{statistics.median(values):.3f} s ({max(values):.2f})", "≤ 0.5 s median")


def cpu_usec(box: Container) -> int:
    text = box.run("cat /sys/fs/cgroup/cpu.stat").stdout
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith("usage_usec")))


def runs_between(box: Container, pattern: str, since: float, until: float) -> int:
    out = box.run(f"journalctl -q --no-pager -o cat --since=@{since:.3f} --until=@{until:.3f} -u '{pattern}' "
                  "| grep -c '^Finished' || true").stdout
    return int(out.strip() or 0)


def window(box: Container, seconds: float, pattern: str, start: str, stop: str, idle_rate: float) -> float:
    """ms of CPU (whole container tree) per run of units matching `pattern` fired by their timers."""
    box.run(start)
    time.sleep(3)  # first runs, caches warm
    t0, c0 = time.time(), cpu_usec(box)
    time.sleep(seconds)
    t1, c1 = time.time(), cpu_usec(box)
    box.run(stop)
    runs = runs_between(box, pattern, t0, t1)
    return ((c1 - c0) - idle_rate * (t1 - t0)) / 1000 / max(runs, 1)


def bench_success_cost(box: Container, seconds: float) -> None:
    print(f"\n== CPU per successful run, timer-driven ({TIMERS} units once a second, {seconds:g} s windows; "
          "whole container tree minus idle)")
    box.run("systemctl stop bamon.target")
    time.sleep(2)  # a notifier of the latency figures may still be finishing
    began = time.time()
    for i in range(TIMERS):
        box.path(f"/etc/systemd/system/bench-bare{i}.service").write_text(
            "[Service]\nType=oneshot\nExecStart=/bin/bash -c true\n")
        box.path(f"/etc/systemd/system/bench-bare{i}.timer").write_text(
            "[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=1s\nAccuracySec=1s\n")  # as bamon's own timers
    box.path("/etc/bamon/config.yaml").write_text("scripts:\n" + "".join(
        f"  - {{name: bench_ok{i}, command: 'true', interval: 1s, sandbox: minimal}}\n" for i in range(TIMERS)))
    box.run("bamon apply && systemctl stop 'bamon-*.timer' && systemctl daemon-reload")
    time.sleep(2)
    t0, c0 = time.time(), cpu_usec(box)
    time.sleep(seconds)
    idle = (cpu_usec(box) - c0) / (time.time() - t0)
    bare_timers = " ".join(f"bench-bare{i}.timer" for i in range(TIMERS))
    checks = " ".join(f"bamon-bench_ok{i}.timer" for i in range(TIMERS))
    # run-check as it was before alerting (git main), to see what the recovery mark costs a success
    installed = box.run("python3 -c 'import bamon.units.render as r; print(r.RUN_CHECK)'").stdout.strip()
    before = subprocess.run(["git", "-C", str(REPO), "show", "main:bamon/units/run-check"], capture_output=True,
                            text=True, check=False).stdout
    box.path(installed + ".before").write_text(before or box.path(installed).read_text())
    box.run(f"cp {installed} {installed}.now")
    results: dict[str, list[float]] = {"bare": [], "minimal": [], "before": []}
    for _ in range(2):  # interleaved: background drift lands on all
        results["bare"].append(window(box, seconds, "bench-bare*", f"systemctl start {bare_timers}",
                                      f"systemctl stop {bare_timers}", idle))
        results["minimal"].append(window(box, seconds, "bamon-bench_ok*", f"systemctl start {checks}",
                                         f"systemctl stop {checks}", idle))
        results["before"].append(window(box, seconds, "bamon-bench_ok*",
                                        f"cp {installed}.before {installed} && systemctl start {checks}",
                                        f"systemctl stop {checks} && cp {installed}.now {installed}", idle))
    bare, minimal, unchanged = (statistics.median(v) for v in results.values())
    row(f"idle container ({idle / 1000:.2f} ms CPU per second, subtracted)", "", "")
    row("bare oneshot, ExecStart=/bin/bash -c true", f"{bare:.2f} ms", "(reference ≈ 5.1 ms)")
    row("bamon check `true`, sandbox minimal", f"{minimal:.2f} ms", f"≤ 1.3× bare ({minimal / bare:.2f}×)")
    row("the same with run-check before alerting (main)", f"{unchanged:.2f} ms",
        f"unchanged ({minimal / unchanged:.2f}× of it)")
    since = f"--since=@{began:.3f}"
    pythons = box.run(f"journalctl {since} --no-pager -o cat _COMM=python3 | wc -l").stdout.strip()
    notifiers = box.run(f"journalctl {since} --no-pager -o cat -u 'bamon.recovered@*' -u 'bamon.notify@*' "
                        "| grep -c '^Finished' || true").stdout.strip()
    row("notifier starts during the successful runs", notifiers, "0")
    row("journal entries from a python3 process meanwhile", pythons, "0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--samples", type=int, default=20, help="failure episodes for the latency figures")
    parser.add_argument("--window", type=float, default=30, help="seconds per CPU window")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon alert bench: {deb.name}, systemd in systemd-nspawn (Debian 12), {time.strftime('%Y-%m-%d')}")
    receiver = Receiver()
    try:
        with Container() as box:
            box.install_deb(deb)
            print("  " + box.run("systemctl --version").stdout.splitlines()[0])
            bench_latency(box, receiver, args.samples)
            bench_success_cost(box, args.window)
    finally:
        receiver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
