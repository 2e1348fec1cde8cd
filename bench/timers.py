#!/usr/bin/env python3
"""What a host pays per check run: runs fired by timers, CPU of the container's whole cgroup.

A `systemctl start` loop (bench/bench.py) adds the client's own constant cost to every unit and
so hides ratios. Here, as on a real host, timers fire the runs and nothing else happens: for
each variant, N services of `true` (bare units, or bamon checks of one profile) on timers every
INTERVAL seconds, and the CPU of the container's cgroup v2 tree (PID 1, journald, the runs,
everything) over a fixed window, divided by the runs that finished in it. An idle window (no
timers) is measured the same way and subtracted. Variants are measured in interleaved rounds
and the median is printed, because other load on the machine drifts over minutes.

    sudo python3 bench/timers.py --deb dist/bamon_X_all.deb [--rounds 5] [--window 20]
    sudo python3 bench/timers.py --deb … --options          # each hardening option alone
    sudo python3 bench/timers.py --deb … --thousand         # 1,000 checks every 60 s, default profile
    sudo python3 bench/timers.py --deb … --recovery         # two dependencies + a circuit breaker
    sudo python3 bench/timers.py --deb … --recovery --only bare,minimal,min_rec --rounds 15
    sudo python3 bench/timers.py --deb … --recovery --ablations --only bare,rec_same,rec_noenv,…
    sudo python3 bench/timers.py --deb … --recovery --only bare,minimal,min_rec --state-on-disk

The container's files live on a tmpfs (--volatile=overlay); --state-on-disk puts the checks'
state (/var/lib/bamon) on the host's disk instead, as on a real host: what a filesystem such as
ext4 does for each run's `last` line then counts too. (Checks under DynamicUser=, balanced and
strict, keep theirs in /var/lib/private, still on the tmpfs.)

It asserts nothing: it prints figures beside the goals of DESIGN §7.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "system")]

from nspawn import Container  # noqa: E402

from bamon.units import minify  # noqa: E402

# systemd's "unit succeeded" journal message (SD_MESSAGE_UNIT_SUCCESS): one per finished run.
UNIT_SUCCESS = "7ad2d189f7e94e70a38c781354912448"

# Each hardening option alone, added to the bare unit. Kept in step with bamon/units/hardening.py.
OPTIONS: dict[str, list[str]] = {
    "User=bamon": ["User=bamon"],
    "StateDirectory=": ["StateDirectory=bench/%N"],
    "NoNewPrivileges=yes": ["NoNewPrivileges=yes"],
    "SystemCallFilter=@system-service": ["NoNewPrivileges=yes", "SystemCallFilter=@system-service",
                                         "SystemCallFilter=~@privileged @resources",
                                         "SystemCallErrorNumber=EPERM"],
    "SystemCallArchitectures=native": ["SystemCallArchitectures=native"],
    "RestrictNamespaces=yes": ["RestrictNamespaces=yes"],
    "LockPersonality=yes": ["LockPersonality=yes"],
    "RestrictRealtime=yes": ["RestrictRealtime=yes"],
    "RestrictSUIDSGID=yes": ["RestrictSUIDSGID=yes"],
    "MemoryDenyWriteExecute=yes": ["MemoryDenyWriteExecute=yes"],
    "CapabilityBoundingSet= (empty)": ["CapabilityBoundingSet="],
    "RestrictAddressFamilies=": ["RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"],
    "ProtectClock=yes": ["ProtectClock=yes"],
    "ProtectHostname=yes": ["ProtectHostname=yes"],
    "UMask=0077": ["UMask=0077"],
    "RemoveIPC=yes (with User=)": ["User=bamon", "RemoveIPC=yes"],
    "PrivateNetwork=yes": ["PrivateNetwork=yes"],
    "IPAddressDeny=any, allow localhost": ["IPAddressDeny=any", "IPAddressAllow=localhost"],
    "PrivateTmp=yes": ["PrivateTmp=yes"],
    "ProtectSystem=strict": ["ProtectSystem=strict"],
    "ProtectHome=read-only": ["ProtectHome=read-only"],
    "PrivateDevices=yes": ["PrivateDevices=yes"],
    "PrivateMounts=yes": ["PrivateMounts=yes"],
    "ProtectKernelTunables=yes": ["ProtectKernelTunables=yes"],
    "ProtectKernelModules=yes": ["ProtectKernelModules=yes"],
    "ProtectKernelLogs=yes": ["ProtectKernelLogs=yes"],
    "ProtectControlGroups=yes": ["ProtectControlGroups=yes"],
    "PrivateUsers=yes": ["PrivateUsers=yes"],
}


@dataclass(frozen=True)
class Variant:
    """N services on timers: bare units with extra lines, or bamon checks of one profile."""

    key: str  # unit-name safe
    label: str
    lines: tuple[str, ...] = ()
    profile: str | None = None  # a bamon profile: the services are bamon's generated ones
    # (profile, {setting: replacement or ""}): that profile's generated unit, edited, as a plain unit
    edit: tuple[str, tuple[tuple[str, str], ...]] | None = None
    extra: str = ""  # more keys of the bamon check, in YAML flow style (recovery settings)

    def service(self, i: int) -> str:
        return f"bamon-bt-{self.key}-{i}.service" if self.profile else f"bt-{self.key}-{i}.service"

    @property
    def glob(self) -> str:
        return ("bamon-" if self.profile else "") + f"bt-{self.key}-*.service"


def bare_unit(lines: tuple[str, ...]) -> str:
    return "\n".join(["[Unit]", "Description=bench %N", "[Service]", "Type=oneshot",
                      "ExecStart=/bin/bash -c true", *lines]) + "\n"


def install(box: Container, variants: list[Variant], count: int, interval: int) -> None:
    """Write every variant's services, timers (spread over the interval) and target."""
    units = box.path("/etc/systemd/system")
    checks = []
    for v in variants:
        timers = []
        for i in range(count):
            if v.profile:
                extra = f", {v.extra}" if v.extra else ""
                checks.append(f"  - {{name: bt-{v.key}-{i}, command: 'true', enabled: false, sandbox: {v.profile}"
                              f"{extra}}}")
            else:
                (units / v.service(i)).write_text(bare_unit(v.lines))
            timer = f"bt-{v.key}-{i}.timer"
            (units / timer).write_text(
                f"[Unit]\nPartOf=bt-{v.key}.target\n[Timer]\nUnit={v.service(i)}\n"
                f"OnActiveSec={1 + i * interval / count:.3f}s\nOnUnitActiveSec={interval}s\nAccuracySec=1s\n")
            timers.append(timer)
        (units / f"bt-{v.key}.target").write_text(f"[Unit]\nWants={' '.join(timers)}\n")
    if any(v.extra for v in variants):  # the checks recovery variants depend on, never scheduled
        checks += [f"  - {{name: {dep}, command: 'true', enabled: false}}" for dep in RECOVERY_DEPENDENCIES]
    if checks:
        box.path("/etc/bamon/config.yaml").write_text("scripts:\n" + "\n".join(checks) + "\n")
    box.run("systemctl daemon-reload", timeout=600)
    if any(v.extra for v in variants):  # one successful run each: their `last` files exist, as in real life
        box.run("systemctl start " + " ".join(f"bamon-{dep}.service" for dep in RECOVERY_DEPENDENCIES))
    derived = [v for v in variants if v.edit]
    for v in derived:
        assert v.edit
        profile, changes = v.edit
        text = box.path(f"/run/systemd/generator/bamon-bt-{profile}-0.service").read_text()
        edits = dict(changes)
        missing = set(edits) - set(text.splitlines())
        if missing:  # an edit that matches nothing would measure the unedited unit under another name
            sys.exit(f"{v.key}: the {profile} unit has no line {sorted(missing)}")
        kept = "\n".join(edits.get(line, line) for line in text.splitlines() if edits.get(line, line)) + "\n"
        for i in range(count):
            (units / v.service(i)).write_text(kept.replace(f"bt-{profile}-0", f"bt-{v.key}-{i}"))
    if derived:
        box.run("systemctl daemon-reload", timeout=600)


