"""What every reader and writer needs: paths, the config, systemd, the journal — made on first use.

Shared by the CLI commands, the service layer (bamon/manage.py) and the web service.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bamon.config.load import load_raw
from bamon.config.model import Config, Script, load
from bamon.errors import BamonError
from bamon.journal import Journal
from bamon.paths import Paths
from bamon.systemd import Systemd
from bamon.units import naming

# bamon.units.render and .write are imported where units are written: readers (status, history)
# build a Context on every call and should not pay ~15 ms of imports for the generator.


def _stderr(text: str) -> None:
    sys.stderr.write(text)


@dataclass
class Context:
    paths: Paths
    _config: Config | None = field(default=None, repr=False)
    # Where remarks for the operator go: stderr for the CLI, a list for the web API.
    note: Callable[[str], None] = field(default=lambda text: _stderr(f"bamon: {text}\n"), repr=False)
    # Read another journal: a directory of journal files (systemd-journal-remote's) and/or one
    # host's entries only (`bamon history/log --journal-dir DIR --host H`). Set before first use.
    journal_dir: Path | None = None
    journal_host: str | None = None

    @property
    def user_mode(self) -> bool:
        return self.paths.user_mode

    @cached_property
    def systemd(self) -> Systemd:
        return Systemd(self.user_mode)

    @cached_property
    def journal(self) -> Journal:
        return Journal(self.user_mode, directory=self.journal_dir, host=self.journal_host)

    def config(self, fresh: bool = False) -> Config:
        if self._config is None or fresh:
            self._config = load(self.paths.config_file, self.paths.scripts_dir)
            if not self.paths.config_file.exists() and not self.paths.scripts_dir.exists():
                raise BamonError(f"no configuration at {self.paths.config_file}",
                                 "create one with `bamon config reset`"
                                 + ("" if self.user_mode else ", or manage your own checks with --user"))
        return self._config

    def script(self, name: str) -> Script:
        """The named script, or a clear error with a suggestion."""
        config = self.config()
        script = config.script(name)
        if script is None:
            close = difflib.get_close_matches(name, [s.name for s in config.scripts], n=1)
            hint = ("it is in the config but invalid: run `bamon config validate`" if self._has_entry(name) else
                    f"did you mean {close[0]!r}?" if close else
                    "see `bamon list` for the configured scripts")
            raise BamonError(f"no script named {name!r}", hint, code="not_found")
        return script

    def script_fresh(self, name: str) -> Script:
        """The named script as the files say now (callers hold the config lock)."""
        self.config(fresh=True)
        return self.script(name)

    def _has_entry(self, name: str) -> bool:
        """Is there an entry named `name` in the files, valid or not? (Only asked on errors.)"""
        raw = load_raw(self.paths.config_file, self.paths.scripts_dir)
        return any(isinstance(r.data, dict) and r.data.get("name") == name for r in raw.scripts)

    @property
    def live(self) -> bool:
        """Is this the config systemd runs? Only then may a command touch the units and state
        of its scripts: --config/BAMON_CONFIG names another file, whose scripts may share
        their names with live ones."""
        return not self.paths.config_overridden

    def reload(self) -> None:
        """Make systemd see the config as written: re-run the generator (or apply), start timers.

        daemon-reload alone does not start the timers of new scripts (nor the unit reporting
        config problems): an active target does not look at its Wants= again. Starting the
        target once more does, and starts nothing while the operator has stopped bamon.
        """
        if not self.live:
            self.note("--config/BAMON_CONFIG is not the file systemd reads; units were not reloaded")
            return
        from bamon.units.render import Target, generate
        from bamon.units.write import install_static_units, remove_ours, write_units

        # checks added without a reload (reload_added): the generator's units take over now
        remove_ours(self.paths.runtime_unit_dir, naming.UNIT_GLOB)
        if not self.paths.generator_installed():  # pip/Homebrew/snap: `bamon apply` mode
            config = self.config(fresh=True)
            write_units(generate(config, Target(user_mode=self.user_mode)), self.paths.unit_dir, prune=True)
            install_static_units(self.paths.unit_dir, self.user_mode)
        self.systemd.daemon_reload()
        if self.systemd.is_active(naming.TARGET):
            self.systemd.start(naming.TARGET, wait=False)

    def reload_added(self, name: str) -> None:
        """Make the newly added check `name` live: without a daemon-reload where that is safe, else reload().

        A daemon-reload re-runs every generator and re-reads every unit: with 1,000 checks that
        is nearly all of `bamon add`'s time, spent on 2,000 check units (and the 1,000 notifier
        instances their OnFailure= names) that did not change. systemd loads a unit it has never
        loaded when it is first started, from /run/systemd/system (not from the generator's
        directory, which it reads only on a reload): the new check's units are written there,
        exactly as the generator writes them (the same pure function), and its timer is
        started. Only when every other unit the generator would write is byte for byte what
        systemd has (an 11th check adds a concurrency gate to all of them; an upgrade changes
        their text); otherwise, and wherever the new units cannot be loaded that way, reload().
        The next reload() removes these copies first: from then on the generator's are used.
        """
        if not self._load_added(name):
            self.reload()

    def _load_added(self, name: str) -> bool:
        from bamon.units.render import Generated, Target, generate
        from bamon.units.write import write_units

        generator, runtime = self.paths.generator_output_dir, self.paths.runtime_unit_dir
        if not self.live or not self.paths.generator_installed() or not (generator / f"{naming.TARGET}.wants").is_dir():
            return False
        generated = generate(self.config(), Target(user_mode=self.user_mode))
        new = {naming.service(name), naming.timer(name)} & set(generated.units)
        if not new or any((d / unit).exists() for d in (generator, runtime) for unit in new):
            return False
        ours = [p.name for d in (generator, runtime) for p in d.glob(naming.UNIT_GLOB)]
        ours += [unit for unit in (naming.CONFIG_ERROR, naming.WEB_LISTEN_DROPIN) if (generator / unit).exists()]
        if set(ours) - set(generated.units):
            return False  # a unit the generator would no longer write: something else changed too
        for unit, text in generated.units.items():
            if unit not in new and (_read(runtime / unit) or _read(generator / unit)) != text:
                return False
        write_units(Generated({u: generated.units[u] for u in new}), runtime, atomic=True)
        timer = naming.timer(name)
        if timer in new and self.systemd.is_active(naming.TARGET):
            return self.systemd.start(timer, wait=False).returncode == 0
        return True


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
