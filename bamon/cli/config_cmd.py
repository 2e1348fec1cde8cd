"""bamon config show | validate | edit | reset (history | diff | rollback | reload: config_versions.py)."""

from __future__ import annotations

import argparse
import io
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bamon import manage
from bamon.cli import config_versions
from bamon.cli.context import Context
from bamon.cli.output import note, print_json
from bamon.config.defaults import render
from bamon.config.issues import ConfigIssue
from bamon.config.load import load_raw
from bamon.config.model import Config, build, load
from bamon.config.write import dump
from bamon.errors import BamonError
from bamon.history.retention import retention_notes
from bamon.units import hardening


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="show, check or change the configuration")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = verbs.add_parser("show", help="the config files as written (comments kept)")
    show.add_argument("-p", "--pretty", action="store_true", help="re-indented evenly, comments kept")
    show.add_argument("--effective", action="store_true", help="the merged config bamon runs, defaults filled in")
    show.add_argument("--json", action="store_true", help="the effective config as JSON")
    show.set_defaults(run=run_show)
    check = verbs.add_parser("validate", help="report every problem; exit 1 if there is one")
    check.add_argument("-v", "--verbose", action="store_true", help="also list the files read and the scripts")
    check.add_argument("--json", action="store_true")
    check.add_argument("--run-as", action="store_true", help="also list the user every check runs as")
    check.add_argument("--candidate", metavar="FILE", type=Path,
                       help="validate as if FILE were in place of --target (Ansible's validate:, before a write)")
    check.add_argument("--target", metavar="PATH", type=Path,
                       help="the file --candidate would become: config.yaml (default) or scripts.d/NAME.yaml")
    check.set_defaults(run=run_validate)
    edit = verbs.add_parser("edit", help="edit config.yaml; saved only if valid")
    edit.add_argument("-e", "--editor", help="the editor to use (default: $VISUAL, $EDITOR, sensible-editor, vi)")
    edit.set_defaults(run=run_edit)
    reset = verbs.add_parser("reset", help="write the commented default config (keeps a backup)")
    reset.add_argument("-f", "--force", "-y", "--yes", dest="yes", action="store_true", help="do not ask")
    reset.set_defaults(run=run_reset)
    config_versions.register(verbs)


def effective(config: Config) -> dict[str, Any]:
    return {
        "daemon": vars(config.daemon).copy(),
        "sandbox": vars(config.sandbox).copy(),
        "scripts": [s.settings() for s in config.scripts],
        # settings as written: a ${secret:NAME} stays a reference (only senders resolve it)
        "channels": [{"name": c.name, "type": c.type, **c.settings} for c in config.channels],
    }


def config_files(ctx: Context) -> list[Path]:
    """config.yaml, then scripts.d/*.yaml in the order bamon reads them."""
    files = [ctx.paths.config_file] if ctx.paths.config_file.exists() else []
    if ctx.paths.scripts_dir.is_dir():
        files += sorted(ctx.paths.scripts_dir.glob("*.yaml"))
    return files


def _pretty(text: str) -> str:
    """`text` re-indented evenly (2 spaces, list dashes indented), comments kept."""
    from ruamel.yaml import YAML  # only --pretty needs it
    from ruamel.yaml.error import YAMLError

    handler = YAML()
    handler.preserve_quotes = True
    handler.width = 4096
    handler.indent(mapping=2, sequence=4, offset=2)
    try:
        doc = handler.load(text)
    except YAMLError:
        return text  # not YAML: shown as written, `bamon config validate` says what is wrong
    _block_style(doc)
    out = io.StringIO()
    handler.dump(doc, out)
    return out.getvalue()


def _block_style(node: Any) -> None:
    """{a: 1} and [x, y] written out as block mappings and lists, as yq -P prints them."""
    if hasattr(node, "fa"):
        node.fa.set_block_style()
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        _block_style(child)


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    if args.json or args.effective:
        data = effective(ctx.config())
        if args.json:
            print_json(data)
        else:
            sys.stdout.write(dump(data))
        return 0
    files = config_files(ctx)
    if not files:
        raise BamonError(f"no configuration at {ctx.paths.config_file}", "create one with `bamon config reset`")
    for index, path in enumerate(files):
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(files) > 1:  # which file each part is in; a comment, so the output stays YAML
            sys.stdout.write(("\n" if index else "") + f"# ==> {path} <==\n")
        sys.stdout.write(_pretty(text) if args.pretty else text)
    return 0


