"""The only module that runs systemctl and systemd-analyze.

Everything bamon asks of the service manager goes through `Systemd`, so system vs user mode,
error wording and the batching that keeps `bamon status` fast live in one place. The runner is
injectable: unit tests pass a fake at this one seam.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

from bamon.errors import BamonError

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _default_runner(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        # stdin from /dev/null: a transient unit run with --pipe must not read the caller's terminal
        return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=600,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise BamonError(f"{argv[0]} not found: bamon needs systemd",
                         "on machines without systemd use `bamon now --local`") from None


@dataclass(frozen=True)
class UnitState:
    name: str
    load: str  # loaded | not-found | masked | error
    active: str  # active | inactive | activating | failed | …
    sub: str  # running | waiting | exited | dead | …


_DATE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: (\S+))?$")


def timestamp(text: str) -> datetime | None:
    """A time property of `systemctl show --timestamp=unix`, or None when unset.

    Most come as "@1700000000", but systemd 252 ignores --timestamp for some (a timer's
    NextElapseUSecRealtime): those come as "Fri 2026-11-27 04:00:00 UTC", in the local zone
    of systemctl, which is ours too (same environment).
    """
    text = text.strip()
    if text.startswith("@") and text[1:].isdigit():
        return datetime.fromtimestamp(int(text[1:]), tz=UTC)
    match = _DATE.search(text)
    if match is None:
        return None  # "", "n/a", "0"
    moment = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S")
    return moment.replace(tzinfo=UTC) if match[2] in ("UTC", "GMT") else moment.astimezone(UTC)


_DENIED = re.compile(r"Access denied|Interactive authentication required|not permitted", re.I)


class Systemd:
    def __init__(self, user_mode: bool = False, runner: Runner = _default_runner) -> None:
        self.user_mode = user_mode
        self._runner = runner

    def _systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = ["systemctl", *(["--user"] if self.user_mode else []), *args]
        result = self._runner(argv)
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            first = message[0] if message else f"exit status {result.returncode}"
            hint = ("run it as root (sudo bamon …), or manage your own checks with --user"
                    if _DENIED.search(result.stderr or "") else
                    f"see `systemctl {'--user ' if self.user_mode else ''}status` and `journalctl -xe`")
            raise BamonError(f"systemctl {' '.join(args)}: {first}", hint)
        return result

    # --- lifecycle ----------------------------------------------------------------------------
    def daemon_reload(self) -> None:
        """Re-run generators (ours included) and load the changed units."""
        self._systemctl("daemon-reload")

    def start(self, *units: str, wait: bool = True) -> subprocess.CompletedProcess[str]:
        """Start units; with `wait`, return after oneshot services finished (never raises)."""
        return self._systemctl("start", *([] if wait else ["--no-block"]), *units, check=False)

    def stop(self, *units: str) -> None:
        self._systemctl("stop", *units, check=False)

    def restart(self, *units: str, wait: bool = True) -> None:
        self._systemctl("restart", *([] if wait else ["--no-block"]), *units)

    def enable(self, *units: str, now: bool = False) -> None:
        self._systemctl("enable", *(["--now"] if now else []), *units)

    def is_enabled(self, unit: str) -> bool:
        return self._systemctl("is-enabled", "--quiet", unit, check=False).returncode == 0

    def is_active(self, unit: str) -> bool:
        return self._systemctl("is-active", "--quiet", unit, check=False).returncode == 0

    def reset_failed(self, *units: str) -> None:
        self._systemctl("reset-failed", *units, check=False)

    # --- alerts: transient timers (escalation steps) — timed by systemd, no resident process ----
    def start_timer(self, unit: str, seconds: int, argv: Sequence[str], description: str) -> bool:
        """Run `argv` once, `seconds` from now, as the transient unit `unit` (.timer + .service)."""
        result = self._runner([
            "systemd-run", *(["--user"] if self.user_mode else []), "--quiet", "--collect",
            # RemainAfterElapse=no and --collect: both units go away once it ran, so the next
            # episode can reuse the name
            f"--unit={unit}", f"--on-active={max(seconds, 1)}s", "--timer-property=AccuracySec=1s",
            "--timer-property=RemainAfterElapse=no",
            # the notifier lets a shutdown's SIGTERM wait until its alert is out (notify/main.py)
            "--property=TimeoutStopSec=30s",
            f"--description={description}", *argv])
        return result.returncode == 0

    def run_failing(self, unit: str, description: str, argv: Sequence[str]) -> bool:
        """Start `argv` as the transient service `unit` and leave it there, failed or not, for
        `systemctl --failed` and the journal to show (a failed one from before is cleared first)."""
        self.reset_failed(unit)
        result = self._runner(["systemd-run", *(["--user"] if self.user_mode else []), "--quiet",
                               f"--unit={unit}", f"--description={description}", "--service-type=oneshot",
                               f"--property=SyslogIdentifier={unit.removesuffix('.service')}", *argv])
        return result.returncode == 0

    # --- queries (batched: one call for all units) ----------------------------------------------
    def list_units(self, *patterns: str) -> dict[str, UnitState]:
        """State of all loaded units matching the patterns, in one call (~9 ms for 1,000)."""
        out = self._systemctl("list-units", "--all", "--plain", "--no-legend", "--no-pager",
                              "--full", *patterns, check=False).stdout
        states = {}
        for line in out.splitlines():
            fields = line.split(None, 4)
            if len(fields) >= 4:
                states[fields[0]] = UnitState(*fields[:4])
        return states

    def show(self, units: Sequence[str], properties: Sequence[str]) -> dict[str, dict[str, str]]:
        """Selected properties of several units in one systemctl call."""
        if not units:
            return {}
        out = self._systemctl("show", "--timestamp=unix", "-p", ",".join(["Id", *properties]),
                              "--", *units, check=False).stdout
        result: dict[str, dict[str, str]] = {}
        for block in out.split("\n\n"):
            values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "Id" in values:
                result[values["Id"]] = values
        return result

    def busy(self, pattern: str) -> bool:
        """Is any unit matching `pattern` running or waiting in the job queue?"""
        jobs = self._systemctl("list-jobs", "--plain", "--no-legend", "--no-pager", check=False).stdout
        if any(fnmatch(line.split()[1], pattern) for line in jobs.splitlines() if len(line.split()) > 1):
            return True
        return any(u.active in ("activating", "deactivating") for u in self.list_units(pattern).values())

    # --- offline checks (systemd-analyze) -----------------------------------------------------------
    def calendar_errors(self, expressions: Sequence[str]) -> dict[str, str]:
        """{expression: error} for OnCalendar expressions systemd does not accept."""
        errors = {}
        for expression in dict.fromkeys(expressions):
            result = self._runner(["systemd-analyze", "calendar", "--iterations=1", expression])
            if result.returncode != 0:
                lines = (result.stderr or result.stdout).strip().splitlines()
                errors[expression] = lines[-1] if lines else "not a valid calendar expression"
        return errors

    def security(self, units: Sequence[str]) -> dict[str, Exposure]:
        """`systemd-analyze security` of loaded units, in one call: {unit: its exposure}.

        Text, not --json=short: systemd 252's JSON lists the items of each unit but neither the
        unit's name nor its overall score, which only the text output carries. Units systemd
        cannot analyse (not loaded) are missing from the result.
        """
        if not units:
            return {}
        argv = ["systemd-analyze", *(["--user"] if self.user_mode else []), "security", "--no-pager", *units]
        return parse_security(self._runner(argv).stdout)

        # --- credentials (systemd-creds; values only on stdin/stdout, never in argv) --------------------
    def _creds(self, args: Sequence[str], data: str) -> subprocess.CompletedProcess[str]:
        argv = ["systemd-creds", *args]
        try:
            result = subprocess.run(argv, input=data, capture_output=True, text=True, check=False, timeout=60)
        except FileNotFoundError:
            raise BamonError("systemd-creds not found", "it comes with systemd 250 or later") from None
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines()
            raise BamonError(f"systemd-creds {args[0]} failed: {lines[-1] if lines else result.returncode}",
                             "run as root; see `systemd-creds --help`")
        return result

    def has_tpm2(self) -> bool:
        return self._runner(["systemd-creds", "has-tpm2", "--quiet"]).returncode == 0

    def encrypt_credential(self, name: str, value: str, path: Path) -> None:
        """Encrypt `value` into `path` with the host key, and the TPM2 too where there is one."""
        key = "host+tpm2" if self.has_tpm2() else "host"
        self._creds(["encrypt", f"--with-key={key}", f"--name={name}", "-", str(path)], value)
        path.chmod(0o600)

    def decrypt_credential(self, path: Path, name: str) -> str:
        return self._creds(["decrypt", f"--name={name}", str(path), "-"], "").stdout.rstrip("\n")

    # --- recovery actions (bamon/recovery/actions.py): one transient unit per action run --------
    def run_transient(self, unit: str, command: str, timeout: int, description: str) -> Transient:
        """Run `command` (sh -c) as the transient service `unit`, killed after `timeout` seconds.

        --wait --pipe hands back its output and exit status; systemd enforces the timeout
        (RuntimeMaxSec=); the runner's own timeout only guards against systemd-run hanging.
        """
        argv = ["systemd-run", *(["--user"] if self.user_mode else []), "--wait", "--pipe", "--collect",
                f"--unit={unit}", f"--description={description}", "--service-type=exec",
                f"--property=RuntimeMaxSec={timeout}s", "--property=TimeoutStopSec=5s",
                "/bin/sh", "-c", command]
        try:
            done = self._runner(argv)
        except subprocess.TimeoutExpired:
            self.stop(unit)
            return Transient("timeout", None, "")
        except BamonError as exc:  # systemd-run not found
            return Transient("resources", None, exc.message)
        # Without --quiet, systemd-run --wait reports "Finished with result: timeout" on stderr
        # (and, depending on the version, the exit status); with --wait its own exit status is
        # the service's when the service exited.
        found = re.search(r"Finished with result: (\S+)", done.stderr)
        result = found[1] if found else ("success" if done.returncode == 0 else "exit-code")
        status = re.search(r"code=exited[/, ]+status=(\d+)", done.stderr)
        exit_status = int(status[1]) if status else done.returncode if result in ("success", "exit-code") else None
        extra = [line for line in done.stderr.splitlines() if not _RUN_REPORT.match(line)]
        return Transient(result, exit_status, "\n".join([done.stdout.rstrip("\n"), *extra]).strip("\n"))


@dataclass(frozen=True)
class Exposure:
    """systemd-analyze security's verdict on one unit: its score (0 safe … 10 exposed), its
    level word (OK, MEDIUM, EXPOSED, UNSAFE, …) and each open item as (setting, why, weight)."""

    score: float
    level: str
    open_items: tuple[tuple[str, str, float], ...]


# A table row: a mark (✗/✓ in UTF-8 locales, -/+ in C), the setting, its description and, for an
# open item, its exposure; then one overall line per unit. The same words in every locale.
_ROW = re.compile(r"^(?P<mark>✗|-)\s+(?P<setting>\S+)\s+(?P<why>.*?)\s+(?P<exposure>\d+\.\d+)\s*$")
_OVERALL = re.compile(r"Overall exposure level for (?P<unit>\S+): (?P<score>\d+\.\d+) (?P<level>[A-Z]+)")


def parse_security(text: str) -> dict[str, Exposure]:
    """{unit: Exposure} from `systemd-analyze security` text for one or more units."""
    found: dict[str, Exposure] = {}
    items: list[tuple[str, str, float]] = []
    for line in text.splitlines():
        row = _ROW.match(line)
        if row:
            items.append((row["setting"], row["why"], float(row["exposure"])))
            continue
        overall = _OVERALL.search(line)
        if overall:
            found[overall["unit"]] = Exposure(float(overall["score"]), overall["level"], tuple(items))
            items = []
    return found


@dataclass(frozen=True)
class Transient:
    """What a transient unit did: systemd's Result=, the exit status (None if killed), output."""

    result: str
    exit_status: int | None
    output: str


# The lines systemd-run --wait adds about the unit, not the command's own
_RUN_REPORT = re.compile(r"^(Running as unit|Finished with result|Main processes terminated|Service runtime|"
                         r"CPU time consumed|Memory peak|IP traffic|IO bytes)")
