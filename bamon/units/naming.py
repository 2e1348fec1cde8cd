"""Unit names: the only place that knows how a script name becomes a systemd unit name.

Check units are `bamon-<name>.*`; bamon's own units are `bamon.<role>` (bamon.target,
bamon.notify@.service, bamon.config-error.service, bamon.outbox.*, bamon.web.*). Script names
cannot start with a dot, so no check unit can ever collide with one of bamon's own units and
no check name is reserved. 0.1 named its own units `bamon-notify@` and `bamon-config-error`:
LEGACY lists them so upgrades and `bamon apply` can clear them away.
"""

from __future__ import annotations

PREFIX = "bamon-"
TARGET = "bamon.target"
SLICE = "bamon.slice"
# bamon.slice's cgroup v2 directory as a check sees /sys/fs/cgroup (%U: the user manager's UID)
SLICE_DIR = {False: f"/sys/fs/cgroup/{SLICE}",
             True: f"/sys/fs/cgroup/user.slice/user-%U.slice/user@%U.service/{SLICE}"}
NOTIFY_TEMPLATE = "bamon.notify@"
CONFIG_ERROR = "bamon.config-error.service"
UNIT_GLOB = "bamon-*"
WEB_SOCKET = "bamon.web.socket"
WEB_SERVICE = "bamon.web.service"
# web.listen, when it is not the packaged address, becomes this drop-in of the socket
WEB_LISTEN_DROPIN = f"{WEB_SOCKET}.d/50-listen.conf"
# The units of bamon 0.1 that took check-like names (removed on upgrade, never a check).
LEGACY = ("bamon-notify@.service", "bamon-config-error.service")


def service(name: str) -> str:
    return f"{PREFIX}{name}.service"


def timer(name: str) -> str:
    return f"{PREFIX}{name}.timer"


def script_of(unit: str) -> str | None:
    """"bamon-web.service" / "bamon-web" -> "web"; None for units that are not checks."""
    base = unit.rsplit(".", 1)[0] if unit.endswith((".service", ".timer")) else unit
    if not base.startswith(PREFIX) or "@" in base:
        return None
    return base[len(PREFIX):]
