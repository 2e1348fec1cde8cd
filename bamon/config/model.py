"""The validated configuration as frozen dataclasses: what everything below the loader sees.

Defaults come from schema.yaml; spans are whole seconds; cron schedules are already OnCalendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamon.config import overrides
from bamon.config import schema as schema_mod
from bamon.config.channels import ChannelSpec
from bamon.config.channels import specs as channel_specs
from bamon.config.issues import ConfigIssue
from bamon.config.load import RawConfig, load_raw
from bamon.config.timespec import parse_span, to_oncalendar
from bamon.config.validate import validate
from bamon.notify.conditions import Condition
from bamon.notify.conditions import parse as parse_condition
from bamon.recovery import policy as recovery_policy


@dataclass(frozen=True)
class Limits:
    """Per-run resource limits (sandbox section, with per-script overrides applied)."""

    timeout: int  # seconds → TimeoutStartSec=
    max_cpu_time: int  # seconds → LimitCPU=
    max_file_size: int  # KiB → LimitFSIZE=
    max_virtual_memory: int  # KiB → MemoryMax=
    profile: str  # minimal | balanced | strict
    user: str | None = None  # sandbox.user: the default of every script's `user`


@dataclass(frozen=True)
class Script:
    """One check, ready for the generator."""

    name: str
    command: str
    interval: int | None  # seconds; None when `schedule` is used
    schedule: str | None  # an OnCalendar expression
    enabled: bool
    description: str
    severity: str
    tags: tuple[str, ...]
    user: str | None  # as configured (script, else sandbox.user); units/hardening.run_as decides
    environment: tuple[tuple[str, str], ...]
    limits: Limits
    source: Path  # the file it was written in (SourcePath=)
    network: str = "any"  # any | localhost | none
    read_write_paths: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    hint: str = ""  # alerts: what to do when it fails, in its own words
    # retries, recovery actions, dependencies, condition, circuit breaker (bamon/recovery/)
    recovery: recovery_policy.Recovery = recovery_policy.NONE
    output_format: str = "plain"  # plain | nagios: how exit codes and output are read
    template: str = ""  # the template its command was made from (bamon/templates/), if any
    # `sandbox:` as a mapping (config/overrides.py): unit settings of this check alone; None
    # leaves the profile's and network's own (units/render.py writes them after those)
    private_network: bool | None = None
    ip_address_allow: tuple[str, ...] | None = None
    ip_address_deny: tuple[str, ...] | None = None

    def settings(self) -> dict[str, Any]:
        """The effective settings, defaults filled in (`bamon config show`, the web API)."""
        return {
            "name": self.name, "command": self.command,
            **({"schedule": self.schedule} if self.schedule else {"interval": self.interval}),
            "timeout": self.limits.timeout, "enabled": self.enabled, "description": self.description,
            "severity": self.severity, "tags": list(self.tags), "sandbox": self._sandbox(),
            **({"user": self.user} if self.user else {}), "network": self.network,
            **({"read_write_paths": list(self.read_write_paths)} if self.read_write_paths else {}),
            **({"capabilities": list(self.capabilities)} if self.capabilities else {}),
            **({"environment": dict(self.environment)} if self.environment else {}),
            **({"template": self.template} if self.template else {}),
            "source": str(self.source),
        }

    def _sandbox(self) -> str | dict[str, Any]:
        """The profile, or the mapping with this check's own unit settings (User and ReadWritePaths
        are shown as `user` and `read_write_paths`, which they are merged into)."""
        own = {key: list(value) if isinstance(value, tuple) else value for key, value in (
            ("PrivateNetwork", self.private_network), ("IPAddressAllow", self.ip_address_allow),
            ("IPAddressDeny", self.ip_address_deny)) if value is not None}
        return {"profile": self.limits.profile, **own} if own else self.limits.profile

    @property
    def unit(self) -> str:
        return f"bamon-{self.name}.service"

    @property
    def timer(self) -> str:
        return f"bamon-{self.name}.timer"


@dataclass(frozen=True)
class Daemon:
    default_interval: int
    max_concurrent: int
    history_retention_days: int
    output_format: str = "plain"


@dataclass(frozen=True)
class Web:
    """The dashboard's socket addresses and idle timeout (section web:)."""

    listen: tuple[str, ...] = ("127.0.0.1:8477",)
    idle_exit: int = 300  # seconds


