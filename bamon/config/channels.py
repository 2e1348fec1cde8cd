"""alerts.channels: the rules the schema cannot state, and the frozen ChannelSpecs.

The schema checks each channel's settings; here: names unique (a name defaults to the type),
`${secret:NAME}` naming a stored secret, and apprise needing its optional library. A channel
with a problem is left out, the others (and every check) stay.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamon.config.issues import ConfigIssue, format_path
from bamon.config.load import RawConfig, line_of


@dataclass(frozen=True)
class ChannelSpec:
    """One configured channel, as deliver() gets it: settings still hold ${…} references."""

    name: str
    type: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # all but name and type, defaults filled


def raw_channels(raw: RawConfig) -> list[Any]:
    alerts = raw.main.get("alerts")
    channels = alerts.get("channels") if isinstance(alerts, dict) else None
    return channels if isinstance(channels, list) else []


def _known_secrets() -> set[str]:
    from bamon import secrets
    from bamon.paths import resolve

    # The config does not say which mode reads it: a secret stored in either store counts.
    return {n for user in (False, True) for n in secrets.stored(resolve(user))}


def channel_issues(raw: RawConfig) -> list[ConfigIssue]:
    """Duplicate names, unknown secrets, apprise without its library."""
    from bamon.secrets import references

    issues: list[ConfigIssue] = []
    file = raw.main_file
    seen: dict[str, int] = {}
    known: set[str] | None = None

    def issue(index: int, key: str, message: str, hint: str) -> None:
        path: tuple[str | int, ...] = ("alerts", "channels", index, key)
        issues.append(ConfigIssue(str(file), line_of(Path(file), path), format_path(path), message, hint))

    for index, item in enumerate(raw_channels(raw)):
        if not isinstance(item, dict):
            continue
        name = item.get("name", item.get("type"))
        if isinstance(name, str) and name in seen:
            issue(index, "name", f"a channel named {name!r} already exists (alerts.channels[{seen[name]}])",
                  "give each channel its own name: (name defaults to the type)")
        elif isinstance(name, str):
            seen[name] = index
        for key, value in item.items():
            for kind, ref in references(value):
                if kind != "secret":
                    continue
                known = _known_secrets() if known is None else known
                if ref not in known:
                    issue(index, str(key), f"secret {ref!r} does not exist",
                          f"store it with `bamon secret set {ref}` (see `bamon secret list`)")
        if item.get("type") == "apprise" and importlib.util.find_spec("apprise") is None:
            issue(index, "type", "the apprise library is not installed",
                  "pip install apprise (it is not packaged in Debian 12), or use another channel type")
    return issues


def specs(raw: RawConfig, bad_paths: set[str]) -> tuple[ChannelSpec, ...]:
    """The usable channels: those without a fatal issue under their key path."""
    from bamon.config import schema as schema_mod

    defs = schema_mod.schema()["$defs"]
    out = []
    for index, item in enumerate(raw_channels(raw)):
        prefix = f"alerts.channels[{index}]"
        if not isinstance(item, dict) or any(p == prefix or p.startswith(prefix + ".") for p in bad_paths):
            continue
        if "alerts" in bad_paths or "alerts.channels" in bad_paths:
            continue
        type_ = str(item["type"])
        defaults = schema_mod.defaults(defs.get(f"channel_{type_}", {}))
        settings = {**defaults, **{k: v for k, v in item.items() if k not in ("name", "type")}}
        out.append(ChannelSpec(str(item.get("name", type_)), type_, settings))
    return tuple(out)
