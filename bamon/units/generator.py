"""bamon-generator: the systemd generator (systemd.generator(7)) that turns config into units.

systemd runs it early at boot and on every daemon-reload with three output directories; we
write to the first. Rules we follow: no IPC (no systemctl, no journald — messages go to
/dev/kmsg), /var may not be mounted, be fast, and never fail silently: a config that cannot be
read yields bamon.config-error.service, which fails and so triggers the failure alert.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bamon.config.issues import ConfigIssue
from bamon.config.model import Config, Daemon, Limits, load
from bamon.paths import resolve
from bamon.units.render import Target, generate
from bamon.units.write import write_units


def _log(message: str) -> None:
    """One line to the kernel log (journald picks it up), or stderr where that is closed."""
    line = f"<4>bamon-generator: {message}\n".encode()
    try:
        fd = os.open("/dev/kmsg", os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            os.write(fd, line[:1000])
        finally:
            os.close(fd)
    except OSError:
        sys.stderr.write(line.decode()[3:])


def _unreadable(config_file: Path, exc: Exception) -> Config:
    issue = ConfigIssue(str(config_file), None, "", f"cannot be loaded: {type(exc).__name__}: {exc}",
                        "run `bamon config validate`")
    limits = Limits(30, 60, 10240, 102400, "balanced")
    return Config(Daemon(60, 10, 30), limits, (), (issue,), config_file)


def run(output_dir: Path, user_mode: bool) -> int:
    paths = resolve(user_mode)
    if user_mode and not paths.config_file.exists():
        return 0  # this user does not use bamon
    try:
        config = load(paths.config_file, paths.scripts_dir)
    except Exception as exc:  # noqa: BLE001 - whatever breaks, monitoring must not vanish silently
        config = _unreadable(paths.config_file, exc)
    for issue in config.issues:
        _log(("skipped: " if issue.fatal else "note: ") + str(issue))
    write_units(generate(config, Target(user_mode=user_mode)), output_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 3):
        sys.stderr.write("usage: bamon-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n")
        return 2
    output_dir = Path(args[0])
    # systemd ≥ 251 says which manager runs us; older ones only tell by the directory.
    scope = os.environ.get("SYSTEMD_SCOPE")
    user_mode = scope == "user" if scope else str(output_dir).startswith("/run/user/")
    return run(output_dir, user_mode)


if __name__ == "__main__":
    sys.exit(main())
