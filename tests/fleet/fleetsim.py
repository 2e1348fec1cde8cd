"""A simulated fleet: Debian 12 hosts in systemd-nspawn on a private bridge, and its monitor.

Used by the fleet tier (tests/fleet) and bench/fleet.py. What it builds:

* a **layer**: the system tier's cached rootfs with the .deb and systemd-journal-remote installed
  by apt in a container on the host's network, cached under the rootfs cache keyed by the rootfs
  recipe and the .deb's bytes. The hosts have no way out of their bridge, so nothing can be
  downloaded there; and one apt run instead of twenty keeps the tier short.
* a **bridge** of the test's own (``Bridge``) on a /24 no route or address of the host uses;
  it is the only thing on the host's network the tier touches, and it is removed on exit (also
  after a crash: the next run removes bridges whose owner is gone).
* N **hosts** booted from the one layer with ``--volatile=overlay`` (nothing is copied per host),
  each with a static address (systemd-networkd) and a hostname of its own (both bound read-only
  at boot), /metrics on every address, systemd-journal-upload pointed at the monitor; then
  configured as an operator would: contrib/ansible's role, applied to all of them at once, lays
  down the same config (the Alertmanager channel) and checks everywhere.
* the **monitor**: the host side of the bridge runs Debian's Prometheus (scraping every host's
  /metrics every SCRAPE_INTERVAL s) and Alertmanager with contrib/alertmanager's routing (its
  receivers all post to an HTTP receiver on the loopback); a monitor container of the same layer
  runs systemd-journal-remote, and is where `bamon fleet status` and `bamon history --journal-dir`
  run, as an operator's machine would.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import random
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYSTEM = Path(__file__).resolve().parents[1] / "system"
sys.path.insert(0, str(SYSTEM))

import promstack  # noqa: E402
import yaml  # noqa: E402
from ansible_run import PLAYBOOK, Recap, playbook  # noqa: E402
from nspawn import CACHE_BASE, STAMP_NAME, Container, ContainerError, ensure_rootfs, wait_for  # noqa: E402

HOSTS = 20
SCRAPE_INTERVAL = 2  # seconds; short, so that staleness shows within seconds
WEB_PORT = 8477  # each host has a network namespace of its own: the packaged port is free there
REMOTE_PORT = 19532  # systemd-journal-remote's socket unit
REMOTE_DIR = "/var/log/journal/remote"  # where the monitor's journal-remote writes
PROBE = "fleet_probe"  # fails while FAIL_FLAG exists on a host
PROBE_INTERVAL = 5  # seconds; twenty hosts running it every 2 s kept a 2-core machine busy
STEADY = "fleet_steady"  # always passes
FAIL_FLAG = "/run/bamon-fleet-fail"
# Installed into the layer beside the .deb: the uploader (hosts) and the receiver (monitor), and
# python3-apt for Ansible's apt module.
LAYER_PACKAGES = ["systemd-journal-remote", "python3-apt"]
LAYER_VERSION = 2  # bump when ensure_layer's steps change
REPO = Path(__file__).resolve().parents[2]
ALERTMANAGER_EXAMPLE = REPO / "contrib" / "alertmanager" / "alertmanager.yml"
# Its waits, cut for the test: long enough that five hosts whose probes fail within a few
# seconds of each other land in the first notification, short enough for the tier's budget.
GROUP_WAIT = 15
# The role needs no facts (gathering them is the costliest step on every host), and the nsenter
# connection can pipeline. More forks than this only queue on a 2-core machine.
ANSIBLE_SETTINGS = {"ANSIBLE_GATHERING": "explicit", "ANSIBLE_PIPELINING": "True"}
ANSIBLE_FORKS = 5
BRIDGE_PREFIX = "bamonfl-"
LOCK_DIR = Path("/run/bamon-fleet")  # one lock file per live bridge, held by its owner
BOOT_WORKERS = 4  # containers booted at once: more only queue on a 2-core machine
# Every container's systemd, journald, networkd, logind, … takes inotify instances, all counted
# against root: the kernel's default of 128 runs out after a dozen containers.
INOTIFY_PER_CONTAINER = 24
INOTIFY_LIMIT = Path("/proc/sys/fs/inotify/max_user_instances")
MONITOR_INDEX = 2  # the monitor container's address ends in .2; the bridge (host side) is .1
FIRST_HOST_INDEX = 11  # hosts are .11, .12, …

# The layer's /etc/bamon/config.yaml: no checks until Ansible lays them down, /metrics served on
# every address of the host (the bridge is its only network).
LAYER_CONFIG = """\
web:
  listen: ["{web_port}"]
