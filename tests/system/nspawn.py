#!/usr/bin/env python3
"""Boot throw-away Debian containers (12 by default, 13 on request) with systemd-nspawn for system tests.

The system tier needs a real systemd as PID 1 (units, cgroups, the journal,
user managers), which the test host may not have.  This module

* builds a minimal rootfs of a Debian suite (bookworm unless told) with
  debootstrap once and caches it (``ensure_rootfs``), and
* boots it with ``systemd-nspawn --volatile=overlay`` so every container
  starts from the pristine cache and throws its changes away (``Container``).

Commands run inside through ``nsenter`` on the container's init, so no
machined, D-Bus or systemd on the host is needed.  The container shares the
host's network (a port bound inside is a port bound on the host) unless it is
given a bridge of its own (``network_bridge``, the fleet tier's private network).

Only the standard library is used; it needs root, systemd-nspawn (package
systemd-container), debootstrap and nsenter (util-linux).

CLI, for poking at a container by hand::

    python3 tests/system/nspawn.py [--suite trixie] rootfs
    python3 tests/system/nspawn.py [--suite trixie] up --deb ../bamon_1.0_all.deb [--config FILE]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

SUITE = "bookworm"  # Debian 12, the default; "trixie" is Debian 13 (systemd 257, Python 3.13)
# Each recipe gets a directory of its own (rootfs-SUITE-HASH): a rebuild for a new recipe never
# pulls the tree from under a container that another test run booted from the old one.
CACHE_BASE = Path("/var/cache/bamon-tests")
HOSTNAME = "bamon-test"

# Packages installed on top of minbase: systemd as init plus everything the
# bamon package depends on, so installing the .deb needs no network.
INCLUDE = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "libpam-systemd",
    "python3",
    "python3-yaml",
    "python3-jsonschema",
    "python3-systemd",
    "python3-ruamel.yaml",
    "python3-requests",
    "python3-structlog",
    "python3-jinja2",
    "curl",
    "procps",
    "less",
]

# Installed on top of INCLUDE for one suite only, so the default rootfs (and its cache) stays as it was.
SUITE_EXTRA = {"trixie": ["man-db"]}

# Units that only slow down or clutter a container boot.  (minbase has no
# networkd, timesyncd, cron or man-db; these are what is actually there.)
MASK = [
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
]

# Bump when the post-debootstrap steps change, so caches get rebuilt.
RECIPE_VERSION = 2
STAMP_NAME = ".bamon-rootfs-stamp"

# A clean environment for commands run inside: never leak the host's.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
    "SYSTEMD_PAGER": "",
}

T = TypeVar("T")


class ContainerError(RuntimeError):
    """The container (or its rootfs) could not be built, booted or used."""


class CommandError(subprocess.CalledProcessError):
    """A command run inside the container exited non-zero."""

    def __str__(self) -> str:
        cmd = self.cmd if isinstance(self.cmd, str) else " ".join(self.cmd)
        return (
            f"command {cmd!r} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout or ''}\n"
            f"--- stderr ---\n{self.stderr or ''}"
        )


def check_host() -> None:
    """Raise ContainerError unless this host can build and boot containers."""
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root")
    for tool, package in [
        ("systemd-nspawn", "systemd-container"),
        ("debootstrap", "debootstrap"),
        ("nsenter", "util-linux"),
    ]:
        if shutil.which(tool) is None:
            problems.append(f"{tool} not found (install package {package})")
    if problems:
        raise ContainerError("cannot run system tests: " + "; ".join(problems))


def wait_for(
    predicate: Callable[[], T | None],
    timeout: float = 30,
    interval: float = 0.5,
    what: str = "condition",
) -> T:
    """Call predicate until it returns something truthy, and return that.

    Raises TimeoutError after timeout seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def _tail(path: Path, lines: int = 40) -> str:
    """The last non-blank lines of a log, without terminal colour codes."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


# --------------------------------------------------------------------------
# rootfs cache


def _include(suite: str) -> list[str]:
    return INCLUDE + SUITE_EXTRA.get(suite, [])


def _recipe_hash(suite: str = SUITE) -> str:
    recipe = f"{suite}\n{sorted(_include(suite))}\n{sorted(MASK)}\n{RECIPE_VERSION}"
    return hashlib.sha256(recipe.encode()).hexdigest()


def _unmount_below(path: Path) -> None:
    """Unmount anything an interrupted debootstrap left mounted below path."""
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    # The mounts file escapes blanks as \040; build dirs never contain any.
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


def _remove_tree(path: Path) -> None:
    if path.exists():
        _unmount_below(path)
        shutil.rmtree(path)


def _debootstrap(target: Path, log: Path, lock_fd: int, suite: str) -> None:
    # debootstrap inherits the lock, so a build orphaned by a killed test
    # run still blocks the next one; and dies along with its parent.
    cmd = [
        "setpriv",
        "--pdeathsig",
        "TERM",
        "--",
        "debootstrap",
        "--variant=minbase",
        "--include=" + ",".join(_include(suite)),
        suite,
        str(target),
    ]
    mirror = os.environ.get("BAMON_TEST_MIRROR")
    if mirror:
        cmd.append(mirror)
    with log.open("w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, pass_fds=[lock_fd], check=False, timeout=1800)
    if proc.returncode != 0:
        raise ContainerError(f"debootstrap failed with exit code {proc.returncode}; log {log}:\n{_tail(log)}")


def _configure_rootfs(root: Path) -> None:
    """Post-debootstrap tweaks, done offline on the directory tree."""
    (root / "etc/hostname").write_text(HOSTNAME + "\n")
    (root / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )
    present = [
        unit for unit in MASK if any((root / d / unit).exists() for d in ("lib/systemd/system", "etc/systemd/system"))
    ]
    if present:
        subprocess.run(["systemctl", f"--root={root}", "mask", "--quiet", *present], check=True)
    # Drop downloaded .debs; the package lists stay as debootstrap left them.
    subprocess.run(["chroot", str(root), "apt-get", "clean"], check=True)


def ensure_rootfs(cache_dir: Path | None = None, suite: str = SUITE) -> Path:
    """Return a ready rootfs of suite, debootstrapping it on first use.

    The cache lives at cache_dir, else $BAMON_TEST_ROOTFS, else
    CACHE_BASE/rootfs-SUITE-HASH, where HASH covers INCLUDE, MASK and
    RECIPE_VERSION (a stamp file inside holds it too).  A lock file beside it serialises concurrent
    runs; a build goes to a temporary directory that is renamed into place
    only once complete, so an interrupted build never looks finished.
    """
    want = _recipe_hash(suite)
    if cache_dir is None:
        given = os.environ.get("BAMON_TEST_ROOTFS") if suite == SUITE else None
        cache_dir = Path(given or CACHE_BASE / f"rootfs-{suite}-{want[:12]}")
    cache_dir = cache_dir.absolute()
    stamp = cache_dir / STAMP_NAME

    def fresh() -> bool:
        return stamp.is_file() and stamp.read_text().strip() == want

    if fresh():
        return cache_dir
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = cache_dir.parent / f".{cache_dir.name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if fresh():  # somebody else built it while we waited
            return cache_dir
        # Leftovers of builds that died: nobody else holds the lock now.
        for old in cache_dir.parent.glob(f".{cache_dir.name}.*.tmp"):
            _remove_tree(old)
        build = Path(tempfile.mkdtemp(prefix=f".{cache_dir.name}.", suffix=".tmp", dir=cache_dir.parent))
        build.chmod(0o755)
        log = cache_dir.parent / f"{cache_dir.name}.build.log"
        try:
            _debootstrap(build, log, lock.fileno(), suite)
            _configure_rootfs(build)
            (build / STAMP_NAME).write_text(want + "\n")
            _remove_tree(cache_dir)  # a stale cache from another recipe
            build.rename(cache_dir)
        except BaseException:
            _remove_tree(build)
            raise
    return cache_dir


# --------------------------------------------------------------------------
# containers


def _children(pid: int) -> list[int]:
    """PIDs whose parent is pid (scanning /proc; no psutil here)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # Field 2 (comm) is parenthesised and may contain blanks.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _own_cgroups() -> list[Path]:
    """Our cgroup directories in the hierarchies systemd-nspawn uses.

    That is the cgroup2 (unified) hierarchy and, on a legacy or hybrid host,
    the named "name=systemd" v1 hierarchy.
    """
    mounts: dict[str, Path] = {}  # hierarchy key -> mount point
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fstype, _source, options = right.split()[:3]
        if fstype == "cgroup2":
            mounts.setdefault("", Path(left.split()[4]))
        elif fstype == "cgroup" and "name=systemd" in options.split(","):
            mounts.setdefault("name=systemd", Path(left.split()[4]))
    dirs = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        if controllers in mounts:
            dirs.append(mounts[controllers] / path.lstrip("/"))
    return dirs