def runs_between(box: Container, v: Variant, cursor: str, until: float) -> int:
    """Runs of `v` that finished after the journal's `cursor` and before `until` (the epoch).

    Only the window's own entries are read: counting each variant's whole history grew with
    every round and took longer than the windows themselves.
    """
    out = box.run(f"journalctl -q -o cat --no-pager --after-cursor='{cursor}' --until=@{until:.6f} "
                  f"MESSAGE_ID={UNIT_SUCCESS} | grep -c -E '^(bamon-)?bt-{v.key}-' || true",
                  timeout=300).stdout
    return int(out.strip() or 0)


def window(box: Container, v: Variant | None, seconds: float, warmup: float) -> tuple[float, int]:
    """(CPU ms used by the container, runs finished) over one window of `v` (None: idle)."""
    if v:
        box.run(f"systemctl start bt-{v.key}.target")
    time.sleep(warmup)
    cursor = cursor_now(box) if v else ""
    cpu0 = box.cpu_usec()
    time.sleep(seconds)
    cpu1 = box.cpu_usec()
    until = time.time()
    if v:
        box.run(f"systemctl stop bt-{v.key}.target")
    return (cpu1 - cpu0) / 1000, runs_between(box, v, cursor, until) if v else 0


def measure(box: Container, variants: list[Variant], rounds: int, seconds: float,
            warmup: float) -> dict[str, list[float]]:
    """CPU ms per run of each variant in each of the interleaved rounds, idle subtracted."""
    per_run: dict[str, list[float]] = {v.key: [] for v in variants}
    for r in range(rounds):
        idle_ms, _ = window(box, None, seconds, 1)
        # each round starts one variant later: no variant always follows the same one (and pays
        # for what that one left behind, such as journald still writing its entries)
        for v in variants[r % len(variants):] + variants[:r % len(variants)]:
            cpu, runs = window(box, v, seconds, warmup)
            per_run[v.key].append((cpu - idle_ms) / max(runs, 1))
            print(f"    round {r + 1}: {v.label:<44} {runs:5d} runs {per_run[v.key][-1]:7.2f} ms/run "
                  f"(idle {idle_ms / seconds:.1f} ms/s)", file=sys.stderr, flush=True)
    return per_run