scripts: []
"""


def role_variables(deb: Path, alertmanager: str) -> dict[str, Any]:
    """contrib/ansible's variables for every host: the package, the Alertmanager channel, two checks."""
    return {
        "bamon_deb": str(deb.resolve()),  # Ansible looks for a relative path in the role
        "bamon_config": {
            "alerts": {"channels": [{"name": "am", "type": "alertmanager", "url": alertmanager, "timeout": 5}]},
            "web": {"listen": [str(WEB_PORT)]},
            "scripts": [],
        },
        "bamon_scripts": [
            {"name": STEADY, "command": "echo steady on $(hostname)", "interval": "10s", "tags": ["fleet"]},
            {"name": PROBE, "command": f'test ! -e {FAIL_FLAG} || {{ echo "{FAIL_FLAG} is set"; exit 3; }}',
             "interval": f"{PROBE_INTERVAL}s", "severity": "critical", "tags": ["fleet", "probe"]},
        ],
    }


NETWORK = """\
[Match]
Name=host0

[Network]
Address={address}/24
LinkLocalAddressing=no
IPv6AcceptRA=no
"""

UPLOAD = """\
[Upload]
URL=http://{monitor}:{port}
"""

# journal-remote over plain HTTP on the test's own bridge (Debian's unit listens for HTTPS, which
# wants certificates); docs/fleet.md shows the HTTPS setup for a real network.
REMOTE_HTTP = """\
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-journal-remote --listen-http=-3 --output={dir}/
"""

PROMETHEUS = """\
global: {{scrape_interval: {interval}s, scrape_timeout: 1s, evaluation_interval: {interval}s}}
scrape_configs:
  - job_name: bamon
    static_configs:
{targets}
"""



def alertmanager_config(hook: str) -> str:
    """contrib/alertmanager/alertmanager.yml with every receiver posting to hook and shorter waits."""
    config = yaml.safe_load(ALERTMANAGER_EXAMPLE.read_text())
    for receiver in config["receivers"]:
        for webhook in receiver["webhook_configs"]:
            webhook["url"] = hook
    config["route"].update(group_wait=f"{GROUP_WAIT}s", group_interval=f"{GROUP_WAIT}s")
    for route in config["route"]["routes"]:
        route.pop("group_wait", None)
    return yaml.safe_dump(config)


def log(message: str) -> None:
    print(f"[fleet {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ip(*args: str) -> Any:
    """Run `ip ARGS` on the host; its JSON answer when asked for one (-j)."""
    out = subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out) if "-j" in args else out


