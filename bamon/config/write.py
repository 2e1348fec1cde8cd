"""Changing the config safely: locked, validated before anything is written, atomic.

Scripts added by the CLI get their own file in scripts.d/ (so hand-written files keep their
comments); edits to entries that live in config.yaml go through ruamel.yaml's round-trip mode,
which keeps comments and layout. Every write takes the same lock, so two concurrent
`bamon add` both land.
"""

from __future__ import annotations

import fcntl
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bamon.config.issues import ConfigIssue
from bamon.config.load import RawConfig, RawScript, load_raw
from bamon.config.validate import validate
from bamon.errors import BamonError
from bamon.paths import Paths


@contextmanager
def locked(paths: Paths) -> Iterator[None]:
    """Hold the config lock (flock, released when the process dies, so never stale)."""
    try:
        paths.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(paths.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        raise BamonError(f"cannot write {paths.config_file.parent}: permission denied",
                         "run as root (sudo bamon …), or use --user for your own checks") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _roundtrip() -> Any:
    from ruamel.yaml import YAML  # imported late: only edits of existing files need it

    handler = YAML()
    handler.preserve_quotes = True
    handler.width = 4096
    return handler


def new_problems(paths: Paths, change: Callable[[RawConfig], None]) -> list[ConfigIssue]:
    """Fatal issues that `change` (applied to the config in memory) would introduce."""
    raw = load_raw(paths.config_file, paths.scripts_dir)
    before = {str(i) for i in validate(raw)[0] if i.fatal}
    change(raw)
    return [i for i in validate(raw)[0] if i.fatal and str(i) not in before]


def add_script(paths: Paths, data: dict[str, Any]) -> tuple[Path, str]:
    """Validate and write a new script to scripts.d/NAME.yaml; returns (file, text)."""
    target = paths.scripts_dir / f"{data['name']}.yaml"
    problems = new_problems(paths, lambda raw: raw.scripts.append(RawScript(data, target, ())))
    if problems:
        first = problems[0]
        raise BamonError(f"{first.path or 'script'}: {first.message}"
                         + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                         first.hint)
    text = dump(data)
    atomic_write(target, text)
    return target, text


def edit_script(source: Path, name: str, main_file: Path,
                mutate: Callable[[Any], bool]) -> tuple[str, str]:
    """Apply `mutate` to the entry `name` in `source`; returns (before, after) text of it.

    `mutate(entry)` changes the mapping in place and returns True, or returns False to delete
    the entry. A scripts.d file whose entry is deleted is removed.
    """
    handler = _roundtrip()
    text = source.read_text(encoding="utf-8")
    doc = handler.load(text)
    if source != main_file:
        before = dump(_plain(doc))
        if not mutate(doc):
            source.unlink()
            return before, ""
        entry = doc
    else:
        items = doc.get("scripts") or []
        index = next(i for i, item in enumerate(items) if isinstance(item, dict) and item.get("name") == name)
        entry = items[index]
        before = dump(_plain(entry))
        if not mutate(entry):
            del items[index]
            entry = None
    out = io.StringIO()
    handler.dump(doc, out)
    atomic_write(source, out.getvalue())
    return before, dump(_plain(entry)) if entry is not None else ""