def _remove_cgroup(top: Path) -> None:
    """rmdir a cgroup tree bottom-up (cgroup dirs only go away by rmdir)."""
    for dirpath, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _sweep_stale_cgroups(parents: list[Path]) -> None:
    """Remove cgroups left by containers whose Python process died or that
    were started detached: bamon-test-* trees with no process left in them,
    older than a minute (so as not to race a container being started).
    """
    for parent in parents:
        for top in parent.glob("bamon-test-*"):
            with contextlib.suppress(OSError):  # gone or busy meanwhile
                if time.time() - top.stat().st_mtime < 60:
                    continue
                trees = [top, *(d for d in top.rglob("*") if d.is_dir())]
                if not any((d / "cgroup.procs").read_text().strip() for d in trees):
                    _remove_cgroup(top)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class Container:
    """One booted systemd-nspawn container; use as a context manager.

    with Container() as c:
        c.run("systemctl is-system-running")
    """

    def __init__(
        self,
        rootfs: Path | None = None,
        *,
        name: str | None = None,
        boot_timeout: float = 60,
        nspawn_args: Sequence[str] = (),
        nspawn_env: Mapping[str, str] | None = None,
        unified_cgroup: bool = True,
        detach: bool = False,
        suite: str = SUITE,
        persistent: bool = False,
        network_bridge: str | None = None,
    ) -> None:
        """rootfs defaults to ensure_rootfs().  nspawn_args are appended to
        the systemd-nspawn command line, nspawn_env is added to its
        environment.

        unified_cgroup gives the container a pure cgroup v2 tree, as on a
        real Debian 12 host, even when the host has a hybrid layout
        (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1); without it a hybrid host gives
        a hybrid container whose v1 controllers are read-only, so systemd
        has no CPU accounting.  Either way, controllers the host keeps on v1
        (e.g. memory) are missing: MemoryMax= is not enforced there.

        A detached container is not shut down when this process exits.
        suite picks the Debian release of the default rootfs ("trixie": Debian 13).

        A persistent container keeps its changes across reboot() (an overlayfs whose upper
        layer lives on the host until the container is shut down for good), like a real
        machine's disk; the default throws them away at every shutdown.

        network_bridge gives the container a network namespace of its own, linked by a veth pair
        to that (existing) bridge on the host; inside, the link is called host0.
        """
        self.suite = suite
        self.rootfs = rootfs
        self.name = name or f"bamon-test-{secrets.token_hex(4)}"
        self.boot_timeout = boot_timeout
        self.nspawn_args = list(nspawn_args)
        if network_bridge is not None:
            self.nspawn_args.append(f"--network-bridge={network_bridge}")
        self.nspawn_env = dict(nspawn_env or {})
        self.unified_cgroup = unified_cgroup
        self.detach = detach
        self.console_log = Path(tempfile.gettempdir()) / f"{self.name}.console.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._init_pid: int | None = None
        self._cgroups: list[Path] = []
        self.persistent = persistent
        self._overlay: Path | None = None  # persistent: host dir with upper/, work/, root/

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> Self:
        self.boot()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.discard()

    @property
    def init_pid(self) -> int:
        """Host PID of the container's systemd (PID 1 inside)."""
        if self._init_pid is None:
            raise ContainerError(f"container {self.name} is not booted")
        return self._init_pid

    def boot(self) -> None:
        """Start systemd-nspawn and wait until the container's systemd is up."""
        check_host()
        if self.process is not None:
            raise ContainerError(f"container {self.name} already booted")
        cmd = self._command(self.rootfs or ensure_rootfs(suite=self.suite))
        env = dict(os.environ)
        if self.unified_cgroup:
            env["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1"
        env.update(self.nspawn_env)
        with self.console_log.open("wb") as log:
            # Own session and process group: killpg() reaches every helper,
            # and a detached container survives this process.
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        if not self.detach:
            atexit.register(self.shutdown)
        try:
            self._wait_booted()
        except BaseException:
            self.shutdown()
            raise

    def _persistent_root(self, rootfs: Path) -> Path:
        """An overlayfs of the cache plus a host-side upper layer that survives reboots."""
        if self._overlay is None:
            self._overlay = Path(tempfile.mkdtemp(prefix=f"{self.name}.", dir="/var/tmp"))
            for part in ("upper", "work", "root"):
                (self._overlay / part).mkdir()
            options = f"lowerdir={rootfs},upperdir={self._overlay}/upper,workdir={self._overlay}/work"
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(self._overlay / "root")],
                           check=True)
            atexit.register(self.discard)  # before shutdown's registration: runs after it
        return self._overlay / "root"

    def reboot(self) -> None:
        """Power off and boot again: a persistent container keeps what it wrote."""
        if not self.persistent:
            raise ContainerError("reboot() of a volatile container would lose everything: use persistent=True")
        self.shutdown()
        self.boot()

    def export(self, dest: Path) -> None:
        """Copy a persistent container's disk, once shut down, to dest: a rootfs to boot others from."""
        if self._overlay is None or self.process is not None:
            raise ContainerError(f"export needs a persistent container that was booted and shut down ({self.name})")
        subprocess.run(["cp", "-a", "--reflink=auto", f"{self._overlay / 'root'}/.", str(dest)], check=True)

    def discard(self) -> None:
        """Remove a persistent container's disk (after shutdown)."""
        atexit.unregister(self.discard)
        if self._overlay is not None:
            # Only once unmounted: removing files through the overlay would only whiteout them, but
            # a still-mounted tree is a sign the container is still running.
            if subprocess.run(["umount", str(self._overlay / "root")], check=False).returncode == 0:
                shutil.rmtree(self._overlay, ignore_errors=True)
            self._overlay = None

    def _command(self, rootfs: Path) -> list[str]:
        disk = (["-D", str(self._persistent_root(rootfs))] if self.persistent
                else ["-D", str(rootfs), "--volatile=overlay"])  # read-only cache + tmpfs upper layer
        nspawn = [
            "systemd-nspawn",
            "-q",
            *disk,
            "--boot",
            "--register=no",  # no machined on the host
            "--keep-unit",  # no transient scope: the host has no systemd bus
            "-M", self.name,
            *self.nspawn_args,
        ]  # fmt: skip
        # With --keep-unit, nspawn puts itself into <its cgroup>/supervisor
        # and the container into <its cgroup>/payload.  Two containers
        # started from the same cgroup would share (and fight over) one
        # payload tree, so a tiny shell first moves into a cgroup named
        # after the container, then execs nspawn.
        own = _own_cgroups()
        _sweep_stale_cgroups(own)
        self._cgroups = [d / self.name for d in own]
        for cgroup in self._cgroups:
            cgroup.mkdir()
        script = 'for f; do [ "$f" = -- ] && break; echo $$ >"$f" || exit 125; shift; done; shift; exec "$@"'
        procs = [str(d / "cgroup.procs") for d in self._cgroups]
        cmd = ["/bin/sh", "-c", script, "sh", *procs, "--", *nspawn]
        if not self.detach:
            # If this process dies without running atexit (SIGKILL), nspawn
            # gets SIGTERM and powers the container off.
            cmd = ["setpriv", "--pdeathsig", "TERM", "--", *cmd]
        return cmd

    def _find_init(self) -> int | None:
        """The systemd process below the nspawn process, if it exists yet."""
        assert self.process is not None
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            for kid in _children(pid):
                if _comm(kid) == "systemd":
                    return kid
                todo.append(kid)
        return None

    def _wait_booted(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.boot_timeout
        state = "no init process yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ContainerError(
                    f"systemd-nspawn exited with {self.process.returncode} "
                    f"during boot; console log {self.console_log}:\n" + _tail(self.console_log)
                )
            if self._init_pid is None:
                self._init_pid = self._find_init()
            if self._init_pid is not None:
                # Fails (no bus yet) or says initializing/starting early on.
                proc = self.run(["systemctl", "is-system-running"], check=False, timeout=10)
                state = proc.stdout.strip() or proc.stderr.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.25)
        raise ContainerError(
            f"container {self.name} not up after {self.boot_timeout:g}s "
            f"(last state: {state}); console log {self.console_log}:\n" + _tail(self.console_log)
        )

    def shutdown(self, timeout: float = 30) -> None:
        """Power the container off; kill it if that takes over timeout s."""
        atexit.unregister(self.shutdown)
        proc = self.process
        if proc is None:
            return
        clean = False
        if proc.poll() is None:
            # nspawn turns SIGTERM into an orderly poweroff of the container.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
                clean = True
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                # Init is reparented, not killed, when nspawn dies; killing
                # a PID namespace's init kills everything inside it.
                if self._init_pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self._init_pid, signal.SIGKILL)
                proc.wait(10)
        self.process = None
        self._init_pid = None
        for cgroup in self._cgroups:
            _remove_cgroup(cgroup)
        if clean:
            self.console_log.unlink(missing_ok=True)

    # -- using it ----------------------------------------------------------

    def run(
        self,
        cmd: str | Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        user: str | None = None,
        timeout: float = 120,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run cmd inside the container and return its captured output.

        A str is a bash script (/bin/bash -c), a sequence an argv.  user runs
        it through runuser.  The environment is BASE_ENV plus env, never the
        host's.  check raises CommandError on a non-zero exit.
        """
        argv = ["/bin/bash", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        if user is not None:
            argv = ["runuser", "-u", user, "--", *argv]
        nsenter = ["nsenter", "-t", str(self.init_pid), "-a", "-r", "-w"]
        # A session of its own, so that on timeout killpg() also reaches the
        # child nsenter forked inside the container.
        with subprocess.Popen(
            nsenter + argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**BASE_ENV, **(env or {})},
            start_new_session=True,
        ) as proc:
            try:
                stdout, stderr = proc.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
        if check and proc.returncode != 0:
            raise CommandError(proc.returncode, cmd, stdout, stderr)
        return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)

    def cpu_usec(self) -> int:
        """CPU used so far by the whole container: its cgroup v2 tree's usage_usec, read from the host.

        Commands run through `run` stay in the caller's cgroup, so measuring does not count itself.
        """
        for cgroup in self._cgroups:
            stat = cgroup / "cpu.stat"
            if stat.exists():
                for line in stat.read_text().splitlines():
                    if line.startswith("usage_usec "):
                        return int(line.split()[1])
        raise ContainerError(f"no cgroup v2 cpu.stat for container {self.name}")

    def path(self, inside: str) -> Path:
        """Host path of an absolute path inside the running container.

        Careful: absolute symlinks met on the way resolve against the host.
        """
        return Path(f"/proc/{self.init_pid}/root") / inside.lstrip("/")

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory to absolute path dest inside."""
        target = self.path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)

    def install_deb(self, path: Path) -> subprocess.CompletedProcess[str]:
        """Install a local .deb with apt (dependencies must be satisfiable).

        As an unattended upgrade does: a conffile the operator changed is kept (confold), one
        left alone is replaced (confdef), and dpkg never stops to ask.
        """
        inside = f"/tmp/{path.name}"
        self.copy_in(path, inside)
        return self.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef",
             "-o", "Dpkg::Options::=--force-confold", inside],
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=300,
        )

    def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 30,
        interval: float = 0.5,
        what: str = "condition",
    ) -> T:
        """Same as the module-level wait_for (handy inside tests)."""
        return wait_for(predicate, timeout, interval, what)