def median_interval(values: list[float]) -> tuple[float, float]:
    """The order statistics that hold the median with at least 95 % confidence (binomial, free of
    any assumption on the rounds' distribution; 15 rounds: the 4th and the 12th). How sure the
    rounds make the median, not how they spread: a figure is under its goal beyond the noise only
    when the top of this interval is. Fewer than 6 rounds: their range."""
    ordered, n = sorted(values), len(values)
    below, j = 0.0, 0  # P(fewer than j+1 rounds fall below the true median)
    while j < n // 2 and 2 * (below + math.comb(n, j) / 2**n) <= 0.05:
        below += math.comb(n, j) / 2**n
        j += 1
    return (ordered[j - 1], ordered[n - j]) if j else (ordered[0], ordered[-1])


def medians(rounds: dict[str, list[float]]) -> dict[str, float]:
    """Each variant's median over its rounds: other load on the machine drifts over minutes."""
    return {key: statistics.median(values) for key, values in rounds.items()}


def exposure(box: Container, unit: str) -> str:
    out = box.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit], check=False).stdout
    return next((line.split(":", 1)[-1].strip() for line in out.splitlines() if "Overall exposure" in line), "?")


def unit_path(v: Variant) -> str:
    return f"/run/systemd/generator/{v.service(0)}" if v.profile else f"/etc/systemd/system/{v.service(0)}"


