"""Reading config files: YAML text → plain data, with the file each script came from.

Line numbers are only worked out when something is wrong (`line_of`): composing the YAML node
tree costs time the generator does not have on the happy path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bamon.config.issues import ConfigIssue
from bamon.paths import check_templates_dir

try:  # libyaml is several times faster; Debian's python3-yaml has it
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader


@dataclass
class RawScript:
    """One script entry before validation, and where it was written."""

    data: Any
    file: Path
    path: tuple[str | int, ...]  # key path inside `file`: ("scripts", 3) or () for scripts.d
    # A script made from a template: `data` is the expanded entry (command included), or, when
    # the template cannot be applied, as written with the reasons here (bamon/templates/).
    problems: list[ConfigIssue] = field(default_factory=list)


@dataclass
class RawConfig:
    """Everything read from disk, not yet validated."""

    main: dict[str, Any]
    main_file: Path
    scripts: list[RawScript] = field(default_factory=list)
    issues: list[ConfigIssue] = field(default_factory=list)


def read_yaml(path: Path) -> tuple[Any, ConfigIssue | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ConfigIssue(str(path), None, "", "file not found",
                                 "create it with `bamon config reset`, or pass --config PATH")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid UTF-8"
        return None, ConfigIssue(str(path), None, "", f"cannot read: {reason}",
                                 "check the file's permissions and encoding")
    try:
        return yaml.load(text, Loader=_Loader), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, ConfigIssue(str(path), line, "", f"YAML syntax error: {problem}",
                                 "fix the indentation or quoting near that line")


def script_files(scripts_dir: Path) -> list[Path]:
    """scripts.d/*.yaml in a stable order (hidden and editor backup files ignored)."""
    if not scripts_dir.is_dir():
        return []
    return sorted(p for p in scripts_dir.glob("*.yaml") if not p.name.startswith("."))


def load_raw(config_file: Path, scripts_dir: Path | None, instead: Mapping[Path, Path] | None = None) -> RawConfig:
    """Read config.yaml and scripts.d/*.yaml; unreadable files become issues, not exceptions.

    `instead` ({file: candidate}) reads the config as it would be with each candidate in place
    of its file, new or replacing one (`bamon config validate --candidate`).
    """
    instead = instead or {}
    data, issue = read_yaml(instead.get(config_file, config_file))
    raw = RawConfig(main={}, main_file=config_file)
    if issue:
        raw.issues.append(issue)
    elif data is None:
        pass  # an empty file is a valid, empty config
    elif not isinstance(data, dict):
        raw.issues.append(ConfigIssue(str(config_file), 1, "", "the top level must be a mapping",
                                      "start with keys such as `scripts:` and `daemon:`"))
    else:
        raw.main = data
        scripts = data.get("scripts")
        if isinstance(scripts, list):
            raw.scripts = [RawScript(item, config_file, ("scripts", i)) for i, item in enumerate(scripts)]
    files = script_files(scripts_dir) if scripts_dir else []
    files += sorted(f for f in instead if f.parent == scripts_dir and f.suffix == ".yaml" and f not in files)
    for path in (instead.get(f, f) for f in files):
        data, issue = read_yaml(path)
        if issue:
            raw.issues.append(issue)
        else:
            raw.scripts.append(RawScript(data, path, ()))
    templates_dir = check_templates_dir(config_file)
    if (any(_uses_template(s) for s in raw.scripts) or "templates" in raw.main
            or script_files(templates_dir)):  # a config without templates never loads the library
        raw.issues += _expand(raw.scripts, raw.main, config_file, templates_dir)
    return raw


def _uses_template(script: RawScript) -> bool:
    return isinstance(script.data, dict) and "template" in script.data


def _expand(scripts: list[RawScript], main: dict[str, Any], config_file: Path,
            templates_dir: Path) -> list[ConfigIssue]:
    """Give every template script its command; returns the problems of the templates themselves."""
    from bamon.templates.catalog import build, expand_script

    catalog = build(main, config_file, templates_dir)
    for script in scripts:
        if _uses_template(script):
            script.data, script.problems = expand_script(script.data, script.file, script.path, catalog)
    return catalog.issues


def entry(data: Any, file: Path, config_file: Path) -> RawScript:
    """One new or replaced entry, ready for validation (its template expanded, if it has one)."""
    script = RawScript(data, file, ())
    if _uses_template(script):
        main, _ = read_yaml(config_file)  # for its templates: section
        _expand([script], main if isinstance(main, dict) else {}, config_file, check_templates_dir(config_file))
    return script


def line_of(file: Path, path: tuple[str | int, ...], key: bool = False) -> int | None:
    """The 1-based line of the value at `path` in `file` (of its key when `key`), best effort."""
    try:
        node = yaml.compose(file.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line = (match[0] if key and part == path[-1] else match[1]).start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