def _calendar_issues(ctx: Context, config: Config) -> list[ConfigIssue]:
    """OnCalendar expressions systemd itself rejects (only systemd knows its grammar fully)."""
    scheduled = [s for s in config.scripts if s.schedule]
    if not scheduled:
        return []
    try:
        bad = ctx.systemd.calendar_errors([s.schedule for s in scheduled if s.schedule])
    except BamonError:
        return []  # no systemd-analyze here: the syntax check already ran
    return [ConfigIssue(str(s.source), None, f"{s.name}.schedule", f"{s.schedule!r}: {bad[s.schedule]}",
                        "see man systemd.time, section CALENDAR EVENTS") for s in scheduled if s.schedule in bad]


def _retention_issues(ctx: Context, config: Config) -> list[ConfigIssue]:
    """Notes where journald would keep less history than daemon.history_retention_days."""
    if ctx.user_mode or not ctx.live:
        return []  # journald's settings are the system's; only the live system config is affected
    return [ConfigIssue(str(config.main_file), None, "daemon.history_retention_days", text,
                        "set MaxRetentionSec=/Storage=persistent in /etc/systemd/journald.conf.d/ "
                        "(man journald.conf), or lower history_retention_days", fatal=False)
            for text in retention_notes(config.daemon.history_retention_days)]


def report(issues: list[ConfigIssue]) -> None:
    for issue in issues:
        label = "error" if issue.fatal else "note"
        sys.stderr.write(f"{issue}\n" if label == "error" else f"{issue} ({label})\n")
        if issue.hint:
            sys.stderr.write(f"  hint: {issue.hint}\n")


_NOT_ROOT = "if it does not need root: drop user: root, or use sandbox balanced (which runs it as bamon)"


def _root_notes(config: Config, user_mode: bool) -> list[ConfigIssue]:
    """A note per check that runs as root: it is allowed, but the operator should know the price."""
    notes = []
    for script in config.scripts:
        why = hardening.why_root(script, user_mode)
        if why:
            notes.append(ConfigIssue(str(script.source), None, f"{script.name}.user", why, _NOT_ROOT, fatal=False))
    return notes


def _print_run_as(config: Config, user_mode: bool) -> None:
    by_user: dict[str, list[str]] = {}
    for script in config.scripts:
        user = hardening.run_as(script, user_mode) or ("root" if not user_mode else "(your user)")
        by_user.setdefault(user, []).append(f"{script.name} ({script.limits.profile})")
    for user, names in sorted(by_user.items()):
        print(f"runs as {user}: {', '.join(names)}")


def _candidate_config(args: argparse.Namespace, ctx: Context) -> Config:
    """The config as it would be with --candidate in place of --target."""
    target = (args.target or ctx.paths.config_file).absolute()
    if target != ctx.paths.config_file.absolute() and \
            (target.parent != ctx.paths.scripts_dir.absolute() or target.suffix != ".yaml"):
        raise BamonError(f"--target {target} is neither {ctx.paths.config_file} nor a {ctx.paths.scripts_dir}/*.yaml",
                         "name the file the candidate is meant to replace or become")
    if not args.candidate.is_file():
        raise BamonError(f"--candidate {args.candidate}: no such file", "name the file to validate")
    main, scripts = ctx.paths.config_file.absolute(), ctx.paths.scripts_dir.absolute()
    return build(load_raw(main, scripts, {target: args.candidate}))


