"""A script's `sandbox:` as a mapping: the profile plus unit settings of that check alone.

`sandbox: strict` keeps working; `sandbox: {profile: strict, PrivateNetwork: true, …}` adds
individual settings by their systemd names (schema.yaml, $defs.script_sandbox). This module
splits the value for the model and holds the rules that span keys, which the schema cannot
express (a user named twice, settings that contradict `network:`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bamon.config.issues import ConfigIssue, format_path
from bamon.config.load import RawScript, line_of

KEY = "sandbox"


def mapping(data: dict[str, Any]) -> dict[str, Any]:
    """The overrides of a script entry ({} when `sandbox:` is a profile name or unset)."""
    value = data.get(KEY)
    return value if isinstance(value, dict) else {}


def profile(data: dict[str, Any], default: str) -> str:
    """The script's profile: `sandbox: NAME`, `sandbox: {profile: NAME}`, else `default`."""
    value = data.get(KEY)
    if isinstance(value, str):
        return value
    return str(mapping(data).get("profile", default))


@dataclass(frozen=True)
class Rule:
    """A contradiction between keys of one entry: when `applies`, the issue at `key`."""

    applies: Callable[[dict[str, Any], dict[str, Any]], bool]  # (entry, its sandbox mapping)
    key: tuple[str, ...]
    message: str
    hint: str


RULES = (
    Rule(lambda data, box: "user" in data and "User" in box, (KEY, "User"),
         "user and sandbox.User are both set", "keep one of them"),
    Rule(lambda data, box: data.get("network") == "none" and box.get("PrivateNetwork") is False,
         (KEY, "PrivateNetwork"), "PrivateNetwork: false contradicts network: none",
         "use network: localhost or any instead, or drop PrivateNetwork"),
    Rule(lambda data, box: data.get("network") == "none" and "IPAddressAllow" in box, (KEY, "IPAddressAllow"),
         "network: none opens no IP socket, so IPAddressAllow reaches nothing",
         "use network: any with IPAddressDeny: [any] and this IPAddressAllow"),
    Rule(lambda data, box: "IPAddressAllow" in box and "IPAddressDeny" not in box
         and data.get("network") != "localhost", (KEY, "IPAddressAllow"),
         "IPAddressAllow alone lets every address through (systemd drops only what IPAddressDeny names)",
         "add IPAddressDeny: [any] so that only the allowed addresses answer"),
)


def entry_rules(script: RawScript) -> list[ConfigIssue]:
    """The cross-key problems of one entry whose `sandbox:` is a mapping."""
    data = script.data
    if not isinstance(data, dict) or not mapping(data):
        return []
    box = mapping(data)
    return [ConfigIssue(str(script.file), line_of(script.file, script.path + rule.key, key=True),
                        format_path(script.path + rule.key), rule.message, rule.hint)
            for rule in RULES if rule.applies(data, box)]
