"""Where bamon's files live, in system mode and in user mode. The only module that knows.

System mode reads /etc/bamon and keeps state in /var/lib/bamon; user mode (`bamon --user`,
the systemd user manager) uses the XDG directories of the invoking user. `--config PATH` and
$BAMON_CONFIG point at another config.yaml (its scripts.d/ is the one beside it); the original
BAMON's $BAMON_CONFIG_FILE is read too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONFIG = Path("/etc/bamon/config.yaml")
SYSTEM_STATE = Path("/var/lib/bamon")
SYSTEM_CREDENTIALS = Path("/etc/bamon/credentials")  # bamon secret: systemd-creds files
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")  # where `bamon apply` writes units
# bamon.web.service's StateDirectory= (users, tokens, sessions, layouts of the dashboard)
SYSTEM_WEB_STATE = Path("/var/lib/bamon-web")
GENERATOR_DIRS = {
    False: Path("/usr/lib/systemd/system-generators"),
    True: Path("/usr/lib/systemd/user-generators"),
}
GENERATOR_NAME = "bamon-generator"
GENERATOR_OUTPUT = Path("/run/systemd/generator")
RUNTIME_UNITS = Path("/run/systemd/system")
# Beside a check's `last` in its state directory: its failure count while it fails, empty while
# it passes. Checks that depend on it look at its size (BAMON_WATCH); run-check and the notifier
# keep it.
FAILING = "failing"
# Beside it, a check's circuit breaker: empty (or missing) while closed, "open UNTIL_US" or
# "half-open 0" (bamon/recovery/breaker.py); run-check looks at its size too.
CIRCUIT = "circuit"

# Check templates shipped with bamon (one YAML file each, package data)
BUILTIN_TEMPLATES = Path(__file__).with_name("templates") / "library"


def check_templates_dir(config_file: Path) -> Path:
    """The operator's check templates beside a config: /etc/bamon/templates.d/*.yaml."""
    return config_file.parent / "templates.d"


# journald's persistent journal and, once `journalctl --setup-keys` ran, its sealing key (fss)
JOURNAL_DIR = Path("/var/log/journal")
MACHINE_ID = Path("/etc/machine-id")
# every directory journald writes to (read only): the persistent one and the volatile one, each
# with this machine's files in a subdirectory named after the machine id (systemd-journald.service(8))
JOURNAL_DIRS = (JOURNAL_DIR, Path("/run/log/journal"))


def journal_dir() -> Path | None:
    """This machine's persistent journal directory, or None when journald keeps none."""
    try:
        machine = MACHINE_ID.read_text(encoding="ascii").strip()
    except OSError:
        return None
    path = JOURNAL_DIR / machine
    return path if machine and path.is_dir() else None


def sealing_key() -> Path | None:
    """journald's sealing key (Forward Secure Sealing), or None when sealing is not set up."""
    directory = journal_dir()
    return directory / "fss" if directory is not None and (directory / "fss").exists() else None


def _xdg(var: str, fallback: str, home: Path) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else home / fallback


