#!/usr/bin/env python3
"""bamon's performance figures, measured in a real systemd (Debian 12 in systemd-nspawn).

Prints each figure beside its goal from DESIGN §7. It asserts nothing: the numbers are for
people (and the issue notes), not a pass/fail gate.

    sudo python3 bench/bench.py [--deb dist/bamon_X_all.deb] [--runs 200]

Figures:
  * generator: wall time of bamon-generator for 1,000 scripts (median of 7), and of the
    daemon-reload that runs it
  * CPU per successful run: PID 1 + journald + the unit's own processes (its cgroup), for a
    bare `ExecStart=/bin/bash -c true` oneshot and for bamon checks (`true`) with the minimal,
    balanced and strict sandbox profiles, in a `systemctl start` loop (bench/timers.py has the
    timer-driven figures, which are what a host pays)
  * `bamon status` and `status --json` with 200 and 1,000 checks (each has run; the journal
    also holds synthetic run records, see --history)
  * `bamon add` with 1,000 scripts present
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from nspawn import Container  # noqa: E402

BARE_UNIT = """[Unit]
Description=bench: bare bash -c true oneshot
[Service]
Type=oneshot
Slice=bench.slice
ExecStart=/bin/bash -c true
"""


def median_of(fn: Callable[[], float], times: int) -> float:
    return statistics.median(fn() for _ in range(times))


def timed(box: Container, script: str) -> float:
    """Wall seconds of a shell snippet inside the container (nsenter overhead excluded)."""
    out = box.run(f"s=$(date +%s%N); {script} >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))").stdout
    return int(out.split()[-1]) / 1e6


def cpu_ns(box: Container, pids: list[int], cgroup: str) -> int:
    """CPU time so far of some processes (schedstat, ns) plus a cgroup's usage (cpu.stat)."""
    script = "; ".join(f"cut -d' ' -f1 /proc/{p}/schedstat" for p in pids)
    script += f"; awk '/^usage_usec/ {{print $2 * 1000}}' /sys/fs/cgroup/{cgroup}/cpu.stat"
    return sum(int(float(x)) for x in box.run(script).stdout.split())


def cost_per_run(box: Container, unit: str, slice_path: str, runs: int) -> float:
    """Milliseconds of CPU per run of `unit`: PID 1, journald and the unit's slice."""
    journald = int(box.run("systemctl show -p MainPID --value systemd-journald").stdout)
    box.run(f"systemctl start {unit}")  # warm up: slice created, caches hot
    before = cpu_ns(box, [1, journald], slice_path)
    box.run(f"for i in $(seq {runs}); do systemctl start {unit}; done")
    after = cpu_ns(box, [1, journald], slice_path)
    return (after - before) / runs / 1e6


def write_scripts(box: Container, count: int, prefix: str = "c") -> None:
    lines = ["scripts:"] + [
        f"  - {{name: {prefix}{i:04d}, command: 'echo check {i} ok', interval: {3600 + i}, sandbox: minimal}}"
        for i in range(count)]
    box.path("/etc/bamon/config.yaml").write_text("\n".join(lines) + "\n")


def section(title: str) -> None:
    print(f"\n== {title}")


def row(what: str, value: str, goal: str) -> None:
    print(f"  {what:<58} {value:>14}   goal: {goal}")


def bench_idle(box: Container) -> None:
    section("idle (package installed, bamon.target active, the three sample checks scheduled)")
    box.run("sleep 12")  # the samples' first runs are over (OnBootSec ≤ 10 s)
    # "[b]amon" keeps the pgrep's own shell out of the count
    counts = []
    for _ in range(5):
        counts.append(int(box.run("pgrep -c -f '[b]amon' || true").stdout.strip() or 0))
        time.sleep(1)
    timers = box.run("systemctl list-timers --no-legend 'bamon-*' | wc -l").stdout.strip()
    row(f"bamon processes, 5 samples 1 s apart ({timers} timers waiting)", str(max(counts)), "0")


def bench_generator(box: Container) -> None:
    section("generator (1,000 scripts)")
    write_scripts(box, 1000)
    gen = "/lib/systemd/system-generators/bamon-generator"
    wall = median_of(lambda: timed(box, f"rm -rf /tmp/gen && {gen} /tmp/gen /tmp/gen /tmp/gen"), 7)
    units = box.run("ls /tmp/gen | wc -l").stdout.strip()
    row(f"bamon-generator, median of 7 ({units} files)", f"{wall * 1000:.0f} ms", "≤ 250 ms")
    reload = median_of(lambda: timed(box, "systemctl daemon-reload"), 3)
    row("systemctl daemon-reload (runs all generators)", f"{reload * 1000:.0f} ms", "(reference ≈ 400 ms)")