# --------------------------------------------------------------------------
# CLI


def _cmd_up(args: argparse.Namespace) -> None:
    container = Container(detach=True, suite=args.suite)
    container.boot()
    assert container.process is not None
    try:
        container.install_deb(args.deb)
        if args.config:
            container.copy_in(args.config, "/etc/bamon/config.yaml")
            container.run(["bamon", "apply"])
        if args.show_status:
            # the sample checks run a few seconds after bamon.target starts (OnBootSec ≤ 10 s)
            wait_for(lambda: "UNKNOWN" not in container.run(["bamon", "status"]).stdout, 30, 1,
                     "the first runs of the checks")
            for command in (["bamon", "status"], ["systemctl", "list-timers", "--no-pager", "bamon-*"]):
                print(f"# {' '.join(command)}\n{container.run(command).stdout}")
    except BaseException:
        container.shutdown()
        raise
    print(
        f"container {container.name} is up (console log: {container.console_log})\n"
        f"  shell inside: nsenter -t {container.init_pid} -a bash   (then: bamon status, bamon add …)\n"
        f"  stop it:      kill {container.process.pid}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default=SUITE, help=f"Debian suite (default {SUITE}; trixie = Debian 13)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rootfs", help="build the cached rootfs if needed")
    up = sub.add_parser("up", help="boot a container that keeps running")
    up.add_argument("--deb", type=Path, required=True, help="bamon .deb to install")
    up.add_argument("--config", type=Path, help="copied to /etc/bamon/config.yaml")
    up.add_argument("--show-status", action="store_true", help="wait for the first runs, print bamon status")
    args = parser.parse_args(argv)
    try:
        check_host()
        if args.command == "rootfs":
            print(ensure_rootfs(suite=args.suite))
        else:
            _cmd_up(args)
    except (ContainerError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
