"""The templates a config can use, and scripts made from them.

Three sources, later ones winning on the same name: the built-in library (library/*.yaml in
the package), the operator's templates.d/*.yaml (one template per file), and the `templates:`
section of config.yaml. Names are matched loosely — case, and `-` vs `_` vs blanks, do not
matter — so `template: http_check` finds the built-in http-check and a template called
"HTTP Health Check" is also http-health-check.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamon.config import schema as schema_mod
from bamon.config.fastcheck import conforms
from bamon.config.issues import ConfigIssue, format_path
from bamon.config.load import line_of, read_yaml, script_files
from bamon.paths import BUILTIN_TEMPLATES
from bamon.templates.expand import Parameter, Template, TemplateError, definition_errors, expand

BUILTIN = "built-in"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass
class Catalog:
    templates: dict[str, Template] = field(default_factory=dict)  # by slug
    broken: dict[str, str] = field(default_factory=dict)  # slug → where its problems are
    issues: list[ConfigIssue] = field(default_factory=list)

    def find(self, name: str) -> Template | None:
        return self.templates.get(slug(name))

    def __iter__(self) -> Any:
        return iter(sorted(self.templates.values(), key=lambda t: slug(t.name)))


def _template(data: dict[str, Any], source: str) -> Template:
    params = tuple(Parameter(p["name"], p.get("type", "string"), bool(p.get("required", False)), p.get("default"),
                             str(p.get("description", ""))) for p in data.get("parameters") or ())
    return Template(str(data["name"]), data["command"], params, str(data.get("description", "")),
                    dict(data.get("defaults") or {}), source)


def _add(catalog: Catalog, data: Any, file: Path, base: tuple[str | int, ...], report_shape: bool) -> None:
    """One definition into the catalog, or its problems into catalog.issues."""
    definition = schema_mod.schema()["$defs"]["template"]
    if not conforms(data, definition, schema_mod.schema()):
        if report_shape:  # config.yaml's section is checked with the rest of the file
            from bamon.config.validate import template_shape_issues  # jsonschema only on errors

            catalog.issues += template_shape_issues(data, str(file), base)
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(name, str):
            catalog.templates.pop(slug(name), None)
            catalog.broken[slug(name)] = str(file)
        return
    template = _template(data, BUILTIN if file.parent == BUILTIN_TEMPLATES else str(file))
    errors = definition_errors(template)
    for error in errors:
        path = base + error.key
        catalog.issues.append(ConfigIssue(str(file), line_of(file, path), format_path(path) or "template",
                                          f"template {template.name!r}: {error.message}", error.hint))
    if errors:
        catalog.templates.pop(slug(template.name), None)
        catalog.broken[slug(template.name)] = str(file)
    else:
        catalog.templates[slug(template.name)] = template
        catalog.broken.pop(slug(template.name), None)


def build(main: dict[str, Any], main_file: Path, templates_dir: Path | None,
          builtin_dir: Path = BUILTIN_TEMPLATES) -> Catalog:
    catalog = Catalog()
    for directory, report in ((builtin_dir, True), (templates_dir, True)):
        for path in script_files(directory) if directory else []:
            data, issue = read_yaml(path)
            if issue:
                catalog.issues.append(issue)
            else:
                _add(catalog, data, path, (), report)
    section = main.get("templates")
    for index, data in enumerate(section if isinstance(section, list) else []):
        _add(catalog, data, main_file, ("templates", index), False)
    return catalog


def _problem(file: Path, path: tuple[str | int, ...], message: str, hint: str) -> ConfigIssue:
    return ConfigIssue(str(file), line_of(file, path), format_path(path) or "script", message, hint)


def expand_script(data: dict[str, Any], file: Path, path: tuple[str | int, ...],
                  catalog: Catalog) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """The script with its command made from its template (and the template's suggested
    settings under its own), or the problems that stop that."""
    name = data.get("template")
    where = path + ("template",)
    if "command" in data:
        return data, [_problem(file, where, "command and template are both set",
                               "keep one: the template makes the command")]
    if not isinstance(name, str):
        return data, [_problem(file, where, f"{name!r} is not a template name",
                               "the name of a template, see `bamon template list`")]
    template = catalog.find(name)
    if template is None:
        if slug(name) in catalog.broken:
            hint = f"fix the template in {catalog.broken[slug(name)]} (bamon config validate shows how)"
            return data, [_problem(file, where, f"template {name!r} has problems", hint)]
        close = difflib.get_close_matches(slug(name), list(catalog.templates), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "see `bamon template list`"
        return data, [_problem(file, where, f"no template named {name!r}", hint)]
    try:
        command = expand(template, data.get("params"))
    except TemplateError as exc:
        return data, [_problem(file, path + exc.key, exc.message, exc.hint)]
    return {**template.defaults, **data, "command": command}, []


def for_config(config_file: Path) -> Catalog:
    """The templates a config can use (built-in, templates.d/ beside it, its templates: section)."""
    from bamon.paths import check_templates_dir

    main, _ = read_yaml(config_file)
    return build(main if isinstance(main, dict) else {}, config_file, check_templates_dir(config_file))


def typed(template: Template, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters given as text (command line, forms) as their type's value, so the file says
    `port: 443`, not `port: '443'`. A value that does not fit stays as given: validation
    then reports it with its key."""
    from bamon.templates.params import KINDS

    result = {}
    for key, value in params.items():
        param = template.parameter(key)
        if param is not None and isinstance(value, str):
            try:
                value = KINDS[param.type].check(value)
            except ValueError:
                pass
        result[key] = value
    return result