@dataclass(frozen=True)
class Fleet:
    """Where the fleet view reads every host's metrics (section fleet:, bamon/fleet/)."""

    prometheus_url: str | None = None
    host_label: str = "instance"
    lookback: int = 3600  # seconds
    stale_after: int = 180  # seconds


@dataclass(frozen=True)
class EscalationStep:
    """From `after` seconds into an episode: tell `channels` too, at `severity` if set."""

    after: int
    channels: tuple[str, ...]
    severity: str | None = None


@dataclass(frozen=True)
class Rule:
    """One alert rule (alerts.rules); `condition` is parsed and type-checked already."""

    name: str
    condition: Condition
    channels: tuple[str, ...]  # empty: every channel
    severity: tuple[str, ...]  # empty: any
    tags: tuple[str, ...]  # empty: any
    cooldown: int  # seconds
    repeat: int | None  # seconds
    window: int  # seconds, for error_rate
    escalation: str  # immediate | gradual | a policy name


@dataclass(frozen=True)
class Config:
    """A loaded config: the usable scripts, plus every issue found on the way."""

    daemon: Daemon
    sandbox: Limits
    scripts: tuple[Script, ...]
    issues: tuple[ConfigIssue, ...] = field(default=())
    main_file: Path = Path("/etc/bamon/config.yaml")
    load_threshold: float | None = None  # performance.load_threshold: load per CPU above which runs skip
    channels: tuple[ChannelSpec, ...] = ()  # alerts.channels, the usable ones
    # alerts, the rule side (bamon/notify/): rules, named escalation policies, the gradual step
    rules: tuple[Rule, ...] = ()
    escalation_policies: tuple[tuple[str, tuple[EscalationStep, ...]], ...] = ()
    gradual_step: int = 600
    web: Web = field(default=Web())
    fleet: Fleet = field(default=Fleet())

    @property
    def errors(self) -> tuple[ConfigIssue, ...]:
        return tuple(i for i in self.issues if i.fatal)

    def script(self, name: str) -> Script | None:
        return next((s for s in self.scripts if s.name == name), None)


def _section(raw: RawConfig, name: str, bad_paths: set[str]) -> dict[str, Any]:
    """A section's values with defaults filled in; invalid values fall back to the default."""
    values = raw.main.get(name)
    merged = schema_mod.defaults(schema_mod.section(name))
    if isinstance(values, dict):
        merged.update({k: v for k, v in values.items() if f"{name}.{k}" not in bad_paths})
    return merged


def _script(data: dict[str, Any], source: Path, daemon: Daemon, sandbox: Limits) -> Script:
    props = schema_mod.script_schema()["properties"]

    def get(key: str) -> Any:
        return data.get(key, props[key].get("default"))

    schedule = data.get("schedule")
    interval = None if schedule else parse_span(data.get("interval", daemon.default_interval))
    limits = Limits(
        timeout=parse_span(data["timeout"]) if "timeout" in data else sandbox.timeout,
        max_cpu_time=sandbox.max_cpu_time,
        max_file_size=sandbox.max_file_size,
        max_virtual_memory=sandbox.max_virtual_memory,
        profile=overrides.profile(data, sandbox.profile),
        user=sandbox.user,
    )
    env = data.get("environment") or {}
    box = overrides.mapping(data)
    allow, deny = box.get("IPAddressAllow"), box.get("IPAddressDeny")
    return Script(
        name=data["name"], command=data["command"], interval=interval,
        schedule=to_oncalendar(schedule) if schedule else None,
        enabled=bool(get("enabled")), description=str(get("description") or ""),
        severity=get("severity"), tags=tuple(get("tags") or ()),
        user=data.get("user") or box.get("User") or sandbox.user,
        environment=tuple((str(k), _env_text(v)) for k, v in env.items()),
        limits=limits, source=source, network=get("network"),
        read_write_paths=tuple(dict.fromkeys([*get("read_write_paths"), *box.get("ReadWritePaths", ())])),
        capabilities=tuple(dict.fromkeys(get("capabilities"))),
        hint=str(data.get("hint") or ""), recovery=recovery_policy.from_raw(data),
        output_format=data.get("output_format", daemon.output_format),
        template=str(data.get("template") or ""),
        private_network=box.get("PrivateNetwork"),
        ip_address_allow=tuple(allow) if allow is not None else None,
        ip_address_deny=tuple(deny) if deny is not None else None,
    )