PROFILES = [Variant("bare", "bare oneshot, ExecStart=/bin/bash -c true"),
            Variant("minimal", "bamon check `true`, minimal", profile="minimal"),
            Variant("balanced", "bamon check `true`, balanced (default)", profile="balanced"),
            Variant("strict", "bamon check `true`, strict", profile="strict")]
# Ablations: what parts of the balanced profile cost.
FILTER = "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap syslog"
ABLATIONS = [
    Variant("bal_nofilter", "balanced without any SystemCallFilter=",
            edit=("balanced", (("SystemCallFilter=~@privileged @resources", ""), (FILTER, ""),
                               ("SystemCallErrorNumber=EPERM", "")))),
    Variant("bal_allow", "balanced, allow list @system-service instead",
            edit=("balanced", ((FILTER, "SystemCallFilter=@system-service"),))),
    Variant("bal_nouser", "balanced without User= and StateDirectory=",
            edit=("balanced", (("User=bamon", ""), ("StateDirectory=bamon/checks/bt-balanced-0", "")))),
]
GOALS = {"minimal": 1.3, "balanced": 2.0, "strict": 4.0, "min_rec": 1.3, "bal_rec": 2.0}
# Recovery (issue 7): what two dependencies and a circuit breaker add to a successful run (run-check
# stats the two dependencies' `failing` files and the circuit file with bash builtins; no process
# is added). The dependencies run once, so their files exist and are empty, as a passing check's.
RECOVERY_DEPENDENCIES = ("bt-dep-a", "bt-dep-b")
_RECOVERY_KEYS = "dependencies: [bt-dep-a, bt-dep-b], circuit_breaker: {failures: 5, cooldown: 10m}"
RECOVERY = [PROFILES[0], PROFILES[1],
            Variant("min_rec", "minimal + 2 dependencies + circuit breaker", profile="minimal", extra=_RECOVERY_KEYS),
            PROFILES[2],
            Variant("bal_rec", "balanced + 2 dependencies + circuit breaker", profile="balanced",
                    extra=_RECOVERY_KEYS),
            PROFILES[3]]  # so that one run gives every goal of issues 6 and 7
EXPOSURE_GOALS = {"balanced": 4.0, "strict": 2.5}
# Ablations of the recovery check (--recovery --ablations): where its cost above `minimal` goes.
# Each is min_rec's generated unit, edited, as a plain unit named after the variant (so it lacks
# its own cpu.stat in bamon.slice, alike for all: compare them with rec_same, not minimal).
# Some run copies of run-check that make_copies() writes into the container.
RUN_CHECK_DIR = "/usr/lib/python3/dist-packages/bamon/units"  # where the package installs run-check
_REC_EXEC = f'ExecStart=/bin/bash "{RUN_CHECK_DIR}/run-check" "bt-min_rec-0" "true"'
_REC_ENV = (('Environment="BAMON_WATCH=bt-min_rec-0/circuit ' + " ".join(f"{d}/failing" for d in RECOVERY_DEPENDENCIES)
             + '"', ""),)
COPIES = {"comments": "/usr/local/lib/bt-comments",
          "exit": "/usr/local/lib/bt-exit", "line": "/usr/local/lib/bt-line", "tree": "/usr/local/lib/bt-tree"}
# run-check replaced, in the copies that measure what bash reading a script and one record line cost
_LINE = ("printf '<6>bamon-run result=success exit_code=exited exit_status=0 start_usec=%s end_usec=%s "
         "duration_usec=1 consecutive_failures=0 attempt=1 attempts=1 skip=- invocation=%s cpu_usec=\\n' "
         "1 2 \"$INVOCATION_ID\" >&2\n")
