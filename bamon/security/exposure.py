"""Exposure of each check as systemd rates it (`systemd-analyze security`), with what closes it.

systemd's own rating is the yardstick, not a score of bamon's: `bamon security` shows exactly
what `systemd-analyze security` says about the loaded units. What bamon adds is, for each of
the biggest open items, the unit setting that closes it and the bamon key that sets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bamon.config.model import Script
from bamon.systemd import Exposure, Systemd

TOP = 3  # open items shown per check

# unit setting → how a bamon config gets it. Settings bamon leaves out on purpose (their price
# per run is in docs/sandbox.md) have no entry: a drop-in (`systemctl edit UNIT`) adds them.
_STRICT = "sandbox: strict"
_BALANCED = "sandbox: balanced (or strict)"
FIXES: dict[str, str] = {
    "User": "sandbox: balanced (runs as user bamon), user: NAME or sandbox: {User: NAME}",
    "DynamicUser": "user: dynamic",
    "PrivateNetwork": "network: none, or sandbox: {PrivateNetwork: true}",
    "IPAddressDeny": "network: localhost, or sandbox: {IPAddressDeny: [any], IPAddressAllow: [...]}",
    "RestrictAddressFamilies": "network: none (then only AF_UNIX)",
    "ProtectSystem": _STRICT,
    "ProtectHome": _STRICT,
    "PrivateTmp": _STRICT,
    "PrivateDevices": _STRICT,
    "DeviceAllow": _STRICT,
    "PrivateMounts": _STRICT,
    "ProtectKernelModules": _STRICT,
    "CapabilityBoundingSet": "sandbox: balanced with an unprivileged user (a root check keeps read-only powers)",
    "AmbientCapabilities": "capabilities: [] (grant none)",
    "SystemCallFilter": _BALANCED,
    "SystemCallArchitectures": _BALANCED,
    "RestrictNamespaces": _BALANCED,
    "LockPersonality": _BALANCED,
    "RestrictSUIDSGID": _BALANCED,
    "MemoryDenyWriteExecute": _BALANCED,
    "NoNewPrivileges": "every profile sets it",
}
NO_KEY = "not set by bamon (cost per run: docs/sandbox.md); add it with `systemctl edit UNIT`"


@dataclass(frozen=True)
class OpenItem:
    setting: str  # as systemd names it: "PrivateNetwork=", "CapabilityBoundingSet=~CAP_SYS_ADMIN"
    key: str  # the unit key that closes it: "PrivateNetwork"
    why: str  # systemd's description of what is open
    exposure: float
    fix: str  # the bamon setting that closes it

    def as_json(self) -> dict[str, object]:
        return {"setting": self.setting, "key": self.key, "description": self.why,
                "exposure": self.exposure, "fix": self.fix}


@dataclass(frozen=True)
class CheckExposure:
    name: str
    unit: str
    profile: str
    score: float | None  # None: systemd could not rate the unit (not loaded)
    level: str | None
    top: tuple[OpenItem, ...]

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "unit": self.unit, "profile": self.profile, "score": self.score,
                "level": self.level, "top": [i.as_json() for i in self.top]}


def unit_key(setting: str) -> str:
    """The unit key in systemd's item name: "RootDirectory=/RootImage=" → "RootDirectory"."""
    return setting.split("=", 1)[0].split("/", 1)[0]


def biggest(exposure: Exposure, count: int = TOP) -> tuple[OpenItem, ...]:
    """The `count` open items that weigh most (systemd's order among equals)."""
    ranked = sorted(exposure.open_items, key=lambda item: -item[2])[:count]
    return tuple(OpenItem(setting, unit_key(setting), why, weight, FIXES.get(unit_key(setting), NO_KEY))
                 for setting, why, weight in ranked)


def rate(systemd: Systemd, scripts: Sequence[Script]) -> list[CheckExposure]:
    """Each script's exposure, from one systemd-analyze call for all their units."""
    found = systemd.security([s.unit for s in scripts])
    out = []
    for script in scripts:
        exposure = found.get(script.unit)
        out.append(CheckExposure(
            script.name, script.unit, script.limits.profile,
            exposure.score if exposure else None, exposure.level if exposure else None,
            biggest(exposure) if exposure else ()))
    return out
