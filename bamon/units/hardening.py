"""Sandbox profiles as data: the unit settings each profile and per-check key adds, and why.

Profiles (DESIGN §3, measured timer-driven in bench/timers.py, figures in docs/sandbox.md):
  minimal   only what costs nothing: NoNewPrivileges, rlimits, memory cap, timeout; root.
  balanced  (default) an unprivileged user and the seccomp/capability options that cost
            little; no mount namespace.
  strict    balanced plus a mount namespace: the file system read-only, private /tmp and
            /dev, no kernel modules. The expensive remounts that only forbid what a user
            without capabilities cannot do anyway are left out (see STRICT).
Each setting carries its reason, which the unit prints as a comment (`systemctl cat`).
"""

from __future__ import annotations

from bamon.config.model import Script

Option = tuple[str, str]  # (unit setting, why)

# The unprivileged user that balanced and strict checks run as (debian/bamon.sysusers).
CHECK_USER = "bamon"
PROFILES_WITH_USER = ("balanced", "strict")

ALWAYS: tuple[Option, ...] = (
    ("NoNewPrivileges=yes", "the check cannot gain privileges through setuid binaries"),
)
# Not UMask=0077: a check's state files (`last`, read by `bamon status` of any user and by the
# checks that depend on it) must stay readable.
# Left out, measured: ProtectClock=, ProtectHostname= and RestrictRealtime= each cost PID 1 a
# filter (and ProtectClock= a device program) on every start, and only forbid what the capability
# bounding set below already does (CAP_SYS_TIME, CAP_SYS_ADMIN, CAP_SYS_NICE: kept only if asked for).
BALANCED: tuple[Option, ...] = (
    # A deny list, not the allow list @system-service: seccomp filters are compiled on every start,
    # and the allow list's ~380 entries cost PID 1 ~3.5 ms more per run than these ~115 (measured,
    # docs/sandbox.md). It refuses the same dangerous calls (mount, ptrace, bpf, module loading,
    # perf, kexec, …), and systemd-analyze security rates both alike.
    ("SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap syslog",
     "no system calls that change the machine, debug other processes or use obsolete interfaces"),
    ("SystemCallErrorNumber=EPERM", "a filtered system call fails with EPERM instead of killing the check"),
    ("SystemCallArchitectures=native", "only native system calls"),
    ("RestrictNamespaces=yes", "no new namespaces (containers) from the check"),
    ("LockPersonality=yes", "the execution domain cannot be changed"),
    ("RestrictSUIDSGID=yes", "no setuid/setgid files can be created"),
    ("MemoryDenyWriteExecute=yes",
     "no memory both writable and executable (JIT runtimes such as node need sandbox: minimal)"),
)
# Only for an unprivileged user: root checks keep chown & co., which root-only tools may use.
UNPRIVILEGED: tuple[Option, ...] = (
    ("SystemCallFilter=~@privileged @resources",
     "nor the privileged or resource-changing ones (chown, setuid, nice, …): this user may not use them"),
)
# Left out, measured (docs/sandbox.md): ProtectKernelTunables= (+17 ms a run alone: dozens of
# /proc and /sys remounts), ProtectControlGroups= (+2.8 ms over the namespace) and
# ProtectKernelLogs= (+2.4 ms), which only forbid what a check without capabilities cannot do
# anyway (write /proc/sys, the cgroup tree, read the kernel log), and ProtectHome=read-only,
# which ProtectSystem=strict already implies.
STRICT: tuple[Option, ...] = (
    ("PrivateTmp=yes", "a private /tmp and /var/tmp, discarded after the run"),
    ("PrivateMounts=yes", "mounts made by the check stay in its own namespace"),
    ("ProtectSystem=strict", "the whole file system is read-only to the check"),
    ("ProtectKernelModules=yes", "no kernel module loading"),
)
# Device and capability settings only work under PID 1: a user manager cannot drop
# capabilities, and the unit would fail with status 218/CAPABILITIES.
STRICT_SYSTEM: tuple[Option, ...] = (
    ("PrivateDevices=yes", "no access to hardware devices (/dev holds only null, zero, random, …)"),
)
# What a root check may not do: it keeps what observing needs (reading any file, raw sockets
# for ping), not the power to change the system.
ROOT_DENIED = tuple(sorted((
    "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_BOOT", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
    "CAP_SYS_PACCT", "CAP_SYS_TTY_CONFIG", "CAP_SYS_CHROOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_MKNOD",
    "CAP_LINUX_IMMUTABLE", "CAP_BPF", "CAP_PERFMON", "CAP_BLOCK_SUSPEND", "CAP_LEASE", "CAP_WAKE_ALARM",
    "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE",
    "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP",
    "CAP_SETFCAP", "CAP_CHOWN", "CAP_FSETID", "CAP_FOWNER", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_KILL",
    "CAP_SYSLOG")))
INET_FAMILIES = "AF_UNIX AF_INET AF_INET6 AF_NETLINK"