REPLACED = {"exit": "exit 0\n", "line": _LINE}
REC_ABLATIONS = [
    Variant("rec_same", "min_rec, as an edited unit (their reference)", edit=("min_rec", ())),
    Variant("rec_noenv", "min_rec without BAMON_WATCH (no gates)", edit=("min_rec", _REC_ENV)),
    Variant("rec_comments", "min_rec, run-check* with their comments (the sources, not the installed form)",
            edit=("min_rec", ((_REC_EXEC, _REC_EXEC.replace(RUN_CHECK_DIR, COPIES["comments"])),))),
    # what the unit's settings cost without run-check, and each group of settings
    Variant("rec_exit", "min_rec, run-check only `exit 0`",
            edit=("min_rec", ((_REC_EXEC, _REC_EXEC.replace(RUN_CHECK_DIR, COPIES["exit"])),))),
    Variant("rec_line", "min_rec, run-check only prints a record line",
            edit=("min_rec", ((_REC_EXEC, _REC_EXEC.replace(RUN_CHECK_DIR, COPIES["line"])),))),
    Variant("rec_tree", "min_rec, run-check* of this tree as the package installs them",
            edit=("min_rec", ((_REC_EXEC, _REC_EXEC.replace(RUN_CHECK_DIR, COPIES["tree"])),))),
    Variant("rec_true", "min_rec's settings, ExecStart=/bin/bash -c true",
            edit=("min_rec", ((_REC_EXEC, "ExecStart=/bin/bash -c true"),))),
    Variant("rec_nomem", "min_rec without MemoryMax= and MemorySwapMax=",
            edit=("min_rec", (("MemoryMax=102400K", ""), ("MemorySwapMax=0", "")))),
    Variant("rec_noslice", "min_rec without Slice=bamon.slice", edit=("min_rec", (("Slice=bamon.slice", ""),))),
    Variant("rec_nolog", "min_rec without SyslogIdentifier= and LogExtraFields=",
            edit=("min_rec", (("SyslogIdentifier=bamon-bt-min_rec-0", ""),
                              ("LogExtraFields=BAMON_CHECK=bt-min_rec-0", "")))),
    Variant("rec_nolimits", "min_rec without LimitCPU=, LimitFSIZE=, LimitAS=",
            edit=("min_rec", (("LimitCPU=60", ""), ("LimitFSIZE=10240K", ""), ("LimitAS=102400K", "")))),
]


def make_copies(box: Container) -> None:
    """The copies of run-check the rec_* ablations run: the installed files edited, this tree's
    with their comments, or as the package installs them (bamon/units/minify.py)."""
    for name, directory in COPIES.items():
        target = box.path(directory)
        target.mkdir(parents=True, exist_ok=True)
        source = REPO / "bamon" / "units" if name in ("comments", "tree") else box.path(RUN_CHECK_DIR)
        scripts = sorted(source.glob("run-check*"))
        if not scripts:
            sys.exit(f"no run-check in {source}")
        for script in scripts:
            text = script.read_text()
            (target / script.name).write_text(minify.installed(text) if name == "tree" else text)
        if name in REPLACED:
            (target / "run-check").write_text(REPLACED[name])


def profile_variants(args: argparse.Namespace) -> tuple[list[Variant], list[Variant]]:
    """(the variants to install, the ones to measure: --only). Exits on an unknown key, before
    the container is booted."""
    ablations = (REC_ABLATIONS if args.recovery else ABLATIONS) if args.ablations else []
    variants = (RECOVERY if args.recovery else PROFILES) + ablations
    keys = args.only.split(",") if args.only else [v.key for v in variants]
    unknown = set(keys) - {v.key for v in variants}
    if unknown or "bare" not in keys:
        sys.exit(f"--only: {', '.join(sorted(unknown)) or 'bare is missing'}; the ratios need bare; "
                 f"choose among {', '.join(v.key for v in variants)}")
    return variants, [v for v in variants if v.key in keys]


