"""The service layer: every change to the checks goes lock → validate → write → audit → reload.

The CLI commands and the web API both call these functions, so no path can write the config
without the lock, validation, an audit record, a version (bamon/versions.py) and a reload.
Each function raises BamonError (with the CLI's own wording and hint) before anything is
written when the change is invalid.

`actor` names who asked for the change when it is not the process's own user (a web login);
`via` tells the audit trail which surface it came through.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bamon import audit, versions
from bamon.atomic import atomic_write
from bamon.config.defaults import render
from bamon.config.load import entry
from bamon.config.model import load
from bamon.config.timespec import check_schedule
from bamon.config.validate import entry_issues
from bamon.config.write import add_script, edit_script, locked
from bamon.context import Context
from bamon.errors import BamonError
from bamon.notify import escalation
from bamon.units import naming
from bamon.units.render import PRINT_AND_FAIL

NAME_KEY = "name"


@dataclass(frozen=True)
class Actor:
    """Who made a change and through which surface; None fields mean "this process's user"."""

    user: str | None = None
    via: str = "cli"


CLI = Actor()


@dataclass(frozen=True)
class Change:
    """What a write did: for the caller's message and the API's response."""

    action: str
    name: str | None
    before: str = ""
    after: str = ""
    path: str = ""


HAND_EDIT = Actor(via="hand edit")


def _audit(ctx: Context, change: Change, actor: Actor, detail: str = "") -> Change:
    """The audit record of a change, and (when it wrote files) the config version it made."""
    audit.record(ctx.journal, change.action, change.name, before=change.before, after=change.after,
                 actor=actor.user, via=actor.via)
    if change.path:
        _version(ctx, change.action, change.name, actor, detail)
    return change


def store(ctx: Context) -> versions.Store:
    """The versions of the config systemd runs (another --config has none)."""
    if not ctx.live:
        raise BamonError("versions are kept only for the config systemd runs",
                         "run without --config/BAMON_CONFIG")
    return versions.Store(ctx.paths.versions_dir, ctx.paths.config_file.parent, ctx.paths.config_file.name)


def _version(ctx: Context, action: str, check: str | None, actor: Actor, detail: str = "") -> bool:
    """Keep the files as they are now as a version; a failure to do so is said, never fatal."""
    if not ctx.live:
        return False
    try:
        return store(ctx).record(action, check, actor.user or audit.who(), actor.via, detail)
    except BamonError as exc:
        ctx.note(f"this change is not kept as a config version: {exc.message} ({exc.hint})")
        return False


def _catch_up(ctx: Context, actor: Actor = HAND_EDIT) -> bool:
    """Edits made by hand since the last version become a version of their own (the first
    version, when there is none yet), so the next change's version holds only that change."""
    if not ctx.live:
        return False
    try:
        kept = store(ctx)
        if not kept.pending():
            return False
    except BamonError as exc:
        ctx.note(f"config versions are not kept: {exc.message} ({exc.hint})")
        return False
    first = not kept.exists()
    return _version(ctx, "initial" if first else "hand-edit", None, actor)


def edits_pending(ctx: Context, unknown: bool = False) -> bool:
    """Do the files differ from the last version kept? `unknown` when versions cannot be kept:
    nothing tells then (reloading answers True: the safe side; going round again, False)."""
    try:
        return store(ctx).pending()
    except BamonError:
        return unknown


@contextmanager
def _changing(ctx: Context) -> Iterator[None]:
    """Hold the config lock for a change, with hand edits made before it already versioned."""
    with locked(ctx.paths):
        _catch_up(ctx)
        yield


def _stop_vanished(ctx: Context) -> list[str]:
    """Stop the timers (and runs) of checks that a reload removed or disabled.

    systemd keeps an active unit whose file is gone (LoadState=not-found) running after a
    daemon-reload: a removed check's timer would go on firing. bamon's own hand-written units
    are loaded from their files and never match.
    """
    states = ctx.systemd.list_units(f"{naming.PREFIX}*.timer", f"{naming.PREFIX}*.service")
    gone = sorted(u for u, s in states.items() if s.load == "not-found" and s.active != "inactive")
    if gone:
        ctx.systemd.stop(*gone)
        ctx.systemd.reset_failed(*gone)
    return gone


