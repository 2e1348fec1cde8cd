"""Changing the config safely: locked, validated before anything is written, atomic.

Scripts added by the CLI get their own file in scripts.d/ (so hand-written files keep their
comments); edits to entries that live in config.yaml go through ruamel.yaml's round-trip mode,
which keeps comments and layout. Every write takes the same lock, so two concurrent
`bamon add` both land.
"""

from __future__ import annotations

import copy
import fcntl
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bamon.atomic import atomic_write
from bamon.config.load import entry
from bamon.config.validate import entry_issues
from bamon.errors import BamonError
from bamon.paths import Paths


@contextmanager
def locked(paths: Paths) -> Iterator[None]:
    """Hold the config lock (flock, released when the process dies, so never stale)."""
    try:
        paths.lock_file.parent.mkdir(parents=True, exist_ok=True)
        # read-only: flock needs no more, and closing it tells inotify nothing, so taking the
        # lock does not wake bamon.config-watch.path (which watches this directory)
        fd = os.open(paths.lock_file, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        raise BamonError(f"cannot write {paths.config_file.parent}: permission denied",
                         "run as root (sudo bamon …), or use --user for your own checks") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # multi-line commands stay readable
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts/lists (for dumping a copy)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)


def _roundtrip(text: str) -> tuple[Any, Any]:
    """A ruamel round-trip handler that writes `text`'s layout back, and `text` loaded with it."""
    from ruamel.yaml import YAML  # imported late: only edits of existing files need it

    handler = YAML()
    handler.preserve_quotes = True
    handler.width = 4096
    doc = handler.load(text)
    handler.indent(**_indentation(doc))
    return handler, doc


def _indentation(doc: Any) -> dict[str, int]:
    """The indentation `doc` is written with, as keyword arguments of ruamel's YAML.indent().

    ruamel writes its own defaults otherwise: `  - name:` lists move to column 0 and a one-line
    edit rewrites the whole file. The first nested block mapping and block sequence (top down)
    set the style, read off the positions the parser recorded: no second parse, which costs
    about half a second for a config of 1,000 scripts.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    found: dict[str, int] = {}
    queue = [doc]
    while queue and len(found) < 3:
        node = queue.pop(0)
        if isinstance(node, CommentedSeq):
            queue.extend(node)
        if not isinstance(node, CommentedMap):
            continue
        for key, value in node.items():
            if not isinstance(value, (CommentedMap, CommentedSeq)) or not value or value.fa.flow_style():
                continue
            column = node.lc.key(key)[1]
            if isinstance(value, CommentedMap):
                found.setdefault("mapping", value.lc.col - column)  # the first key's column
            else:
                found.setdefault("offset", value.lc.col - column)  # the dash's column
                found.setdefault("sequence", value.lc.item(0)[1] - column)  # the item's column
            queue.append(value)
    return found


def add_script(paths: Paths, data: dict[str, Any]) -> tuple[Path, str]:
    """Validate and write a new script to scripts.d/NAME.yaml; returns (file, text).

    Only the new entry is validated: the caller holds the lock and has checked, against the
    loaded config, that the name is free (re-validating 1,000 entries would cost the `bamon
    add` budget for nothing).
    """
    target = paths.scripts_dir / f"{data['name']}.yaml"
    if target.exists():
        raise BamonError(f"{target} already exists", "remove that file, or pick another name", code="conflict")
    problems = [i for i in entry_issues(entry(data, target, paths.config_file)) if i.fatal]
    if problems:
        first = problems[0]
        raise BamonError(f"{first.path or 'script'}: {first.message}"
                         + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                         first.hint)
    text = dump(data)
    atomic_write(target, text)
    return target, text


def _end_comment(entry: Any) -> tuple[Any, Any]:
    """The entry's last key and the comment after its value (ruamel's ca.items[key][2])."""
    last = next(reversed(entry), None)
    comments = entry.ca.items.get(last) if last is not None else None
    return last, comments[2] if comments and len(comments) > 2 else None


def _keep_end_gap(entry: Any, last_before: Any, token: Any) -> None:
    """Blank lines and comments that ended the entry stay at its end when its last key changes.

    ruamel keeps them as the comment after the last value: a key appended by an edit would land
    after them (after the blank line separating this entry from the next), and deleting the
    last key would delete them. The part after the old last value's own line moves to the new
    last key; an inline comment stays where it is.
    """
    last = next(reversed(entry), None)
    if last is None or last == last_before or token is None:
        return
    own_line, _, rest = token.value.partition("\n")
    if not rest:
        return
    if last_before in entry:
        token.value = own_line + "\n"
    _, current = _end_comment(entry)
    if current is not None:  # the new last value's own inline comment
        current.value = current.value.rstrip("\n") + "\n" + rest
    else:
        moved = copy.copy(token)
        moved.value = "\n" + rest
        entry.ca.items.setdefault(last, [None, None, None, None])[2] = moved


def edit_script(source: Path, name: str, main_file: Path,
                mutate: Callable[[Any], bool]) -> tuple[str, str]:
    """Apply `mutate` to the entry `name` in `source`; returns (before, after) text of it.

    `mutate(entry)` changes the mapping in place and returns True, or returns False to delete
    the entry. A scripts.d file whose entry is deleted is removed.
    """
    handler, doc = _roundtrip(source.read_text(encoding="utf-8"))
    in_main = source == main_file
    if in_main:
        items = doc.get("scripts") or []
        index = next(i for i, item in enumerate(items) if isinstance(item, dict) and item.get("name") == name)
    else:  # a scripts.d file is the entry
        items, index = [doc], 0
    entry = items[index]
    before, (last, end_comment) = dump(_plain(entry)), _end_comment(entry)
    if not mutate(entry):
        if not in_main:
            source.unlink()
            return before, ""
        del items[index]
        entry = None
    else:
        _keep_end_gap(entry, last, end_comment)
    out = io.StringIO()
    handler.dump(doc, out)
    atomic_write(source, out.getvalue())
    return before, dump(_plain(entry)) if entry is not None else ""
