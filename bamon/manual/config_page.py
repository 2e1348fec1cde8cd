"""bamon.yaml(5), generated from schema.yaml: every key with its type, default and description."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bamon import __version__
from bamon.config.schema import schema
from bamon.manual.roff import bold, header, para, quoted

DESCRIPTION = """\
bamon reads
.I /etc/bamon/config.yaml
and every
.I /etc/bamon/scripts.d/*.yaml
beside it (one check per file, the mapping of a
.B scripts
entry). In user mode
.RB ( "bamon \\-\\-user" )
the files are in
.IR ~/.config/bamon/ ;
.B \\-\\-config
and
.B BAMON_CONFIG
name another config.yaml. The configuration of the bash BAMON loads unchanged.
.PP
Validation reports every problem at once, with file, line, key and a hint
.RB ( "bamon config validate" );
unknown keys are errors.
A check whose entry is invalid is left out; the others still run.
Spans are seconds (30) or text such as \\(lq30s\\(rq, \\(lq5min\\(rq, \\(lq1h\\(rq.
"""

TRAILER = """\
.SH EXAMPLE
.nf
daemon:
  default_interval: 60
sandbox:
  timeout: 30
scripts:
  \\- name: web
    command: "curl \\-fsS http://localhost:8080/health"
    interval: 30s
    severity: critical
.fi
.SH SEE ALSO
.BR bamon (1),
.BR bamon\\-generator (8),
.BR systemd.timer (5),
.BR systemd.exec (5)
"""


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _properties(node: dict[str, Any], root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The keys of an object schema, including those of its oneOf/anyOf/allOf/if-then branches."""
    node = _resolve(node, root)
    found: dict[str, dict[str, Any]] = dict(node.get("properties", {}))
    for branch_key in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(branch_key, []):
            for key, prop in _properties(branch, root).items():
                found.setdefault(key, prop)
    for branch_key in ("then", "else"):
        if isinstance(node.get(branch_key), dict):
            for key, prop in _properties(node[branch_key], root).items():
                found.setdefault(key, prop)
    return found


def keys(root: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, schema) for every key, depth first: "scripts[].retry_policy.delay"."""
    root = root or schema()

    def walk(prefix: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, prop in _properties(node, root).items():
            prop = _resolve(prop, root)
            path = f"{prefix}{key}"
            yield path, prop
            if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                yield from walk(f"{path}[].", prop["items"])
            elif _properties(prop, root):
                yield from walk(f"{path}.", prop)
            elif isinstance(prop.get("additionalProperties"), dict):  # a mapping of NAME: {...}
                yield from walk(f"{path}.NAME.", prop["additionalProperties"])

    yield from walk("", root)


def _type(prop: dict[str, Any]) -> str:
    kinds = prop.get("type")
    words = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if prop.get("format") == "bamon-span":
        return "span"
    if "enum" in prop:
        return " | ".join(str(v) for v in prop["enum"])
    return " or ".join(str(w) for w in words) or "any"


def _entry(path: str, prop: dict[str, Any]) -> str:
    facts = [f"Type: {_type(prop)}."]
    if "default" in prop and prop["default"] not in ({}, []):
        facts.append(f"Default: {json.dumps(prop['default'])}.")
    if "x-example" in prop:
        facts.append(f"Example: {json.dumps(prop['x-example'])}.")
    description = str(prop.get("description", ""))
    if "x-superseded" in prop:
        description += f" Has no effect: {prop['x-superseded']}."
    described = f"{para(description)}\n.br\n" if description.strip() else ""
    return f".TP\n{bold(path)}\n{described}{para(' '.join(facts))}\n"


def render(root: dict[str, Any] | None = None) -> str:
    root = root or schema()
    out = [header("bamon.yaml", 5, __version__, "File Formats"),
           ".SH NAME\nbamon.yaml \\- configuration of bamon's checks\n",
           ".SH DESCRIPTION\n", DESCRIPTION]
    sections: dict[str, list[str]] = {}
    for path, prop in keys(root):
        sections.setdefault(path.split(".")[0].split("[")[0], []).append(_entry(path, prop))
    for name, entries in sections.items():
        described = str(_resolve(root["properties"][name], root).get("description", ""))
        out.append(f".SH {quoted(name.upper())}\n{para(described)}\n")
        out.extend(entries)
    out.append(TRAILER)
    return "".join(out)