def check_calendar(ctx: Context, schedule: object) -> None:
    """systemd's own verdict on an OnCalendar/cron schedule (only systemd knows its grammar)."""
    if not isinstance(schedule, str):
        return  # the schema check reports the wrong type with its own wording
    try:
        expression = check_schedule(schedule)
    except ValueError as exc:
        raise BamonError(f"schedule {schedule!r}: {exc}", "see man systemd.time for OnCalendar syntax") from None
    problems = ctx.systemd.calendar_errors([expression])
    if problems:
        raise BamonError(f"schedule {schedule!r}: {next(iter(problems.values()))}",
                         'use an OnCalendar expression such as "Mon..Fri *-*-* 02:00" or cron "*/5 * * * *"')


def _typed_params(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Template parameters given as text (CLI, forms) written as their type's value."""
    if not isinstance(data.get("template"), str) or not isinstance(data.get("params"), dict):
        return data
    from bamon.templates.catalog import for_config, typed

    template = for_config(ctx.paths.config_file).find(data["template"])
    return {**data, "params": typed(template, data["params"])} if template else data


def add(ctx: Context, data: dict[str, Any], actor: Actor = CLI) -> Change:
    """A new check in scripts.d/NAME.yaml, live at once."""
    if "schedule" in data:
        check_calendar(ctx, data["schedule"])
    data = _typed_params(ctx, data)
    name = str(data.get(NAME_KEY, ""))
    with _changing(ctx):
        existing = ctx.config(fresh=True).script(name)
        if existing is not None:
            raise BamonError(f"a script named {name!r} already exists",
                             f"it is defined in {existing.source}; remove it first or pick another name",
                             code="conflict")
        path, text = add_script(ctx.paths, data)
        change = _audit(ctx, Change("add", name, after=text, path=str(path)), actor)
        ctx.config(fresh=True)  # with the new check (loaded once: reload_added and the caller use it)
        ctx.reload_added(name)
    return change


def update(ctx: Context, name: str, data: dict[str, Any], actor: Actor = CLI) -> Change:
    """Replace the settings of an existing check (its name stays; comments elsewhere too).

    The new entry is validated on its own first, exactly as `bamon add` validates one, so an
    invalid replacement never reaches the file.
    """
    if data.get(NAME_KEY, name) != name:
        raise BamonError(f"the name of {name!r} cannot be changed",
                         "add a check with the new name, then remove this one", code="conflict")
    data = {NAME_KEY: name, **{k: v for k, v in data.items() if k != NAME_KEY}}
    if "schedule" in data:
        check_calendar(ctx, data["schedule"])
    with _changing(ctx):
        script = ctx.script_fresh(name)
        problems = [i for i in entry_issues(entry(data, script.source, ctx.paths.config_file)) if i.fatal]
        if problems:
            first = problems[0]
            raise BamonError(f"{first.path or 'script'}: {first.message}"
                             + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), first.hint)

        def replace(entry: Any) -> bool:
            for key in [k for k in entry if k not in data]:
                del entry[key]
            for key, value in data.items():
                if entry.get(key) != value:
                    entry[key] = value
            return True

        if data.get("enabled", True) is False and ctx.live:
            ctx.systemd.stop(script.timer)
        before, after = edit_script(script.source, name, ctx.config().main_file, replace)
        change = _audit(ctx, Change("update", name, before, after, str(script.source)), actor)
        ctx.reload()
    return change


def remove(ctx: Context, name: str, actor: Actor = CLI,
           confirm: Callable[[str], bool] = lambda source: True) -> Change | None:
    """Stop the check, delete its entry, its units and its state. None when `confirm` says no."""
    with _changing(ctx):
        script = ctx.script_fresh(name)
        if not confirm(str(script.source)):
            return None
        if ctx.live:
            ctx.systemd.stop(script.timer, script.unit)
        before, _ = edit_script(script.source, script.name, ctx.config().main_file, lambda entry: False)
        change = _audit(ctx, Change("remove", script.name, before=before, path=str(script.source)), actor)
        ctx.reload()
        if ctx.live:  # the units and state of this name belong to the config systemd runs
            ctx.systemd.reset_failed(script.unit)
            for base in ctx.paths.check_state_dirs:
                shutil.rmtree(base / script.name, ignore_errors=True)
            escalation.forget(ctx.systemd, script.name, ctx.paths.alert_state_dir)  # its alert state too
    return change