def bench_profiles(box: Container, args: argparse.Namespace) -> None:
    installed, variants = profile_variants(args)
    install(box, installed, args.count, args.interval)  # all: the ablations edit their units
    if args.recovery and args.ablations:
        make_copies(box)
    print(f"\n== CPU per timer-fired run ({args.count} units per variant every {args.interval} s; "
          f"{args.rounds} interleaved rounds of {args.window:g} s; median; whole container, idle subtracted)")
    rounds = measure(box, variants, args.rounds, args.window, args.interval)
    result = medians(rounds)
    bare = result["bare"]
    for v in variants:
        ratio = result[v.key] / bare
        goal = f"≤ {GOALS[v.key]}× bare" if v.key in GOALS else "(reference 4.0–5.1 ms)"
        score = exposure(box, unit_path(v))
        goal += f"; exposure ≤ {EXPOSURE_GOALS[v.key]}" if v.key in EXPOSURE_GOALS else ""
        # each round's own ratio: how far the host's drift between rounds moves the figure
        each = sorted(x / b for x, b in zip(rounds[v.key], rounds["bare"], strict=True))
        low, high = median_interval(each)
        print(f"  {v.label:<44} {result[v.key]:6.2f} ms  {ratio:4.2f}×  (rounds {each[0]:.2f}–{each[-1]:.2f}, "
              f"median {statistics.median(each):.2f}, 95 % {low:.2f}–{high:.2f})  exposure {score:<10}  goal: {goal}")


def bench_options(box: Container, args: argparse.Namespace) -> None:
    variants = [Variant("bare", "bare oneshot")] + [
        Variant(f"o{i}", label, tuple(lines)) for i, (label, lines) in enumerate(OPTIONS.items())]
    install(box, variants, args.count, args.interval)
    print(f"\n== each option alone on the bare oneshot ({args.rounds} interleaved rounds of {args.window:g} s)")
    result = medians(measure(box, variants, args.rounds, args.window, args.interval))
    bare = result["bare"]
    print(f"  {'bare oneshot':<44} {bare:6.2f} ms")
    for v in variants[1:]:
        print(f"  {v.label:<44} {result[v.key]:6.2f} ms  {result[v.key] - bare:+6.2f} ms")


def records_since(box: Container, cursor: str) -> int:
    """Run records (one `bamon-run` line per finished run) journald filed after `cursor`."""
    out = box.run(f"journalctl -q -o cat --no-pager --after-cursor='{cursor}' -g '^bamon-run ' | wc -l",
                  timeout=300).stdout
    return int(out.strip() or 0)


def cursor_now(box: Container) -> str:
    out = box.run("journalctl -q -n 0 --show-cursor --no-pager").stdout
    return out.strip().removeprefix("-- cursor: ")


def _shares(box: Container, rounds: int, runs_since: Callable[[str], int]) -> float:
    """Median CPU of the whole container, in % of one core, over `rounds` windows of 60 s."""
    shares = []
    for _ in range(rounds):
        cursor, cpu0 = cursor_now(box), box.cpu_usec()
        time.sleep(60)
        cpu1 = box.cpu_usec()
        shares.append((cpu1 - cpu0) / 60e6 * 100)
        print(f"    {runs_since(cursor)} runs, {shares[-1]:.1f} % of a core", file=sys.stderr, flush=True)
    return statistics.median(shares)


