"""Access to schema.yaml, the single source of truth for options, their defaults and hints."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The parsed schema (read once per process)."""
    # Beside this module (package data); importlib.resources would cost the generator ~5 ms.
    text = Path(__file__).with_name("schema.yaml").read_text(encoding="utf-8")
    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(text, Loader=loader)
    return data


def script_schema() -> dict[str, Any]:
    """The schema of one script entry (a scripts: item, or one scripts.d file)."""
    result: dict[str, Any] = schema()["$defs"]["script"]
    return result


def section(name: str) -> dict[str, Any]:
    """The schema of a top-level section such as "daemon" or "sandbox"."""
    result: dict[str, Any] = schema()["properties"][name]
    return result


def defaults(section_schema: dict[str, Any]) -> dict[str, Any]:
    """{key: default} for the properties of an object schema that declare one."""
    return {key: prop["default"] for key, prop in section_schema.get("properties", {}).items()
            if "default" in prop}
