#!/usr/bin/env python3
"""History and analytics figures against a journal holding weeks of runs (DESIGN §7, issue 9).

The journal is filled with systemd's own tools: a generator (run inside the container) writes,
in the Journal Export Format, every entry a run leaves on a systemd 252 host — PID 1's
"Starting …", "Deactivated successfully" and "Finished …" (or its failure lines), the check's
output line and run-check's record line — each with the realtime stamp journald would have
given it, in time order across all checks, one boot whose monotonic clock matches.
`systemd-journal-remote` imports that stream into journal files beside the machine's own
(rotating them at journald's own size limits), where journalctl and python-systemd read them
like any other. Each check also gets the `last` file run-check would have left, naming its
newest synthetic invocation, so `bamon status` does the same seeks as on a live machine.

    python3 bench/history_bench.py [--deb dist/bamon_X_all.deb] [--status-days 7] [--repeat 5]
                                   [--only status|history|analytics …]

--only measures some of the three and imports only the journal they read: `--only history` needs
the 30 days of one 1-minute check (216,000 entries, imported in seconds), where `status` needs
the 1,000 checks' weeks. The config is the same 1,101 checks either way, so every figure is
comparable with a full run's.

The journal lives on the host's disk (a directory bound over /var/log/journal, removed at the
end), not in the container's in-memory overlay: 7 days of 5-minute runs of 1,000 checks is
about 5 GB in some 70 files of journald's size limit (11 million entries; importing it took 11
minutes at a load of 4-10 on two cores). journald is told to keep it (SystemMaxUse=), as a host
keeping that much must be.

Figures (goals from issue 9): `status --json` with 1,000 checks and N days of 5-minute history
(≤ 0.5 s), `history NAME --since 30d` of a 1-minute check (≤ 1 s: --json, the table piped and on a
terminal, and with -n and --status), `analytics` for 100 checks over 7 days (≤ 5 s). Each is the
median of --repeat runs, as wall time and as CPU time (user + sys of the command and its
children, from bash's `time`), with the host's load average when it was measured: on a busy
host wall time is CPU time plus waiting for a core. Asserts nothing: the numbers are for people.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from nspawn import Container  # noqa: E402

from bench import package  # noqa: E402

# Runs inside the container: prints the export stream on stdout and writes the `last` files.
# argv: NOW_S, then groups "prefix:count:interval_s:days".
GENERATOR = r'''
import heapq, os, sys, uuid
now = int(float(sys.argv[1]))
groups = [g.split(":") for g in sys.argv[2:]]
boot = uuid.uuid4().hex
# one boot, an hour before the oldest run: the monotonic clock counts from it
boot_us = (now - int(max(float(g[3]) for g in groups) * 86400) - 3600) * 1_000_000
machine = open("/etc/machine-id").read().strip()
host = f"_HOSTNAME=bamon-bench\n_MACHINE_ID={machine}\n_BOOT_ID={boot}\n"
pid1 = (host + "_PID=1\n_UID=0\n_GID=0\n_COMM=systemd\n_EXE=/usr/lib/systemd/systemd\n_TRANSPORT=journal\n"
        "SYSLOG_IDENTIFIER=systemd\nSYSLOG_FACILITY=3\n_SYSTEMD_CGROUP=/init.scope\n_SYSTEMD_UNIT=init.scope\n"
        "_SYSTEMD_SLICE=-.slice\nCODE_FILE=src/core/unit.c\n")
STARTING, STARTED = "7d4958e842da4a758f6c1cdc7b36dcc5", "39f53479d3a045ac8e11786248231fbf"
DEACTIVATED, FAILED = "7ad2d189f7e94e70a38c781354912448", "d9b373ed55a64feb8242e02dbe79a49c"
PROCESS_EXIT = "98e322203f7a4ed290d09fe03c09fe15"

def stamp(us, text):
    return (us, f"__REALTIME_TIMESTAMP={us}\n__MONOTONIC_TIMESTAMP={us - boot_us}\n{text}\n".encode())

def runs(g, prefix, i, interval, days):
    """Every entry of one check's runs, oldest first: (realtime µs, export-format bytes)."""
    name = f"{prefix}{i:04d}"
    unit = f"bamon-{name}.service"
    title = f"bamon check {name}: bench"
    about = f"{pid1}UNIT={unit}\n"
    own = (f"{host}_TRANSPORT=stdout\n_UID=998\n_GID=998\n_COMM=bash\n_EXE=/usr/bin/bash\nSYSLOG_FACILITY=3\n"
           f"SYSLOG_IDENTIFIER=bamon-{name}\nBAMON_CHECK={name}\n_SYSTEMD_UNIT={unit}\n_SYSTEMD_SLICE=bamon.slice\n"
           f"_SYSTEMD_CGROUP=/bamon.slice/{unit}\n")
    count = int(days * 86400 // interval)
    for r in range(count):
        start = (now - (count - r) * interval + i % interval) * 1_000_000
        failed = (r * 7 + i) % 97 == 0
        duration = 40_000 + (r * 31 + i) % 20_000 + (1_500_000 if (r + i) % 1009 == 0 else 0)
        end = start + duration
        inv = f"{g:02x}{i:06x}{r:024x}"
        result, status = ("exit-code", 1) if failed else ("success", 0)
        pid = 1000 + (r * 3 + i) % 30000
        mine = f"{own}_PID={pid}\n_SYSTEMD_INVOCATION_ID={inv}\n_STREAM_ID={inv[::-1]}\n"
        yield stamp(start - 600, f"{about}INVOCATION_ID={inv}\nMESSAGE_ID={STARTING}\nPRIORITY=6\n"
                                 f"JOB_TYPE=start\nMESSAGE=Starting {unit} - {title}...\n")
        yield stamp(end - 100, f"{mine}PRIORITY=6\nMESSAGE=check {name} run {r}: {'broken' if failed else 'fine'}\n")
        yield stamp(end, f"{mine}PRIORITY={3 if failed else 6}\n"
                         f"MESSAGE=bamon-run result={result} exit_code=exited exit_status={status} start_usec={start} "
                         f"end_usec={end} duration_usec={duration} consecutive_failures={int(failed)} attempt=1 "
                         f"attempts=1 skip=- invocation={inv} cpu_usec={duration // 4}\n")
        if failed:
            yield stamp(end + 200, f"{about}INVOCATION_ID={inv}\nMESSAGE_ID={PROCESS_EXIT}\nPRIORITY=5\n"
                                   f"EXIT_CODE=exited\nEXIT_STATUS=1\n"
                                   f"MESSAGE={unit}: Main process exited, code=exited, status=1/FAILURE\n")
            yield stamp(end + 300, f"{about}INVOCATION_ID={inv}\nMESSAGE_ID={FAILED}\nPRIORITY=4\n"
                                   f"UNIT_RESULT=exit-code\nMESSAGE={unit}: Failed with result 'exit-code'.\n")
            yield stamp(end + 400, f"{about}INVOCATION_ID={inv}\nMESSAGE_ID={STARTED}\nPRIORITY=3\nJOB_TYPE=start\n"
                                   f"JOB_RESULT=failed\nMESSAGE=Failed to start {unit} - {title}.\n")
        else:
            yield stamp(end + 300, f"{about}INVOCATION_ID={inv}\nMESSAGE_ID={DEACTIVATED}\nPRIORITY=6\n"
                                   f"MESSAGE={unit}: Deactivated successfully.\n")
            yield stamp(end + 400, f"{about}INVOCATION_ID={inv}\nMESSAGE_ID={STARTED}\nPRIORITY=6\nJOB_TYPE=start\n"
                                   f"JOB_RESULT=done\nMESSAGE=Finished {unit} - {title}.\n")
    state = f"/var/lib/bamon/checks/{name}"
    os.makedirs(state, exist_ok=True)
    with open(f"{state}/last", "w") as handle:
        handle.write(f"{inv} {result} {status} {start} {end} {int(failed)}\n")

checks = [runs(g, prefix, i, int(interval), float(days))
          for g, (prefix, count, interval, days) in enumerate(groups) for i in range(int(count))]
out = sys.stdout.buffer
# all checks' entries merged in time order, as journald would have written them
for _, data in heapq.merge(*checks, key=lambda e: e[0]):
    out.write(data)
'''

JOURNALD_CONF = "[Journal]\nStorage=persistent\nSystemMaxUse=100G\nSystemKeepFree=1G\n"


def timed(box: Container, script: str) -> tuple[float, float]:
    """(wall s, CPU s: user + sys of the command and its children) of a shell snippet inside."""
    out = box.run(f"TIMEFORMAT='%R %U %S'; {{ time {script} >/dev/null; }} 2>&1 | tail -n 1", timeout=600).stdout
    wall, user, system = (float(x) for x in out.split()[-3:])
    return wall, user + system


def reference(box: Container) -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this host runs Python right now."""
    return float(box.run("python3 -c 'import time; c = time.process_time(); sum(i * i for i in range(3_000_000)); "
                         "print(time.process_time() - c)'").stdout)


def load(box: Container) -> str:
    return box.run("cut -d' ' -f1-3 /proc/loadavg").stdout.strip()


def measure(box: Container, what: str, script: str, goal: str, repeat: int) -> None:
    """Median wall and CPU time of `repeat` runs, with the load average before and after."""
    before = load(box)
    samples = [timed(box, script) for _ in range(repeat)]
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    print(f"  {what}\n      wall {wall * 1000:6.0f} ms (min {min(s[0] for s in samples) * 1000:.0f})   "
          f"CPU {cpu * 1000:6.0f} ms (min {min(s[1] for s in samples) * 1000:.0f})   goal: {goal}   "
          f"load average {before} → {load(box)} (2 cores)")


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
    box.run(f"set -o pipefail; python3 /tmp/gen.py {now} {' '.join(groups)} | /lib/systemd/systemd-journal-remote "
            "--split-mode=none -o /var/log/journal/$(cat /etc/machine-id)/remote-bench.journal -", timeout=7200)
    return time.monotonic() - started


# What each figure reads: (journal groups "prefix:count:interval_s:days" to import). `status`
# reads all 1,101 configured checks, so it needs every group; {days} is --status-days.
GROUPS = {"status": ("s:1000:300:{days}", "a:100:300:7", "m:1:60:30"), "history": ("m:1:60:30",),
          "analytics": ("a:100:300:7",)}
FIGURES = tuple(GROUPS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help="the package to measure (default: build one)")
    parser.add_argument("--status-days", type=float, default=7, help="days of 5-minute history for 1,000 checks")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (medians are printed)")
    parser.add_argument("--only", choices=FIGURES, action="append",
                        help="measure only this figure (repeatable; default: all)")
    args = parser.parse_args()
    deb = package(args.deb)
    print(f"bamon history bench: {deb.name}, systemd in systemd-nspawn (Debian 12), {time.strftime('%Y-%m-%d')}")
    disk = Path(tempfile.mkdtemp(prefix="bamon-bench-journal.", dir="/var/tmp"))
    try:
        with Container(nspawn_args=[f"--bind={disk}:/var/log/journal"]) as box:
            run_bench(box, deb, args)
    finally:
        shutil.rmtree(disk, ignore_errors=True)
    return 0


def imported(groups: list[str]) -> int:
    """How many runs the groups hold (as the generator counts them)."""
    return sum(int(int(count) * float(days) * 86400 // int(interval))
               for count, interval, days in (g.split(":")[1:] for g in groups))


def run_bench(box: Container, deb: Path, args: argparse.Namespace) -> None:
    figures = [f for f in FIGURES if f in (args.only or FIGURES)]
    groups = list(dict.fromkeys(g.format(days=args.status_days) for f in figures for g in GROUPS[f]))
    box.install_deb(deb)
    box.run("apt-get install -y -qq --no-install-recommends systemd-journal-remote >/dev/null",
            env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
    box.path("/etc/systemd/journald.conf.d").mkdir(parents=True, exist_ok=True)
    box.path("/etc/systemd/journald.conf.d/bench.conf").write_text(JOURNALD_CONF)
    box.run("systemctl stop bamon.target; systemd-tmpfiles --create --prefix /var/log/journal "
            "&& systemctl restart systemd-journald")
    box.path("/etc/bamon/config.yaml").write_text(config([("s", 1000, 300), ("a", 100, 300), ("m", 1, 60)]))
    box.run("systemctl daemon-reload")
    took = fill(box, groups, time.time())
    entries = sum(int(line.split(":")[1]) for line in box.run("journalctl --header", timeout=600).stdout.splitlines()
                  if line.startswith("Entry objects:"))
    size = box.run("journalctl --disk-usage").stdout.strip().split("take up ")[-1].split(" in")[0]
    files = box.run("ls /var/log/journal/*/ | wc -l").stdout.strip()
    print(f"  journal: {imported(groups):,} synthetic runs ({' '.join(groups)}), {entries:,} entries in {files} "
          f"files ({size}), imported with systemd-journal-remote in {took:.0f} s")
    print(f"  reference: a fixed pure-Python loop takes {reference(box) * 1000:.0f} ms of CPU here "
          "(to compare hosts and moments)")
    for figure in figures:
        FIGURE[figure](box, args)


def bench_status(box: Container, args: argparse.Namespace) -> None:
    box.run("bamon status --json >/dev/null")  # warm caches
    measure(box, f"bamon status --json, 1,101 checks (1,000 with {args.status_days:g} days of 5-min history)",
            "bamon status --json", "≤ 500 ms", args.repeat)


def bench_history(box: Container, args: argparse.Namespace) -> None:
    """The --json document, the table piped (plain rows) and on a terminal (a pty: colours,
    sparklines, every row through the pager, cat here), and the two filters."""
    box.run("bamon history m0000 --since 30d --json >/dev/null")  # warm caches
    shown = box.run("bamon history m0000 --since 30d --json | grep -c invocationId").stdout.strip()
    failed = box.run("bamon history m0000 --since 30d --status FAILED | tail -n +2 | wc -l").stdout.strip()
    history = "bamon history m0000 --since 30d"
    for what, script in ((f"--json, a 1-minute check ({shown} runs)", f"{history} --json"),
                         ("the table, piped", history),
                         ("the table on a terminal (pty, PAGER=cat)",
                          f"PAGER=cat script -qec '{history}' /dev/null"),
                         ("-n 20", f"{history} -n 20"),
                         (f"--status FAILED ({failed} rows)", f"{history} --status FAILED")):
        measure(box, f"bamon history m0000 --since 30d {what}", script, "≤ 1 s", args.repeat)


def bench_analytics(box: Container, args: argparse.Namespace) -> None:
    box.path("/etc/bamon/config.yaml").write_text(config([("a", 100, 300)]))  # analytics of these 100
    measure(box, "bamon analytics --since 7d --json, 100 checks over 7 days (100 × 2,016 runs)",
            "bamon analytics --since 7d --json", "≤ 5 s", max(args.repeat // 2, 1))


FIGURE = {"status": bench_status, "history": bench_history, "analytics": bench_analytics}


if __name__ == "__main__":
    sys.exit(main())