@dataclass(frozen=True)
class Paths:
    user_mode: bool
    config_file: Path
    scripts_dir: Path
    state_dir: Path  # bamon's own state: locks, alert state
    check_state_dirs: tuple[Path, ...]  # where units' StateDirectory=bamon/checks/NAME lands
    unit_dir: Path  # target of `bamon apply`
    config_overridden: bool  # --config/$BAMON_CONFIG: not the file systemd's generator reads

    @property
    def lock_file(self) -> Path:
        # Beside the config, so every writer of one config serialises on one lock.
        return self.config_file.parent / ".bamon.lock"

    # --- alerts (bamon/notify/): state per check, silences, operator templates -------------------
    @property
    def alert_state_dir(self) -> Path:
        """One JSON file (and its lock) per check: the open episode, what each rule sent."""
        return self.state_dir / "alerts"

    @property
    def silences_file(self) -> Path:
        return self.state_dir / "silences.json"

    @property
    def templates_dir(self) -> Path:
        """Operator overrides of the alert templates (/etc/bamon/templates, ~/.config/bamon/templates)."""
        return self.config_file.parent / "templates"

    @property
    def check_templates_dir(self) -> Path:
        """Check templates of the operator (`bamon template`), one per file; see bamon/templates/."""
        return check_templates_dir(self.config_file)

    @property
    def versions_dir(self) -> Path:
        """The git repository of config versions (`bamon config history`); see bamon/versions.py."""
        return self.state_dir / "config-versions"

    @property
    def web_state_dir(self) -> Path:
        """The dashboard's users, tokens, sessions and layouts (bamon.web.service's StateDirectory=)."""
        return self.state_dir / "web" if self.user_mode else SYSTEM_WEB_STATE

    def check_state_file(self, name: str) -> Path | None:
        """The `last` file the check's unit writes after each run, if it exists."""
        for base in self.check_state_dirs:
            candidate = base / name / "last"
            if candidate.exists():
                return candidate
        return None

    @property
    def outbox_dir(self) -> Path:
        """Alerts waiting for a channel (bamon.outbox.path watches it; it uses %S/bamon/outbox).

        A user manager's %S is $XDG_STATE_HOME since systemd 254 and $XDG_CONFIG_HOME before:
        the path unit creates the one its systemd means (MakeDirectory=), so take the existing one.
        """
        candidates = [base.parent / "outbox" for base in self.check_state_dirs]
        return next((c for c in candidates if c.is_dir()), candidates[0])

    @property
    def credentials_dir(self) -> Path:
        """Stored secrets (bamon secret): encrypted credentials, or 0600 files in user mode."""
        if self.user_mode:
            return _xdg("XDG_CONFIG_HOME", ".config", Path.home()) / "bamon" / "credentials"
        return SYSTEM_CREDENTIALS

    def generator_installed(self) -> bool:
        return (GENERATOR_DIRS[self.user_mode] / GENERATOR_NAME).exists()

    @property
    def generator_output_dir(self) -> Path:
        """Where systemd has the generators write (their "normal" directory)."""
        return self._runtime("generator") if self.user_mode else GENERATOR_OUTPUT

    @property
    def runtime_unit_dir(self) -> Path:
        """systemd's runtime unit directory (/run/systemd/system): gone at reboot, and, unlike the
        generator's, read for a unit never loaded before without a daemon-reload."""
        return self._runtime("user") if self.user_mode else RUNTIME_UNITS

    @staticmethod
    def _runtime(name: str) -> Path:
        return Path(os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}") / "systemd" / name


def resolve(user_mode: bool = False, config: str | None = None) -> Paths:
    """The paths for this invocation."""
    override = config or os.environ.get("BAMON_CONFIG") or os.environ.get("BAMON_CONFIG_FILE") or None
    if user_mode:
        home = Path.home()
        config_home = _xdg("XDG_CONFIG_HOME", ".config", home)
        state_home = _xdg("XDG_STATE_HOME", ".local/state", home)
        default_config = config_home / "bamon" / "config.yaml"
        state_dir = state_home / "bamon"
        # systemd < 254 puts a user unit's StateDirectory= under $XDG_CONFIG_HOME, newer
        # versions under $XDG_STATE_HOME: look in both.
        check_dirs: tuple[Path, ...] = (state_dir / "checks", config_home / "bamon" / "checks")
        unit_dir = config_home / "systemd" / "user"
    else:
        default_config = SYSTEM_CONFIG
        state_dir = SYSTEM_STATE
        check_dirs = (SYSTEM_STATE / "checks",)
        unit_dir = SYSTEM_UNIT_DIR
    config_file = Path(override).expanduser().absolute() if override else default_config
    return Paths(
        user_mode=user_mode,
        config_file=config_file,
        scripts_dir=config_file.parent / "scripts.d",
        state_dir=state_dir,
        check_state_dirs=check_dirs,
        unit_dir=unit_dir,
        config_overridden=bool(override) and config_file != default_config,
    )
