"""Unit names: the only place that knows how a script name becomes a systemd unit name."""

from __future__ import annotations

PREFIX = "bamon-"
TARGET = "bamon.target"
SLICE = "bamon.slice"
NOTIFY_TEMPLATE = "bamon-notify@"
CONFIG_ERROR = "bamon-config-error.service"
UNIT_GLOB = "bamon-*"
# Names of bamon's own units; schema.yaml forbids them as script names (a test keeps both equal).
RESERVED = ("web", "outbox", "notify", "config-error")


def service(name: str) -> str:
    return f"{PREFIX}{name}.service"


def timer(name: str) -> str:
    return f"{PREFIX}{name}.timer"


def script_of(unit: str) -> str | None:
    """"bamon-web.service" / "bamon-web" -> "web"; None for units that are not checks."""
    base = unit.rsplit(".", 1)[0] if unit.endswith((".service", ".timer")) else unit
    if not base.startswith(PREFIX) or "@" in base or base[len(PREFIX):] in RESERVED:
        return None
    return base[len(PREFIX):]