def run_validate(args: argparse.Namespace, ctx: Context) -> int:
    if args.target and not args.candidate:
        raise BamonError("--target needs --candidate FILE", "for example: --candidate new.yaml --target "
                         f"{ctx.paths.scripts_dir}/web.yaml")
    config = _candidate_config(args, ctx) if args.candidate else ctx.config()
    issues = (list(config.issues) + _calendar_issues(ctx, config) + _root_notes(config, ctx.user_mode)
              + _retention_issues(ctx, config))
    errors = [i for i in issues if i.fatal]
    if args.json:
        print_json({"valid": not errors, "scripts": len(config.scripts), "issues": [
            {"file": i.file, "line": i.line, "path": i.path, "message": i.message, "hint": i.hint,
             "severity": "error" if i.fatal else "note"} for i in issues]})
    else:
        report(issues)
        if args.run_as:
            _print_run_as(config, ctx.user_mode)
        files = len(config_files(ctx))
        if args.verbose:
            for path in config_files(ctx):
                print(f"read {path}")
            for s in config.scripts:
                when = s.schedule or f"every {s.interval}s"
                print(f"  {s.name}: {when}, timeout {s.limits.timeout}s, "
                      f"{'enabled' if s.enabled else 'disabled'} ({s.source})")
        if errors:
            print(f"{len(errors)} problem(s) in {ctx.paths.config_file} and scripts.d/; "
                  f"{len(config.scripts)} valid script(s) are still monitored")
        else:
            print(f"config OK: {len(config.scripts)} script(s) in {files} file(s)")
    return 1 if errors else 0


def _editor(chosen: str | None = None) -> list[str]:
    for candidate in (chosen, os.environ.get("VISUAL"), os.environ.get("EDITOR"), "sensible-editor", "vi"):
        if candidate:
            return shlex.split(candidate)
    return ["vi"]  # pragma: no cover


def _edit(editor: str | None, draft: Path) -> int:
    try:
        return subprocess.run([*_editor(editor), str(draft)], check=False).returncode
    except FileNotFoundError:
        raise BamonError(f"editor not found: {_editor(editor)[0]}",
                         "pass --editor with an installed editor, or set $EDITOR") from None


def run_edit(args: argparse.Namespace, ctx: Context) -> int:
    target = ctx.paths.config_file
    original = target.read_text(encoding="utf-8") if target.exists() else render()
    fd, name = tempfile.mkstemp(prefix="config.", suffix=".yaml")
    draft = Path(name)
    try:
        os.write(fd, original.encode())
        os.close(fd)
        while True:
            if _edit(args.editor, draft) != 0:
                raise BamonError("the editor failed; nothing was saved", "set $EDITOR to an editor that works")
            text = draft.read_text(encoding="utf-8")
            if text == original:
                print("no changes")
                return 0
            errors = [i for i in load(draft, ctx.paths.scripts_dir).issues if i.fatal]
            if not errors:
                break
            report([ConfigIssue(str(target), i.line, i.path, i.message, i.hint) if i.file == str(draft) else i
                    for i in errors])
            if not sys.stdin.isatty() or input("Edit again? [Y/n] ").strip().lower() in ("n", "no"):
                raise BamonError(f"{len(errors)} problem(s): {target} was not changed", "run `bamon config edit` again")
        manage.replace_config(ctx, text, original)
        print(f"saved {target}")
        return 0
    finally:
        draft.unlink(missing_ok=True)


def confirmed(question: str) -> bool | None:
    """The answer to a y/N question on stdin (a terminal or a pipe); None when none came."""
    if sys.stdin.isatty():  # a pipe gets no prompt: its answer is already written
        sys.stderr.write(f"{question} [y/N] ")
        sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer:
        return None
    return answer.strip().lower() in ("y", "yes")


def run_reset(args: argparse.Namespace, ctx: Context) -> int:
    target = ctx.paths.config_file
    if not args.yes and target.exists():
        answer = confirmed(f"Replace {target} with the default? A backup is kept.")
        if answer is None:
            raise BamonError(f"not replacing {target} without confirmation", "pass --force")
        if not answer:
            print("nothing changed")
            return 0
    _, backup = manage.reset_config(ctx)
    if backup:
        note(f"previous config saved as {backup}")
    print(f"wrote the default config to {target}")
    return 0