# --------------------------------------------------------------------------
# the layer


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_layer(deb: Path) -> Path:
    """The base rootfs with deb and LAYER_PACKAGES installed, built once per (rootfs, deb) pair.

    Built like ensure_rootfs builds its cache: under a lock, into a temporary directory renamed
    into place when complete. Layers of other .debs unused for a day are removed then.
    """
    base = ensure_rootfs()
    want = hashlib.sha256(
        f"{(base / STAMP_NAME).read_text().strip()}\n{_sha256(deb)}\n{sorted(LAYER_PACKAGES)}\n{LAYER_VERSION}".encode()
    ).hexdigest()
    dest = CACHE_BASE / f"fleet-bookworm-{want[:12]}"
    stamp = dest / STAMP_NAME

    def fresh() -> bool:
        return stamp.is_file() and stamp.read_text().strip() == want

    if fresh():
        stamp.touch()  # in use: not "unused for a day"
        return dest
    with (CACHE_BASE / f".{dest.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if fresh():
            return dest
        _remove_unused_layers(keep=dest)
        build = dest.with_name(f".{dest.name}.{secrets.token_hex(3)}.tmp")
        build.mkdir()
        try:
            _build_layer(base, deb, build)
            (build / STAMP_NAME).write_text(want + "\n")
            build.rename(dest)
        except BaseException:
            subprocess.run(["rm", "-rf", "--one-file-system", str(build)], check=False)
            raise
    return dest


def _build_layer(base: Path, deb: Path, build: Path) -> None:
    box = Container(base, persistent=True)  # on the host's network: apt downloads the dependencies
    log(f"building the fleet layer {build.name}: {deb.name} and {', '.join(LAYER_PACKAGES)} with apt")
    box.boot()
    try:
        started = time.monotonic()
        box.install_deb(deb)
        log(f"  apt install of {deb.name} (with its dependencies) in one host: {time.monotonic() - started:.1f} s")
        box.run(["apt-get", "update", "-q"], timeout=300)
        box.run(["apt-get", "install", "-y", "--no-install-recommends", *LAYER_PACKAGES],
                env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
        # networkd gives each host its address (/etc/systemd/network/10-fleet.network, bound at
        # boot); every host serves /metrics and uploads its journal; only the monitor receives.
        box.run("systemctl enable systemd-networkd.service bamon.web.socket systemd-journal-upload.service"
                " && systemctl disable systemd-journal-remote.socket && apt-get clean")
        box.path("/etc/bamon/config.yaml").write_text(LAYER_CONFIG.format(web_port=WEB_PORT))
        box.shutdown()
        box.export(build)
    finally:
        box.shutdown()
        box.discard()
    # Every host gets a machine id of its own at boot (nspawn makes one up for an empty file), and
    # none carries the build boot's journal or check state.
    (build / "etc/machine-id").write_text("")
    subprocess.run(["rm", "-rf", str(build / "var/log/journal"), str(build / "var/lib/bamon")], check=True)
    (build / "var/log/journal").mkdir()


def _remove_unused_layers(keep: Path) -> None:
    for old in CACHE_BASE.glob("fleet-bookworm-*"):
        stamp = old / STAMP_NAME
        if old != keep and (not stamp.exists() or time.time() - stamp.stat().st_mtime > 86400):
            subprocess.run(["rm", "-rf", "--one-file-system", str(old)], check=False)


# --------------------------------------------------------------------------
# the private network


def _used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the host has an address in or a route to."""
    nets = [ipaddress.ip_network(r["dst"], strict=False) for r in ip("-j", "-4", "route", "show", "table", "all")
            if r.get("dst") not in (None, "default")]
    for link in ip("-j", "-4", "addr"):
        for addr in link.get("addr_info", []):
            nets.append(ipaddress.ip_network(f"{addr['local']}/{addr['prefixlen']}", strict=False))
    return [n for n in nets if isinstance(n, ipaddress.IPv4Network)]


def _sweep_stale_bridges() -> None:
    """Remove bridges of earlier runs whose process is gone (its lock file is not held)."""
    LOCK_DIR.mkdir(exist_ok=True)
    for link in ip("-j", "link", "show", "type", "bridge"):
        name = link["ifname"]
        if not name.startswith(BRIDGE_PREFIX):
            continue
        with (LOCK_DIR / f"{name}.lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run's
            subprocess.run(["ip", "link", "del", name], check=False)
            (LOCK_DIR / f"{name}.lock").unlink(missing_ok=True)


class Bridge:
    """A Linux bridge on a free 10.x.y.0/24: .1 is the host's side (the monitor's servers)."""

    def __init__(self) -> None:
        self.name = BRIDGE_PREFIX + secrets.token_hex(3)  # 14 characters: interface names stop at 15
        self.network: ipaddress.IPv4Network | None = None
        self._lock: Any = None

    def address(self, index: int) -> str:
        assert self.network is not None
        return str(self.network[index])

    @property
    def gateway(self) -> str:
        return self.address(1)

    def create(self) -> None:
        _sweep_stale_bridges()
        self._lock = (LOCK_DIR / f"{self.name}.lock").open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        used = _used_networks()
        candidates = [ipaddress.IPv4Network(f"10.{a}.{b}.0/24") for a in range(200, 251) for b in range(256)]
        self.network = next(n for n in random.sample(candidates, len(candidates))
                            if not any(n.overlaps(u) for u in used))
        atexit.register(self.remove)
        ip("link", "add", "name", self.name, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/24", "dev", self.name)
        ip("link", "set", self.name, "up")

    def remove(self) -> None:
        atexit.unregister(self.remove)
        subprocess.run(["ip", "link", "del", self.name], capture_output=True, check=False)
        if self._lock is not None:
            (LOCK_DIR / f"{self.name}.lock").unlink(missing_ok=True)
            self._lock.close()
            self._lock = None

    def free_port(self) -> int:
        """A port nothing listens on at the bridge's host address (the kernel picks it)."""
        with socket.socket() as probe:
            probe.bind((self.gateway, 0))
            port: int = probe.getsockname()[1]
            return port


def _raise_inotify_limit(needed: int) -> None:
    """Raise fs.inotify.max_user_instances to needed if it is lower (never lower it: other
    containers on the machine may count on it; it is a limit, not a reservation)."""
    current = int(INOTIFY_LIMIT.read_text())
    if current < needed:
        log(f"raising fs.inotify.max_user_instances from {current} to {needed} for the containers' systemd")
        INOTIFY_LIMIT.write_text(f"{needed}\n")


# --------------------------------------------------------------------------
# the fleet


@dataclass
class Host:
    name: str  # its hostname: the `host` label of its alerts, `instance` of its series
    address: str
    box: Container

    def run(self, cmd: str | Sequence[str], check: bool = True, timeout: float = 120) -> str:
        return self.box.run(cmd, check=check, timeout=timeout).stdout

    def bamon(self, *args: str, check: bool = True) -> str:
        return self.run(["bamon", *args], check=check)


@dataclass
class Fleet:
    """The whole simulation; use as a context manager (everything is torn down on exit)."""

    deb: Path
    workdir: Path
    size: int = HOSTS
    bridge: Bridge = field(default_factory=Bridge)
    hosts: list[Host] = field(default_factory=list)
    monitor: Host | None = None
    prometheus: str = ""  # base URLs, on the bridge's host address
    alertmanager: str = ""
    hook: promstack.Hook | None = None
    timings: dict[str, float] = field(default_factory=dict)
    first_recap: Recap | None = None  # of the role's application at bring-up
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> Fleet:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    # -- bring-up ------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        layer = ensure_layer(self.deb)
        self.timings["layer"] = time.monotonic() - started
        # + 8: the system tier's containers, which dev/test runs beside this tier
        _raise_inotify_limit(128 + INOTIFY_PER_CONTAINER * (self.size + 1 + 8))
        self.bridge.create()
        self._stack.callback(self.bridge.remove)
        self._start_alerting()
        names = [f"fleet-{i:02d}" for i in range(1, self.size + 1)]
        self._start_prometheus(names)
        self._write_files(names)
        booting = time.monotonic()
        self.monitor = self._boot(layer, "fleet-mon", MONITOR_INDEX, monitor=True)
        # Before any host: an uploader that finds nobody listening gives up after a few restarts.
        self.monitor.run(["systemctl", "start", "systemd-journal-remote.socket"])
        # The operator's machine: `bamon fleet status` reads this Prometheus.
        self.monitor.box.path("/etc/bamon/config.yaml").write_text(
            LAYER_CONFIG.format(web_port=WEB_PORT) + f"fleet: {{prometheus_url: '{self.prometheus}'}}\n")
        # The booting threads live as long as the fleet: nspawn runs under `setpriv --pdeathsig`,
        # and the kernel sends that signal when the *thread* that started it ends. (The stack
        # unwinds in reverse: the containers are shut down before the pool goes away.)
        pool = ThreadPoolExecutor(BOOT_WORKERS, thread_name_prefix="fleet-boot")
        self._stack.callback(pool.shutdown)
        futures = [pool.submit(self._boot, layer, name, FIRST_HOST_INDEX + i) for i, name in enumerate(names)]
        errors = []
        for future in futures:
            try:
                self.hosts.append(future.result())
            except (ContainerError, subprocess.CalledProcessError) as exc:
                errors.append(str(exc))
        if errors:
            raise ContainerError(f"{len(errors)} of {self.size} hosts did not boot; first: {errors[0]}")
        self.timings["boot"] = time.monotonic() - booting
        configuring = time.monotonic()
        self.first_recap = self.apply_role()
        self.timings["ansible"] = time.monotonic() - configuring
        # Each host's two checks, in Prometheus by their series; the steady one has run everywhere.
        wait_for(lambda: len(self.query(f'bamon_check_up{{check="{STEADY}"}} == 1')) == self.size
                 and len(self.query(f'bamon_check_up{{check="{PROBE}"}}')) == self.size,
                 120, 1, f"both checks of all {self.size} hosts in Prometheus")
        self.timings["total"] = time.monotonic() - started
        log("up: " + ", ".join(f"{k} {v:.0f} s" for k, v in self.timings.items()))

    def _write_files(self, names: list[str]) -> None:
        files = self.workdir / "files"
        files.mkdir()
        (files / "upload.conf").write_text(UPLOAD.format(monitor=self.bridge.address(MONITOR_INDEX),
                                                         port=REMOTE_PORT))
        (files / "remote-http.conf").write_text(REMOTE_HTTP.format(dir=REMOTE_DIR))
        for i, name in enumerate(["fleet-mon", *names]):
            own = files / name
            own.mkdir()
            (own / "hostname").write_text(name + "\n")
            index = MONITOR_INDEX if i == 0 else FIRST_HOST_INDEX + i - 1
            (own / "network").write_text(NETWORK.format(address=self.bridge.address(index)))

    def _boot(self, layer: Path, name: str, index: int, monitor: bool = False) -> Host:
        files = self.workdir / "files"
        binds = {
            files / name / "hostname": "/etc/hostname",
            files / name / "network": "/etc/systemd/network/10-fleet.network",
            files / "upload.conf": "/etc/systemd/journal-upload.conf.d/fleet.conf",
        }
        if monitor:
            binds[files / "remote-http.conf"] = "/etc/systemd/system/systemd-journal-remote.service.d/http.conf"
            del binds[files / "upload.conf"]
        box = Container(layer, name=f"bamon-test-{self.bridge.name[len(BRIDGE_PREFIX):]}-{name}",
                        network_bridge=self.bridge.name, boot_timeout=180,
                        nspawn_args=[f"--bind-ro={src}:{dest}" for src, dest in binds.items()])
        self._stack.callback(box.shutdown)
        box.boot()
        host = Host(name, self.bridge.address(index), box)
        if monitor:
            host.run(["systemctl", "mask", "--now", "systemd-journal-upload.service"])
        return host

    def _start_alerting(self) -> None:
        self.hook = promstack.Hook()
        self._stack.callback(self.hook.close)
        work = self.workdir / "alertmanager"
        work.mkdir()
        (work / "am.yml").write_text(alertmanager_config(self.hook.url))
        port = self.bridge.free_port()
        args = [f"--config.file={work / 'am.yml'}", f"--storage.path={work / 'data'}",
                f"--web.listen-address={self.bridge.gateway}:{port}", "--cluster.listen-address="]
        self.alertmanager = self._stack.enter_context(
            promstack.server("prometheus-alertmanager", args, port, work, "/-/ready", self.bridge.gateway))

    def _start_prometheus(self, names: list[str]) -> None:
        work = self.workdir / "prometheus"
        work.mkdir()
        targets = "\n".join(f'      - {{targets: ["{self.bridge.address(FIRST_HOST_INDEX + i)}:{WEB_PORT}"], '
                            f'labels: {{instance: {name}}}}}' for i, name in enumerate(names))
        (work / "prometheus.yml").write_text(PROMETHEUS.format(interval=SCRAPE_INTERVAL, targets=targets))
        port = self.bridge.free_port()
        args = [f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address={self.bridge.gateway}:{port}"]
        self.prometheus = self._stack.enter_context(
            promstack.server("prometheus", args, port, work, "/-/ready", self.bridge.gateway))

    def apply_role(self) -> Recap:
        """contrib/ansible's site.yml on every host at once, with role_variables; Ansible's recap."""
        work = self.workdir / f"ansible-{secrets.token_hex(3)}"
        work.mkdir()
        return playbook({h.name: h.box for h in self.hosts}, PLAYBOOK, role_variables(self.deb, self.alertmanager),
                        work, forks=ANSIBLE_FORKS, env=ANSIBLE_SETTINGS)

    # -- using it ------------------------------------------------------------

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The samples of an instant query to the fleet's Prometheus."""
        from urllib.parse import quote

        answer = promstack.get_json(f"{self.prometheus}/api/v1/query?query={quote(expr)}")
        if answer.get("status") != "success":
            raise RuntimeError(f"Prometheus query {expr!r} failed: {answer}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def each(self, hosts: Sequence[Host], action: Callable[[Host], Any]) -> list[Any]:
        """action on every host, BOOT_WORKERS at a time; the results in order."""
        with ThreadPoolExecutor(BOOT_WORKERS) as pool:
            return list(pool.map(action, hosts))


def remote_records(monitor: Host, host: str, check: str) -> list[str]:
    """The run records (MESSAGE "bamon-run …") of check on host, as the central journal has them."""
    out = monitor.run(["journalctl", "-D", REMOTE_DIR, "--no-pager", "-o", "cat", f"_HOSTNAME={host}",
                       f"SYSLOG_IDENTIFIER=bamon-{check}", "--grep=^bamon-run ", "--case-sensitive=yes"],
                      check=False)
    return [line for line in out.splitlines() if line.startswith("bamon-run ")]


def export_bytes(monitor: Host, host: str, since: str, until: str) -> int:
    """Bytes of the host's journal entries in [since, until) in journal export format: what
    systemd-journal-upload sends for them (before HTTP framing)."""
    out = monitor.run(f"journalctl -D {REMOTE_DIR} _HOSTNAME={host} --since '{since}' --until '{until}' "
                      "-o export | wc -c")
    return int(out.strip())