def bench_thousand(box: Container, args: argparse.Namespace) -> None:
    """1,000 runs a minute: first the floor (bare oneshots on timers spread over the minute), then
    bamon's checks on their own timers with the product's defaults (balanced; daemon.max_concurrent
    10 unless --max-concurrent says otherwise)."""
    print(f"\n== 1,000 units every 60 s ({args.rounds} windows of 60 s after a 70 s warm-up each)")
    bare = Variant("k0", "bare oneshot")
    install(box, [bare], 1000, 60)
    box.run(f"systemctl start bt-{bare.key}.target", timeout=600)
    time.sleep(70)
    floor = _shares(box, args.rounds, lambda cursor: _successes_since(box, bare, cursor))
    box.run(f"systemctl stop bt-{bare.key}.target", timeout=600)
    print(f"  bare oneshots (`bash -c true`), the floor:      {floor:5.1f} % of one core")

    lines = [f"daemon: {{max_concurrent: {args.max_concurrent}}}", "scripts:"] + [
        f"  - {{name: bt-k-{i}, command: 'true', interval: 60}}" for i in range(1000)]
    box.path("/etc/bamon/config.yaml").write_text("\n".join(lines) + "\n")
    box.run("systemctl daemon-reload && systemctl start bamon.target", timeout=600)
    time.sleep(70)
    share = _shares(box, args.rounds, lambda cursor: records_since(box, cursor))
    print(f"  bamon checks, default profile, max_concurrent {args.max_concurrent}: {share:5.1f} % of one core "
          f"({share / floor:.2f}× the floor)   goal: ≤ 10 %")


def _successes_since(box: Container, v: Variant, cursor: str) -> int:
    out = box.run(f"journalctl -q -o cat --no-pager --after-cursor='{cursor}' -u '{v.glob}' "
                  f"MESSAGE_ID={UNIT_SUCCESS} | wc -l", timeout=300).stdout
    return int(out.strip() or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, required=True, help="the bamon package to measure")
    parser.add_argument("--count", type=int, default=50, help="units per variant")
    parser.add_argument("--interval", type=int, default=5, help="seconds between runs of one unit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--window", type=float, default=20, help="seconds measured per variant and round")
    parser.add_argument("--options", action="store_true", help="each hardening option alone")
    parser.add_argument("--thousand", action="store_true", help="1,000 checks every 60 s")
    parser.add_argument("--max-concurrent", type=int, default=10,
                        help="daemon.max_concurrent for --thousand (default: the product's, 10)")
    parser.add_argument("--ablations", action="store_true",
                        help="also variants of balanced (ABLATIONS), or with --recovery of min_rec (REC_ABLATIONS)")
    parser.add_argument("--recovery", action="store_true", help="checks with two dependencies and a circuit breaker")
    parser.add_argument("--only", metavar="KEYS", help="measure only these variants, e.g. bare,minimal,min_rec: "
                        "more rounds in the same time")
    parser.add_argument("--state-on-disk", action="store_true",
                        help="the checks' state directories on the host's disk, not the container's tmpfs")
    args = parser.parse_args()
    if not (args.thousand or args.options):
        profile_variants(args)  # a wrong --only is told at once
    print(f"bamon timer bench: {args.deb.name}, Debian 12 in systemd-nspawn, {time.strftime('%Y-%m-%d')}")
    binds: list[str] = []
    state = Path(tempfile.mkdtemp(prefix="bamon-bench-state-", dir="/var/tmp")) if args.state_on_disk else None
    if state is not None:
        state.chmod(0o755)
        binds = [f"--bind={state}:/var/lib/bamon"]
        kind = subprocess.run(["findmnt", "-no", "FSTYPE", "--target", str(state)], capture_output=True,
                              text=True, check=False).stdout.strip()
        print(f"  the checks' state on the host's disk ({kind or 'filesystem unknown'})")
    try:
        run_bench(args, binds)
    finally:
        if state is not None:
            shutil.rmtree(state, ignore_errors=True)
    return 0


def run_bench(args: argparse.Namespace, nspawn_args: list[str]) -> None:
    with Container(nspawn_args=nspawn_args) as box:
        box.install_deb(args.deb)
        box.run("systemctl stop bamon.target")  # the sample checks would add noise
        print("  " + box.run("systemctl --version").stdout.splitlines()[0])
        if args.thousand:
            bench_thousand(box, args)
        elif args.options:
            bench_options(box, args)
        else:
            bench_profiles(box, args)


if __name__ == "__main__":
    sys.exit(main())
