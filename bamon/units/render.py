"""The generator proper: a pure function from the validated config to unit file texts.

`generate(config, target)` returns every unit bamon needs for the config and the list of
timers bamon.target wants. It reads nothing and writes nothing: write.py puts the result on
disk (systemd generator or `bamon apply`), and the golden-file tests compare it as text.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

from bamon.config.issues import ConfigIssue
from bamon.config.model import Config, Script, Web
from bamon.units import naming
from bamon.units.escape import env_assignment, exec_arg, plain

RUN_CHECK = Path(__file__).with_name("run-check")

# Each option: (setting, why). Kept as data so the unit explains itself (`systemctl cat`).
_ALWAYS = (
    ("NoNewPrivileges=yes", "the check cannot gain privileges through setuid binaries"),
)
_STRICT = (
    ("PrivateTmp=yes", "a private /tmp and /var/tmp, discarded after the run"),
    ("PrivateMounts=yes", "mounts made by the check stay in its own namespace"),
    ("ProtectSystem=strict", "the whole file system is read-only to the check"),
    ("ProtectHome=read-only", "home directories can be read, not changed"),
    ("ProtectKernelTunables=yes", "/proc/sys and /sys are read-only"),
    ("ProtectKernelModules=yes", "no kernel module loading"),
    ("ProtectKernelLogs=yes", "no access to the kernel log buffer"),
    ("ProtectControlGroups=yes", "the cgroup tree is read-only"),
    ("ProtectClock=yes", "the system clock cannot be changed"),
    ("ProtectHostname=yes", "the host name cannot be changed"),
    ("RestrictSUIDSGID=yes", "no setuid/setgid files can be created"),
    ("RestrictRealtime=yes", "no realtime scheduling"),
    ("RestrictNamespaces=yes", "no new namespaces (containers) from the check"),
    ("LockPersonality=yes", "the execution domain cannot be changed"),
    ("SystemCallArchitectures=native", "only native system calls"),
    ("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
     "network access for HTTP/TCP checks, nothing exotic"),
    ("SystemCallFilter=@system-service", "the system calls ordinary programs make, nothing else"),
    ("SystemCallErrorNumber=EPERM", "a filtered system call fails with EPERM instead of killing the check"),
)
# Capabilities only matter under PID 1: a user manager cannot drop them, and the unit would
# fail with status 218/CAPABILITIES. So user mode leaves out these two (PrivateDevices= drops
# CAP_MKNOD and CAP_SYS_RAWIO).
_STRICT_SYSTEM = (
    ("PrivateDevices=yes", "no access to hardware devices (/dev holds only null, zero, random, …)"),
    ("CapabilityBoundingSet=~" + " ".join(sorted((
        "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_BOOT", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
        "CAP_SYS_PACCT", "CAP_SYS_TTY_CONFIG", "CAP_SYS_CHROOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_MKNOD",
        "CAP_LINUX_IMMUTABLE", "CAP_BPF", "CAP_PERFMON", "CAP_BLOCK_SUSPEND", "CAP_LEASE", "CAP_WAKE_ALARM",
        "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE",
        "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP",
        "CAP_SETFCAP", "CAP_CHOWN", "CAP_FSETID", "CAP_FOWNER", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_KILL",
        "CAP_SYSLOG"))),
     "root checks keep what observing needs (reading any file, raw sockets for ping), not the power to change"),
)


@dataclass(frozen=True)
class Target:
    """What the generated units may depend on outside the config."""

    user_mode: bool = False
    run_check: Path = RUN_CHECK


@dataclass
class Generated:
    units: dict[str, str] = field(default_factory=dict)
    wanted_by_target: list[str] = field(default_factory=list)


def _comment_block(title: str, options: tuple[tuple[str, str], ...]) -> list[str]:
    lines = [f"# {title}"]
    for setting, why in options:
        lines += [f"# {why}", setting]
    return lines


# The same for every check: built once, not 1,000 times per generator run.
_HARDENING = {
    "minimal": _comment_block("--- hardening that costs nothing measurable ---", _ALWAYS)
    + ["# sandbox profile minimal: no mount namespace (cheap enough for every-second checks)"],
    "strict-user": _comment_block("--- hardening that costs nothing measurable ---", _ALWAYS)
    + _comment_block("--- sandbox profile strict: a mount namespace, which costs CPU per run ---", _STRICT),
    "strict": _comment_block("--- hardening that costs nothing measurable ---", _ALWAYS)
    + _comment_block("--- sandbox profile strict: a mount namespace, which costs CPU per run ---",
                     _STRICT + _STRICT_SYSTEM),
}


def first_run_delay(script: Script) -> int:
    """Seconds after the timer starts before the first run.

    Spread deterministically over up to 10 s (by name) so that 1,000 checks do not all start
    in the same second at boot. A timer started later (bamon add) is past this and fires at once.
    """
    spread = min(script.interval or 10, 10)
    return 1 + zlib.crc32(script.name.encode()) % spread


def _state_directory(script: Script) -> list[str]:
    """Where run-check writes the `last` file that `bamon status` reads.

    StateDirectory= makes it writable inside the strict sandbox and owned by User=, but costs
    PID 1 ~0.8 ms on every start. A minimal check run by the manager's own user needs neither:
    it gets the same path (%S is StateDirectory='s base in both modes) and run-check creates
    the directory on its first run.
    """
    path = f"bamon/checks/{script.name}"
    if script.limits.profile == "minimal" and not script.user:
        return ["# run-check writes the last result here (creating it on the first run); `bamon status` reads it",
                f'Environment="STATE_DIRECTORY=%S/{path}"']  # names are [A-Za-z0-9_.-]: nothing to escape
    return ["# run-check writes the last result here; `bamon status` reads it", f"StateDirectory={path}"]


def service_unit(script: Script, target: Target) -> str:
    limits = script.limits
    description = f"bamon check {script.name}" + (f": {plain(script.description)}" if script.description else "")
    lines = [
        "# Generated by bamon from the file named in SourcePath=; edit that file, not this one.",
        "[Unit]",
        f"Description={description}",
        "Documentation=man:bamon(1)",
        f"SourcePath={script.source}",
        "# a failed run starts the notifier, which records systemd's verdict on it",
        f"OnFailure={naming.NOTIFY_TEMPLATE}%N.service",
        "# checks may run every second: never let the start rate limit swallow one",
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=oneshot",
        f"Slice={naming.SLICE}",
        f"ExecStart=/bin/bash {exec_arg(str(target.run_check))} {exec_arg(script.name)} {exec_arg(script.command)}",
        f"SyslogIdentifier=bamon-{script.name}",
        "# every journal entry of a run carries the check's name: history is one match",
        f"LogExtraFields=BAMON_CHECK={script.name}",
    ]
    lines += _state_directory(script)
    lines += [f"Environment={env_assignment(k, v)}" for k, v in script.environment]
    if script.user == "dynamic":
        lines.append("DynamicUser=yes")
    elif script.user:
        lines.append(f"User={script.user}")
    lines += [
        "# --- limits (sandbox: timeout, max_cpu_time, max_file_size, max_virtual_memory) ---",
        f"TimeoutStartSec={limits.timeout}s",
        "# after the timeout, SIGTERM; SIGKILL if the check is still there 5 s later",
        "TimeoutStopSec=5s",
        f"LimitCPU={limits.max_cpu_time}",
        f"LimitFSIZE={limits.max_file_size}K",
        "# max_virtual_memory: the address-space limit of the bash BAMON (ulimit -v), enforced",
        "# everywhere; and a cgroup memory cap, where systemd has the memory controller",
        f"LimitAS={limits.max_virtual_memory}K",
        f"MemoryMax={limits.max_virtual_memory}K",
        "MemorySwapMax=0",
    ]
    profile = "strict-user" if limits.profile == "strict" and target.user_mode else limits.profile
    lines += _HARDENING[profile]
    return "\n".join(lines) + "\n"


def timer_unit(script: Script) -> str:
    lines = [
        "# Generated by bamon from the file named in SourcePath=; edit that file, not this one.",
        "[Unit]",
        f"Description=bamon timer for check {script.name}",
        "Documentation=man:bamon(1)",
        f"SourcePath={script.source}",
        f"PartOf={naming.TARGET}",
        "",
        "[Timer]",
    ]
    if script.schedule:
        lines += [f"OnCalendar={script.schedule}", "# catch up a run missed while the machine was off",
                  "Persistent=true"]
    else:
        lines += [
            "# the first run, a few seconds after boot (or at once for a timer started later);",
            "# OnUnitActiveSec= alone never fires for a unit that never ran, and OnActiveSec=",
            "# would fire again on every daemon-reload",
            f"OnBootSec={first_run_delay(script)}s",
            f"OnUnitActiveSec={script.interval}s",
        ]
    lines += ["# systemd's default 1min accuracy would smear short intervals", "AccuracySec=1s"]
    return "\n".join(lines) + "\n"


_PRINT_AND_FAIL = 'for p; do echo "bamon: $p"; done; exit 1'


def config_error_unit(issues: list[ConfigIssue], config_file: Path) -> str:
    """A unit that fails, printing the problems, so the failure alert fires on a broken config."""
    text = [f"{i}" + (f" (hint: {i.hint})" if i.hint else "") for i in issues]
    args = " ".join(exec_arg(t) for t in text)
    return "\n".join([
        "# Generated by bamon: the configuration has problems. Run `bamon config validate`.",
        "[Unit]",
        "Description=bamon configuration problems (run: bamon config validate)",
        "Documentation=man:bamon(1)",
        f"SourcePath={config_file}",
        f"OnFailure={naming.NOTIFY_TEMPLATE}%N.service",
        "",
        "[Service]",
        "Type=oneshot",
        "SyslogIdentifier=bamon.config-error",
        "# not a check: no BAMON_CHECK= field, so a check may be called config-error",
        "LogExtraFields=BAMON_UNIT=config-error",
        f"ExecStart=/bin/sh -c {exec_arg(_PRINT_AND_FAIL)} bamon {args}",
    ]) + "\n"


def web_listen_dropin(addresses: tuple[str, ...]) -> str:
    """bamon.web.socket's addresses from web.listen (the empty line drops the packaged one)."""
    lines = "".join(f"ListenStream={a}\n" for a in addresses)
    return f"# Generated by bamon from web.listen\n[Socket]\nListenStream=\n{lines}"


def generate(config: Config, target: Target = Target()) -> Generated:
    """Every unit for `config`: service + timer per script, and a failing unit for problems."""
    out = Generated()
    for script in config.scripts:
        out.units[naming.service(script.name)] = service_unit(script, target)
        if script.enabled:
            out.units[naming.timer(script.name)] = timer_unit(script)
            out.wanted_by_target.append(naming.timer(script.name))
    if config.web.listen != Web().listen:
        out.units[naming.WEB_LISTEN_DROPIN] = web_listen_dropin(config.web.listen)
    if config.errors:
        out.units[naming.CONFIG_ERROR] = config_error_unit(list(config.errors), config.main_file)
        out.wanted_by_target.append(naming.CONFIG_ERROR)
    return out