def set_enabled(ctx: Context, name: str, enabled: bool, actor: Actor = CLI) -> Change | None:
    """Give a check its timer again, or take it away. None when it already was so."""
    verb = "enable" if enabled else "disable"
    with _changing(ctx):
        script = ctx.script_fresh(name)
        if script.enabled == enabled:
            return None

        def change(entry: Any) -> bool:
            if enabled and "enabled" in entry:
                del entry["enabled"]  # true is the default: keep the entry minimal
            else:
                entry["enabled"] = enabled
            return True

        if not enabled and ctx.live:
            ctx.systemd.stop(script.timer)
        before, after = edit_script(script.source, script.name, ctx.config().main_file, change)
        result = _audit(ctx, Change(verb, script.name, before, after, str(script.source)), actor)
        ctx.reload()
    return result


def execute(ctx: Context, name: str, actor: Actor = CLI) -> Change:
    """Start one run of the check now, without waiting for it (the API's "Run now")."""
    script = ctx.script(name)
    if not ctx.live:
        raise BamonError("this config is not the one systemd runs", "run its checks with `bamon now --local`")
    result = ctx.systemd.start(script.unit, wait=False)
    if result.returncode != 0:
        raise BamonError(f"cannot start {script.unit}: {(result.stderr or '').strip()}",
                         f"see `systemctl status {script.unit}`")
    return _audit(ctx, Change("execute", name), actor)


def replace_config(ctx: Context, text: str, original: str, actor: Actor = CLI) -> Change:
    """config.yaml replaced by `text`, which the caller validated (`bamon config edit`)."""
    target = ctx.paths.config_file
    with _changing(ctx):
        atomic_write(target, text)
        change = _audit(ctx, Change("config-edit", None, original, text, str(target)), actor)
        ctx.reload()
    return change


def reset_config(ctx: Context, actor: Actor = CLI) -> tuple[Change, str | None]:
    """The commented default config; returns the change and where the old one was kept."""
    target = ctx.paths.config_file
    with _changing(ctx):
        before = target.read_text(encoding="utf-8") if target.exists() else ""
        backup = None
        if before:
            # the original BAMON's name for it: config.yaml.backup.<timestamp>
            backup = str(target.with_name(f"{target.name}.backup.{datetime.now().strftime('%Y%m%d_%H%M%S')}"))
            atomic_write(Path(backup), before)
        atomic_write(target, render())
        change = _audit(ctx, Change("config-reset", None, before, render(), str(target)), actor)
        ctx.reload()
    return change, backup


def add_silence(ctx: Context, check: str, tag: str, seconds: int, reason: str, actor: Actor = CLI) -> Any:
    """Keep alerts about a check (or every check with `tag`) quiet for `seconds`; audited."""
    from bamon.config.timespec import format_span
    from bamon.notify import silences

    if seconds <= 0:
        raise BamonError("a silence must last longer than 0 s", 'use a span such as "2h" or "30min"')
    if check:
        ctx.script(check)  # a clear error (with a suggestion) for a check that does not exist
    silence = silences.add(ctx.paths.silences_file, check=check, tag=tag, seconds=seconds, reason=reason,
                           by=actor.user or audit.who())
    audit.record(ctx.journal, "silence", silence.target, after=f"{silence.id} for {format_span(seconds)} {reason}",
                 actor=actor.user, via=actor.via)
    return silence


def remove_silence(ctx: Context, silence_id: str, actor: Actor = CLI) -> None:
    from bamon.notify import silences

    if not silences.remove(ctx.paths.silences_file, silence_id):
        raise BamonError(f"no silence with id {silence_id!r}", "see `bamon silence list`", code="not_found")
    audit.record(ctx.journal, "unsilence", silence_id, actor=actor.user, via=actor.via)



