#!/usr/bin/env python3
"""Prometheus metrics figures: what a scrape of /metrics and a textfile refresh cost.

Prints each figure beside its goal (issue 11: /metrics for 1,000 checks ≤ 100 ms); asserts
nothing. Runs without root or systemd: 1,000 checks in a temporary config, each with a `last`
file, systemctl's answer replayed from memory (its own cost is in DESIGN §7: list-units over
1,000 units ≈ 9 ms), and the journal answered empty: no run records to count, no output to read
perfdata from. So these are bamon's own parts alone; the whole scrape, against the real
bamon.web.service with a real journal, is `sudo python3 bench/web.py --only-metrics`.

    python3 bench/metrics.py [--checks 1000] [--repeat 20]

Figures:
  * config load: parsing and validating the config (the web app redoes it only on a change;
    `bamon metrics` for the textfile pays it each time)
  * snapshot: status of every check (the `last` files) + counters
  * exposition: prometheus-client rendering the text format from a snapshot
  * exposition, whole: both, as `bamon metrics` renders them
  * /metrics, steady: both, as the web service's ASGI app answers scrape after scrape (a family
    is rendered again only when its values changed: none do here)
  * textfile: the atomic write of the node_exporter file (prometheus-client's write + rename)
  * the whole `bamon metrics --textfile` process, as bamon.metrics.service runs it each minute
    (interpreter start, imports, config load, snapshot, write): wall time and CPU
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bamon import paths as bamon_paths  # noqa: E402
from bamon.config.model import load  # noqa: E402
from bamon.integrations import prometheus  # noqa: E402
from bamon.journal import Journal  # noqa: E402
from bamon.systemd import Systemd  # noqa: E402


class QuietJournal(Journal):
    def entries(self, matches: Sequence[str], **kwargs: Any) -> list[dict[str, Any]]:
        return []


def setup(root: Path, checks: int) -> tuple[Path, Callable[[Sequence[str]], subprocess.CompletedProcess[str]]]:
    config = root / "config.yaml"
    lines = ["scripts:"] + [f"  - {{name: check{i:04d}, command: 'true', interval: 60, tags: [t{i % 7}]}}"
                            for i in range(checks)]
    config.write_text("\n".join(lines) + "\n")
    now = int(time.time() * 1e6)
    for i in range(checks):
        last = root / "state" / "checks" / f"check{i:04d}" / "last"
        last.parent.mkdir(parents=True)
        ok = i % 10
        last.write_text(f"inv{i} {'success' if ok else 'exit-code'} {0 if ok else 2} {now - 30_000_000} "
                        f"{now - 29_000_000} {0 if ok else 3}\n")
    units = "".join(f"bamon-check{i:04d}.timer loaded active waiting timer\n" for i in range(checks))
    return config, lambda argv: subprocess.CompletedProcess(list(argv), 0, units, "")


def scrape(app: Any) -> Callable[[], object]:
    """One GET of the ASGI app, as the web service serves it (the same app scrape after scrape:
    families whose rows did not change are not rendered again)."""
    async def get() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await app({"type": "http", "method": "GET", "path": "/metrics", "query_string": b"", "headers": []},
                  receive, send)

    loop = asyncio.new_event_loop()  # one loop, as the service has: a new one per call costs ~1 ms
    return lambda: loop.run_until_complete(get())


def timed(what: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and median CPU time of this process, in ms (CPU is what a shared host pays,
    and does not grow when other work competes for the cores)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        what()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config_file, runner = setup(root, args.checks)
        bamon_paths.SYSTEM_STATE = root / "state"
        paths = bamon_paths.resolve(False, str(config_file))
        systemd, journal = Systemd(False, runner=runner), QuietJournal()

        config = load(config_file, None)

        def snapshot() -> prometheus.Snapshot:  # the web app keeps the config until a file changes
            return prometheus.take(config, paths, systemd, journal)

        snap = snapshot()
        body = prometheus.exposition(snap)
        target = root / "node-exporter" / "bamon.prom"
        target.parent.mkdir()
        def process() -> None:  # what bamon.metrics.service costs each minute: a whole `bamon metrics` run
            subprocess.run([sys.executable, "-m", "bamon", "--config", str(config_file), "metrics", "--textfile",
                            str(target)], check=True, env={**os.environ, "PYTHONPATH": str(REPO)})

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process_ms = timed(process, max(3, args.repeat // 4))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_ms = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) * 1000 / max(
            3, args.repeat // 4)
        figures = {
            "config load (only when a file changed)": timed(lambda: load(config_file, None), args.repeat),
            "snapshot (status, counters)": timed(snapshot, args.repeat),
            "exposition (prometheus-client)": timed(lambda: prometheus.exposition(snap), args.repeat),
            "exposition, whole (`bamon metrics`)": timed(lambda: prometheus.exposition(snapshot()), args.repeat),
            "/metrics, steady (the web service's app)": timed(scrape(prometheus.asgi_app(snapshot)), args.repeat),
            "textfile write (atomic)": timed(lambda: prometheus.write_textfile(snap, target), args.repeat),
        }
    print(f"{args.checks} checks, {len(body)} bytes of exposition, {len(body.splitlines())} lines; "
          f"median wall / median CPU of {args.repeat} (ms; the process's CPU only)")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:40s} {wall:8.1f} {cpu:8.1f}")
    print(f"  {'`bamon metrics --textfile` process':40s} {process_ms[0]:8.1f} {cpu_ms:8.1f}"
          f"   (once a minute: {cpu_ms / 600:.2f} % of one core)")
    print("  goal: /metrics for 1,000 checks ≤ 100 ms (plus systemctl list-units ≈ 9 ms on a real host)")


if __name__ == "__main__":
    main()