NETWORK: dict[str, tuple[Option, ...]] = {
    "any": (("RestrictAddressFamilies=" + INET_FAMILIES, "network: any — HTTP/TCP/DNS, nothing exotic"),),
    "localhost": (
        ("RestrictAddressFamilies=" + INET_FAMILIES, "network: localhost — the check may open IP sockets"),
        ("IPAddressDeny=any", "… but packets to and from any address are dropped (connections time out) …"),
        ("IPAddressAllow=localhost", "… except 127.0.0.0/8 and ::1"),
    ),
    "none": (
        ("PrivateNetwork=yes", "network: none — the check has its own network with only a loopback"),
        ("RestrictAddressFamilies=AF_UNIX", "and cannot open IP sockets at all (fails at once, not on a timeout)"),
        # run-check adds a line saying so when such a check fails
        ("Environment=BAMON_NETWORK=none", "run-check explains a failure by the missing network"),
    ),
}


def run_as(script: Script, user_mode: bool) -> str | None:
    """The user the check runs as: a name, "root", "dynamic", or None for the manager's own.

    An explicit `user:` (the script's, else sandbox.user) wins; else the profile's: balanced and
    strict run as the unprivileged bamon user, minimal (which must cost nothing) as the
    manager's user. A user manager cannot switch users, so there only an explicit user is kept.
    """
    if script.user:
        return script.user
    if user_mode:
        return None
    return CHECK_USER if script.limits.profile in PROFILES_WITH_USER else None


def is_root(user: str | None, user_mode: bool) -> bool:
    return user == "root" or (user is None and not user_mode)


def comment_block(title: str, options: tuple[Option, ...]) -> list[str]:
    lines = [f"# {title}"]
    for setting, why in options:
        lines += [f"# {why}", setting]
    return lines


def _capabilities(script: Script, root: bool, user_mode: bool) -> tuple[Option, ...]:
    wanted = script.capabilities
    if user_mode:
        return ()  # a user manager can neither grant nor drop them
    if root:
        if script.limits.profile == "minimal":
            return ()
        denied = " ".join(c for c in ROOT_DENIED if c not in wanted)
        return ((f"CapabilityBoundingSet=~{denied}",
                 "root keeps what observing needs (reading any file, raw sockets), not the power to change"
                 + (f"; capabilities: {' '.join(wanted)}" if wanted else "")),)
    if wanted:
        caps = " ".join(wanted)
        return ((f"CapabilityBoundingSet={caps}", "capabilities: only these, nothing else"),
                (f"AmbientCapabilities={caps}", "granted to the command although it is not root"))
    if script.limits.profile == "minimal":
        return ()
    return (("CapabilityBoundingSet=", "no capabilities at all"),)


def _cached(profile: str, root: bool, user_mode: bool) -> list[str]:
    """The profile's block, built once per kind of check: the generator renders 1,000s of them."""
    key = (profile, root, user_mode)
    block = _BLOCKS.get(key)
    if block is None:
        lines = comment_block("--- hardening that costs nothing measurable ---", ALWAYS)
        if profile == "minimal":
            lines.append("# sandbox profile minimal: nothing more (cheap enough for every-second checks)")
        else:
            lines += comment_block("--- sandbox profile balanced: seccomp and namespace-free options, cheap ---",
                                   BALANCED + (() if root or user_mode else UNPRIVILEGED))
        if profile == "strict":
            lines += comment_block("--- sandbox profile strict: a mount namespace, which costs CPU per run ---",
                                   STRICT + (() if user_mode else STRICT_SYSTEM))
        block = _BLOCKS[key] = lines
    return block


_BLOCKS: dict[tuple[str, bool, bool], list[str]] = {}


def sandbox_lines(script: Script, user: str | None, user_mode: bool) -> list[str]:
    """The hardening part of the check's [Service] section (user, profile, per-check keys)."""
    profile = script.limits.profile
    root = is_root(user, user_mode)
    lines = list(_cached(profile, root, user_mode))
    extra = _capabilities(script, root, user_mode)
    if profile != "minimal" or script.network != "any":
        extra += NETWORK[script.network]
    if script.read_write_paths:
        if profile == "strict":
            paths = " ".join(p.replace("%", "%%") for p in script.read_write_paths)
            extra += ((f"ReadWritePaths={paths}", "read_write_paths: writable despite ProtectSystem=strict"),)
        else:
            lines.append(f"# read_write_paths: nothing is read-only under sandbox {profile}; "
                         "writes follow the file permissions of the check's user")
    if extra:
        lines += comment_block("--- this check's own settings ---", extra)
    return lines


# `systemd-analyze security --offline=yes` of a check of `true` per profile, as bamon and as
# root (tests/system/test_sandbox.py checks these figures against systemd itself).
EXPOSURE = {"minimal": (9.4, 9.4), "balanced": (3.4, 4.3), "strict": (2.4, 3.2)}


def why_root(script: Script, user_mode: bool) -> str | None:
    """Why the check runs as root and what that costs, or None when it does not."""
    user = run_as(script, user_mode)
    if not is_root(user, user_mode):
        return None
    profile = script.limits.profile
    if user is None:
        reason = "sandbox minimal runs checks as root"
    elif script.limits.user == "root" and script.user == "root":
        reason = "sandbox.user: root"
    else:
        reason = "user: root"
    as_bamon, as_root = EXPOSURE[profile]
    if profile == "minimal":
        return f"runs as root ({reason}): it can do everything root can; systemd-analyze security rates it {as_root}"
    return (f"runs as root ({reason}): it can read every file, though not change the system; "
            f"systemd-analyze security rates it {as_root} instead of {as_bamon} as user {CHECK_USER}")