def bench_run_cost(box: Container, runs: int) -> None:
    section(f"CPU per successful run, `systemctl start` loop ({runs} runs each in 5 interleaved rounds, "
            "median; PID 1 + journald + the unit's cgroup)")
    box.path("/etc/systemd/system/bench-bare.service").write_text(BARE_UNIT)
    box.path("/etc/bamon/config.yaml").write_text(
        "scripts:\n"
        "  - {name: bench_minimal, command: 'true', sandbox: minimal, enabled: false}\n"
        "  - {name: bench_balanced, command: 'true', sandbox: balanced, enabled: false}\n"
        "  - {name: bench_strict, command: 'true', sandbox: strict, enabled: false}\n")
    box.run("systemctl daemon-reload")
    # Interleaved rounds, medians: the machine's background load drifts by ±1 ms per run over a
    # minute, which would otherwise land on whichever unit happened to be measured then.
    units = {"bare": ("bench-bare.service", "bench.slice"),
             "minimal": ("bamon-bench_minimal.service", "bamon.slice"),
             "balanced": ("bamon-bench_balanced.service", "bamon.slice"),
             "strict": ("bamon-bench_strict.service", "bamon.slice")}
    rounds: dict[str, list[float]] = {name: [] for name in units}
    for _ in range(5):
        for name, (unit, slice_path) in units.items():
            rounds[name].append(cost_per_run(box, unit, slice_path, max(runs // 5, 20)))
    bare, minimal, balanced, strict = (statistics.median(rounds[name]) for name in units)
    row("bare oneshot, ExecStart=/bin/bash -c true", f"{bare:.2f} ms", "(reference ≈ 5.1 ms)")
    row("bamon check `true`, sandbox minimal", f"{minimal:.2f} ms", f"({minimal / bare:.2f}× bare)")
    row("bamon check `true`, sandbox balanced", f"{balanced:.2f} ms", f"({balanced / bare:.2f}× bare)")
    row("bamon check `true`, sandbox strict", f"{strict:.2f} ms", f"({strict / bare:.2f}× bare)")
    print("  (a systemctl start loop: the client's cost is on both sides; bench/timers.py measures what a host pays)")
    for name in ("minimal", "balanced", "strict"):
        out = box.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                       f"/run/systemd/generator/bamon-bench_{name}.service"], check=False).stdout
        level = next((line.split("level for")[-1].split(":", 1)[-1].strip() for line in out.splitlines()
                      if "Overall exposure level" in line), "?")
        row(f"systemd-analyze security, {name} profile", level, "tracked (bare oneshot: 9.6 UNSAFE)")
    pythons = box.run("journalctl -b --no-pager -o cat _COMM=python3 | wc -l").stdout.strip()
    row("journal entries from a python3 process during these runs", pythons, "0 (no Python on success)")


def run_each(box: Container, count: int, prefix: str = "c") -> None:
    """Run every check of write_scripts once, by name: a `systemctl start 'bamon-c*'` glob
    matches only units already loaded, which checks that never ran are not."""
    names = " ".join(f"bamon-{prefix}{i:04d}.service" for i in range(count))
    box.run(f"systemctl start {names}", timeout=1800)


def synthetic_runs(box: Container, records: int, checks: int, prefix: str) -> None:
    """Log `records` run records as run-check writes them, spread over checks PREFIX0000…, each
    starting later than the one before (so that the runs/failures counters count every one)."""
    box.run(
        "python3 - <<'EOF'\n"
        "from systemd import journal\n"
        f"for i in range({records}):\n"
        f"    journal.send('bamon-run result=success exit_code=exited exit_status=0 start_usec=%d end_usec=%d '"
        f"'duration_usec=1 consecutive_failures=0 invocation=%032x' % (i + 1, i + 2, i),"
        f" SYSLOG_IDENTIFIER='bamon-{prefix}%04d' % (i % {checks}), BAMON_CHECK='{prefix}%04d' % (i % {checks}))\n"
        "EOF", timeout=1800)


def bench_status(box: Container, count: int, history: int) -> None:
    write_scripts(box, count, prefix="s")
    box.run("systemctl daemon-reload")
    run_each(box, count, prefix="s")
    if history:  # so the journal is not near-empty
        synthetic_runs(box, history, count, prefix="s")
    size = box.run("journalctl --disk-usage").stdout.strip().split("take up ")[-1].split(" in")[0]
    table = median_of(lambda: timed(box, "bamon status"), 5)
    as_json = median_of(lambda: timed(box, "bamon status --json"), 5)
    row(f"bamon status, {count} checks (journal {size})", f"{table * 1000:.0f} ms", "≤ 500 ms")
    row(f"bamon status --json, {count} checks", f"{as_json * 1000:.0f} ms", "≤ 500 ms")


def bench_add(box: Container) -> None:
    section("bamon add with 1,000 scripts present (validate, write, reload, start)")
    write_scripts(box, 1000)
    box.run("systemctl daemon-reload")
    add = median_of(lambda: timed(box, f"bamon add extra{time.monotonic_ns()} -c true -i 1h"), 3)
    row("bamon add", f"{add * 1000:.0f} ms", "≤ 2 s")


def package(given: Path | None) -> Path:
    """The .deb to measure: the one given, else one built from the work tree (also for bench/alerts.py)."""
    return given or Path(subprocess.run([str(REPO / "dev" / "build-deb")], capture_output=True, text=True,
                                        check=True).stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--runs", type=int, default=200, help="runs per unit for the CPU figures")
    parser.add_argument("--history", type=int, default=100_000, help="synthetic run records for status")
    parser.add_argument("--run-cost-only", action="store_true", help="only the systemctl start loop figures")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon bench: {deb.name}, systemd in systemd-nspawn (Debian 12), {time.strftime('%Y-%m-%d')}")
    with Container() as box:  # boots; shut down on exit
        box.install_deb(deb)
        print("  " + box.run("systemctl --version").stdout.splitlines()[0])
        if args.run_cost_only:
            box.run("systemctl stop bamon.target")
            bench_run_cost(box, args.runs)
            return 0
        bench_idle(box)
        box.run("systemctl stop bamon.target")  # the sample checks would add noise
        bench_generator(box)  # first: before thousands of runs keep journald busy
        bench_run_cost(box, args.runs)
        section("bamon status")
        bench_status(box, 200, 0)
        bench_status(box, 1000, args.history)
        bench_add(box)
    return 0


if __name__ == "__main__":
    sys.exit(main())
