"""bamon template list | show NAME | create --from-template NAME --PARAM VALUE …

Templates (bamon/templates/) are commands with typed parameters; `create` writes a check made
from one, through the same service-layer call as `bamon add --template` (validated, audited,
versioned, live at once). Its parameters are given as options named after them (`--url
https://…`, as the template declares them) or as --param NAME=VALUE.
"""

from __future__ import annotations

import argparse
import re
from typing import Any
from urllib.parse import urlsplit

from bamon import manage
from bamon.cli import add
from bamon.cli.context import Context
from bamon.cli.output import print_json, table
from bamon.errors import BamonError
from bamon.templates.catalog import Catalog, for_config, slug
from bamon.templates.expand import Template, expand


def register(sub: Any) -> None:
    p = sub.add_parser("template", help="check templates: list, show, create a check from one")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="the templates: built-in, templates.d/ and config.yaml's templates:")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=run_list)
    show = verbs.add_parser("show", help="a template's parameters and command")
    show.add_argument("template", metavar="NAME")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=run_show)
    create = verbs.add_parser(
        "create", help="add a check made from a template",
        description="Add a check made from a template. Every other --NAME VALUE is a parameter of "
                    "the template (see bamon template show NAME), e.g. --url https://api.example.com.")
    create.add_argument("--from-template", dest="template", required=True, metavar="NAME", help="the template")
    create.add_argument("-n", "--name", help="the check's name (default: from the template and its first parameter)")
    create.add_argument("--param", action="append", metavar="NAME=VALUE", help="a parameter (repeatable)")
    add.options(create)
    create.set_defaults(run=run_create, accepts_options=True)


def _catalog(ctx: Context) -> Catalog:
    return for_config(ctx.paths.config_file)


def _find(catalog: Catalog, name: str) -> Template:
    template = catalog.find(name)
    if template is None:
        import difflib

        close = difflib.get_close_matches(slug(name), [slug(t.name) for t in catalog], n=1)
        raise BamonError(f"no template named {name!r}",
                         f"did you mean {close[0]!r}?" if close else "see `bamon template list`", code="not_found")
    return template


def _as_dict(template: Template) -> dict[str, Any]:
    return {"name": template.name, "description": template.description, "source": template.source,
            "command": template.command, "defaults": template.defaults,
            "parameters": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                            "description": p.description} for p in template.parameters]}


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    catalog = _catalog(ctx)
    if args.json:
        print_json({"templates": [_as_dict(t) for t in catalog],
                    "problems": [{"file": i.file, "line": i.line, "path": i.path, "message": i.message,
                                  "hint": i.hint} for i in catalog.issues]})
        return 0
    print(table(("NAME", "PARAMETERS", "SOURCE", "DESCRIPTION"),
                [(t.name, " ".join(p.name + ("" if p.required else "?") for p in t.parameters), t.source,
                  t.description) for t in catalog], squeeze="DESCRIPTION"))
    for issue in catalog.issues:
        add_note = f"{issue}" + (f" (hint: {issue.hint})" if issue.hint else "")
        ctx.note(add_note)
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    template = _find(_catalog(ctx), args.template)
    if args.json:
        print_json(_as_dict(template))
        return 0
    print(f"{template.name}: {template.description}" if template.description else template.name)
    print(f"source: {template.source}")
    print(table(("PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"),
                [(p.name, p.type, "yes" if p.required else "no", "-" if p.required else repr(p.default),
                  p.description) for p in template.parameters], squeeze="DESCRIPTION"))
    if template.defaults:
        print("settings: " + ", ".join(f"{k}: {v}" for k, v in template.defaults.items()))
    print(f"command: {template.command}")
    return 0


def option_params(words: list[str]) -> dict[str, str]:
    """`--url X --max-latency 0.5` / `--url=X` → {url: X, max_latency: 0.5}."""
    params: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("--") or len(word) < 3:
            raise BamonError(f"unexpected argument {word!r}", "give template parameters as --NAME VALUE")
        key, eq, value = word[2:].partition("=")
        if not eq:
            if index + 1 >= len(words):
                raise BamonError(f"--{key} needs a value", f"e.g. --{key} VALUE (see bamon template show)")
            index += 1
            value = words[index]
        params[key.replace("-", "_")] = value
        index += 1
    return params


def _default_name(template: Template, values: dict[str, Any]) -> str:
    """http-check + https://api.example.com/health → http-check-api.example.com."""
    first = next((p for p in template.parameters if p.required), None)
    value = str(values.get(first.name, "")) if first else ""
    if first is not None and first.type == "url":
        value = urlsplit(value).hostname or value
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", value).strip("._")
    return f"{slug(template.name)}-{text}"[:64].rstrip("-") if text else slug(template.name)


def run_create(args: argparse.Namespace, ctx: Context) -> int:
    template = _find(_catalog(ctx), args.template)
    params = {**add.pairs(args.param, "--param", "url=https://…"), **option_params(args.extra)}
    args.name = args.name or _default_name(template, params)
    data = add.entry(args, params)
    data["template"] = template.name
    change = manage.add(ctx, data)
    print(f"added {args.name} from template {template.name} ({change.path})")
    print(f"command: {expand(template, data['params'])}")
    return 0
