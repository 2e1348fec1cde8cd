"""Templates and their expansion: `{param}` placeholders → shell-quoted values.

A placeholder is `{name}` where name is an identifier; it must be a declared parameter. Text
that merely looks like braces stays as written: curl's `%{http_code}`, the shell's `${var}`,
awk's `{print $5}` (not an identifier), brace expansion `{a,b}`. `{{name}}` is a literal
`{name}` for the rare command that needs one (awk's `{next}`). Values are shell-quoted by their
type (params.py), so a placeholder must stand outside quotes: `curl {url}`, not `curl '{url}'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bamon.templates.params import KINDS

# a literal {{name}}, or a placeholder {name} not preceded by % (curl) or $ (shell)
_BRACES = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|(?<![%$])\{([A-Za-z_][A-Za-z0-9_]*)\}")
_QUOTES = "'\""


class TemplateError(ValueError):
    """A problem with a template or its use: the key it is about, what, and a hint."""

    def __init__(self, key: tuple[str | int, ...], message: str, hint: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    description: str = ""

    def describe(self) -> str:
        kind = KINDS[self.type]
        return f"{self.name}: {kind.what}" + (" (required)" if self.required else
                                               f" (default {self.default!r})" if self.default is not None else "")


@dataclass(frozen=True)
class Template:
    name: str
    command: str
    parameters: tuple[Parameter, ...] = ()
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)  # script settings it suggests (output_format, …)
    source: str = ""  # file it came from; "built-in" for the library

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def placeholders(command: str) -> Iterator[tuple[str, int, int]]:
    """(name, start, end) of every placeholder in `command` (not the {{literal}} ones)."""
    for match in _BRACES.finditer(command):
        if match[2]:
            yield match[2], match.start(), match.end()


def definition_errors(template: Template) -> list[TemplateError]:
    """What is wrong with a template itself: undeclared or quoted placeholders, bad defaults."""
    errors = []
    declared = {p.name for p in template.parameters}
    for name, start, end in placeholders(template.command):
        if name not in declared:
            hint = f"declare {name} under parameters, or write {{{{{name}}}}} for a literal {{{name}}}"
            errors.append(TemplateError(("command",), f"placeholder {{{name}}} is not a declared parameter", hint))
        elif {template.command[start - 1:start], template.command[end:end + 1]} & set(_QUOTES):
            hint = f"values are shell-quoted when substituted: write {{{name}}}, not '{{{name}}}'"
            errors.append(TemplateError(("command",), f"placeholder {{{name}}} is inside quotes", hint))
    for index, param in enumerate(template.parameters):
        if [p.name for p in template.parameters].count(param.name) > 1:
            errors.append(TemplateError(("parameters", index, "name"), f"parameter {param.name!r} is declared twice",
                                        "keep one of them"))
        if not param.required and param.default is None:
            errors.append(TemplateError(("parameters", index), f"parameter {param.name!r} is optional but has no "
                                        "default", "give it a default, or required: true"))
        elif param.default is not None:
            try:
                KINDS[param.type].check(param.default)
            except ValueError:
                errors.append(TemplateError(("parameters", index, "default"),
                                            f"default {param.default!r} is not {KINDS[param.type].what}",
                                            f"give a default such as {KINDS[param.type].example}, or none"))
    return errors


def values(template: Template, params: Any) -> dict[str, Any]:
    """The checked value of every parameter (given, else default); raises TemplateError."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TemplateError(("params",), "params is not a mapping",
                            f"give the parameters as a mapping, e.g. params: {{{_example(template)}}}")
    for key in params:
        if template.parameter(str(key)) is None:
            known = ", ".join(p.name for p in template.parameters) or "none"
            raise TemplateError(("params", key), f"template {template.name!r} has no parameter {key!r}",
                                f"its parameters: {known} (see `bamon template show {template.name}`)")
    result = {}
    for param in template.parameters:
        kind = KINDS[param.type]
        if param.name not in params or params[param.name] is None:
            if param.required or param.default is None:
                raise TemplateError(("params",), f"missing parameter {param.name!r} of template {template.name!r}",
                                    f"add it: params: {{{param.name}: {kind.example}}} ({param.describe()})")
            result[param.name] = kind.check(param.default)
            continue
        try:
            result[param.name] = kind.check(params[param.name])
        except ValueError:
            raise TemplateError(("params", param.name), f"{params[param.name]!r} is not {kind.what} "
                                f"(parameter {param.name} of template {template.name!r})",
                                f"give {kind.what}, e.g. {param.name}: {kind.example}") from None
    return result


def _example(template: Template) -> str:
    required = [p for p in template.parameters if p.required] or list(template.parameters[:1])
    return ", ".join(f"{p.name}: {KINDS[p.type].example}" for p in required)


def expand(template: Template, params: Any) -> str:
    """The command with every placeholder replaced by its quoted value; {{x}} becomes {x}."""
    checked = values(template, params)

    def substitute(match: re.Match[str]) -> str:
        if match[1]:
            return "{" + match[1] + "}"
        return KINDS[_type(template, match[2])].render(checked[match[2]])

    return _BRACES.sub(substitute, template.command)


def _type(template: Template, name: str) -> str:
    param = template.parameter(name)
    if param is None:  # a template whose definition_errors were ignored
        raise TemplateError(("template",), f"template {template.name!r} uses the undeclared placeholder {{{name}}}",
                            "fix the template (bamon config validate shows where)")
    return param.type