def _check_version(ctx: Context, number: int, files: dict[str, bytes]) -> None:
    """Refuse a version that the current bamon would not run as it was (schema changes, a
    template that is gone): loaded from a scratch copy exactly as the live files would be."""
    directory = ctx.paths.config_file.parent
    with tempfile.TemporaryDirectory(prefix="bamon-version-") as scratch:
        for name, data in files.items():
            (Path(scratch) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(scratch) / name).write_bytes(data)
        config_file = Path(scratch) / ctx.paths.config_file.name
        errors = load(config_file, config_file.parent / "scripts.d").errors
        if errors:
            first = str(errors[0]).replace(scratch, str(directory))
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise BamonError(f"version {number} does not validate against the current schema: {first}{more}",
                             "nothing was changed; pick another version (bamon config history), "
                             "or change the config by hand")


def rollback(ctx: Context, spec: str, actor: Actor = CLI) -> tuple[Change, versions.Version]:
    """The config files exactly as in version `spec`, validated first, kept as a new version, live at once."""
    kept = store(ctx)
    with _changing(ctx):
        target = kept.resolve(spec)
        files = kept.files_at(target)
        _check_version(ctx, target.number, files)
        directory = ctx.paths.config_file.parent
        for name in kept.tracked_now():
            if name not in files:
                (directory / name).unlink()
        for name, data in files.items():
            atomic_write(directory / name, data)
        after = files.get(ctx.paths.config_file.name, b"").decode("utf-8", errors="replace")
        change = _audit(ctx, Change("config-rollback", None, after=after, path=str(directory)), actor,
                        detail=f"to version {target.number}")
        ctx.reload()
        _stop_vanished(ctx)
    return change, target


@dataclass(frozen=True)
class Applied:
    """What `reload_files` did: the version it kept (if the files changed), timers it stopped."""

    versioned: bool
    stopped: tuple[str, ...]


def reload_files(ctx: Context, actor: Actor = HAND_EDIT, strict: bool = True) -> Applied:
    """Hand edits made live: validated, kept as a version, units regenerated, new timers started,
    those of removed or disabled checks stopped.

    `strict` (the config watch, `bamon config reload`): files with any problem are refused as a
    whole, before systemd sees them: every check keeps running as it was, and the problems are
    reported (BamonError here; the caller shows them as bamon.config-error.service does).
    Without it (`bamon apply`), what is valid is applied and invalid entries are skipped, as at boot.
    """
    with locked(ctx.paths):
        if strict and ctx.live and not edits_pending(ctx, unknown=True):
            # The files are the last version kept, live already (bamon's own writes wake the
            # watch too). A refused edit undone by hand gets here as well, its report still on
            # show: clear it — unless the files have problems of their own (`bamon apply` keeps
            # a version of what it found, broken entries included, and reports them the same way).
            if not ctx.config(fresh=True).errors:
                ctx.systemd.reset_failed(naming.CONFIG_ERROR)
            return Applied(False, ())
        config = ctx.config(fresh=True)
        if strict and config.errors:
            if ctx.live:  # the same unit the generator makes for a broken config, without a reload
                problems = [f"{i}" + (f" (hint: {i.hint})" if i.hint else "") for i in config.errors]
                ctx.systemd.run_failing(naming.CONFIG_ERROR, "bamon configuration problems: the edit was not "
                                        "applied (run: bamon config validate)",
                                        ["/bin/sh", "-c", PRINT_AND_FAIL, "bamon", *problems])
            raise ConfigRejected(list(config.errors))
        if ctx.live:
            ctx.systemd.reset_failed(naming.CONFIG_ERROR)  # a rejected edit's report, now fixed
        versioned = _catch_up(ctx, actor)
        ctx.reload()
        stopped = _stop_vanished(ctx) if ctx.live else []
    return Applied(versioned, tuple(stopped))


class ConfigRejected(BamonError):
    """The files have problems: nothing was applied."""

    def __init__(self, issues: list[Any]) -> None:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{issues[0]}{more}: the edit was not applied, every check runs as before",
                         issues[0].hint or "run `bamon config validate`")
        self.issues = issues