def _env_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _rules(alerts: dict[str, Any], bad_paths: set[str]) -> tuple[Rule, ...]:
    """The usable rules: one with any error (its condition, a missing channel) is left out."""
    props = schema_mod.schema()["$defs"]["rule"]["properties"]
    rules = []
    for index, data in enumerate(alerts.get("rules") or []):
        where = f"alerts.rules[{index}]"
        if not isinstance(data, dict) or any(p == where or p.startswith((where + ".", where + "[")) for p in bad_paths):
            continue

        def get(key: str, data: dict[str, Any] = data) -> Any:
            return data.get(key, props[key].get("default"))

        repeat = data.get("repeat")
        rules.append(Rule(
            name=data["name"], condition=parse_condition(get("condition")),
            channels=tuple(data.get("channels") or ()), severity=tuple(data.get("severity") or ()),
            tags=tuple(data.get("tags") or ()),
            cooldown=parse_span(data["cooldown"]) if "cooldown" in data else 0,
            repeat=parse_span(repeat) if repeat is not None else None, window=parse_span(get("window")),
            escalation=get("escalation"),
        ))
    return tuple(rules)


def _policies(alerts: dict[str, Any], bad_paths: set[str]) -> tuple[tuple[str, tuple[EscalationStep, ...]], ...]:
    policies = alerts.get("escalation_policies") or {}
    return tuple(
        (name, tuple(sorted((EscalationStep(parse_span(step["after"]), tuple(step.get("channels") or ()),
                                            step.get("severity")) for step in policy["steps"]),
                            key=lambda step: step.after)))
        for name, policy in policies.items()
        if not any(p.startswith(f"alerts.escalation_policies.{name}") for p in bad_paths))


def _web(raw: RawConfig, bad_paths: set[str]) -> Web:
    w = _section(raw, "web", bad_paths)
    return Web(tuple(w["listen"]) or Web().listen, parse_span(w["idle_exit"]))  # [] would listen nowhere


def _fleet(raw: RawConfig, bad_paths: set[str]) -> Fleet:
    f = _section(raw, "fleet", bad_paths)
    return Fleet(f.get("prometheus_url"), f["host_label"], parse_span(f["lookback"]), parse_span(f["stale_after"]))


def build(raw: RawConfig) -> Config:
    """Validate `raw` and build the model from everything usable in it."""
    issues, bad = validate(raw)
    bad_paths = {i.path for i in issues if i.fatal}
    d = _section(raw, "daemon", bad_paths)
    daemon = Daemon(parse_span(d["default_interval"]), d["max_concurrent"], d["history_retention_days"],
                    d["output_format"])
    s = _section(raw, "sandbox", bad_paths)
    sandbox = Limits(parse_span(s["timeout"]), s["max_cpu_time"], s["max_file_size"],
                     s["max_virtual_memory"], s["profile"], s.get("user"))
    scripts = tuple(_script(r.data, r.file, daemon, sandbox)
                    for i, r in enumerate(raw.scripts) if i not in bad)
    alerts = _section(raw, "alerts", bad_paths)
    performance = _section(raw, "performance", bad_paths)
    return Config(daemon, sandbox, scripts, tuple(issues), raw.main_file,
                  channels=channel_specs(raw, bad_paths),
                  rules=_rules(alerts, bad_paths), escalation_policies=_policies(alerts, bad_paths),
                  gradual_step=parse_span(alerts["gradual_step"]),
                  load_threshold=performance.get("load_threshold"), web=_web(raw, bad_paths),
                  fleet=_fleet(raw, bad_paths))


def load(config_file: Path, scripts_dir: Path | None) -> Config:
    """Read, validate and model the config at `config_file` (+ `scripts_dir`)."""
    return build(load_raw(config_file, scripts_dir))
