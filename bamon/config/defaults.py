"""The commented default config (`bamon config reset`), written from schema.yaml."""

from __future__ import annotations

import textwrap
from typing import Any

from bamon.config import schema as schema_mod


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(" ".join(text.split()), 88 - len(indent))]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if any(c in value for c in ":#{}[]*'\"%") or value == "" else value
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    return str(value)


def render() -> str:
    """A complete, valid config with every option, its description and default."""
    root = schema_mod.schema()
    lines = ["# bamon configuration (from `bamon config reset`; see `man bamon`).",
             "# Checks can also live one per file in scripts.d/ beside this file; `bamon add` writes there.",
             ""]
    for name, section in root["properties"].items():
        props = {k: v for k, v in section.get("properties", {}).items() if "x-superseded" not in v}
        if name == "scripts" or not props:
            continue
        # a section whose every key is unset by default (performance) must still be a mapping
        header = f"{name}:" if any("default" in p for p in props.values()) else f"{name}: {{}}"
        lines += _comment(section.get("description", ""), "") + [header]
        for key, prop in props.items():
            lines += _comment(prop.get("description", ""), "  ")
            if "default" in prop:
                lines.append(f"  {key}: {_value(prop['default'])}")
            else:  # unset means something (sandbox.user: the profile decides): show it, commented
                lines.append(f"  # {key}: {_value(prop.get('x-example', ''))}")
        lines.append("")
    script = schema_mod.script_schema()
    lines += _comment(root["properties"]["scripts"]["description"], "")
    lines += ["scripts: []", "  # Example (replace [] above with these lines, without the # signs). Keys:"]
    for key, prop in script["properties"].items():
        lines += _comment(f"{key}: {prop.get('description', '')}", "  ")
    lines.append("  #- name: web_service")
    lines.append('  #  command: "curl -fsS -o /dev/null http://localhost:8080/health"')
    lines.append("  #  interval: 30s")
    lines.append("  #  timeout: 10")
    return "\n".join(lines) + "\n"
