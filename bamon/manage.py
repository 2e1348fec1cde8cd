"""The service layer: every change to the checks goes lock → validate → write → audit → reload.

The CLI commands and the web API both call these functions, so no path can write the config
without the lock, validation, an audit record and a reload. Each function raises BamonError
(with the CLI's own wording and hint) before anything is written when the change is invalid.

`actor` names who asked for the change when it is not the process's own user (a web login);
`via` tells the audit trail which surface it came through.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bamon import audit
from bamon.atomic import atomic_write
from bamon.config.defaults import render
from bamon.config.load import entry
from bamon.config.timespec import check_schedule
from bamon.config.validate import entry_issues
from bamon.config.write import add_script, edit_script, locked
from bamon.context import Context
from bamon.errors import BamonError
from bamon.notify import escalation

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


def _audit(ctx: Context, change: Change, actor: Actor) -> Change:
    audit.record(ctx.journal, change.action, change.name, before=change.before, after=change.after,
                 actor=actor.user, via=actor.via)
    return change


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
    with locked(ctx.paths):
        existing = ctx.config(fresh=True).script(name)
        if existing is not None:
            raise BamonError(f"a script named {name!r} already exists",
                             f"it is defined in {existing.source}; remove it first or pick another name",
                             code="conflict")
        path, text = add_script(ctx.paths, data)
        change = _audit(ctx, Change("add", name, after=text, path=str(path)), actor)
        ctx.reload()
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
    with locked(ctx.paths):
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
    with locked(ctx.paths):
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
    with locked(ctx.paths):
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
    with locked(ctx.paths):
        atomic_write(target, text)
        change = _audit(ctx, Change("config-edit", None, original, text, str(target)), actor)
        ctx.reload()
    return change


def reset_config(ctx: Context, actor: Actor = CLI) -> tuple[Change, str | None]:
    """The commented default config; returns the change and where the old one was kept."""
    target = ctx.paths.config_file
    with locked(ctx.paths):
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

