"""The compliance report: bamon's security controls, pass or fail, with the evidence for each.

Each control is mapped to the CIS Controls v8 and ISO/IEC 27001:2022 Annex A control families
it supports. That is a mapping to help an auditor find their way, not a claim that a host
running bamon is certified or compliant with either.

Gathering (`gather`) reads the system once into `Facts`; the controls are pure functions of
Facts (table CONTROLS), so tests can weaken any fact and see the control fail.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bamon import secrets
from bamon.config.channels import ChannelSpec
from bamon.config.schema import schema
from bamon.context import Context
from bamon.security.scan import Finding, serious

VERSION = 1
DISCLAIMER = ("A mapping of bamon's own settings to the control families they support (CIS Controls v8, "
              "ISO/IEC 27001:2022 Annex A), as help for an assessment. It is not a certification, an audit "
              "or a claim of compliance with either.")
SAFE_LEVELS = ("PERFECT", "SAFE", "OK", "MEDIUM")  # systemd-analyze security's levels up to 7.0


@dataclass(frozen=True)
class CheckFacts:
    name: str
    profile: str
    root: bool
    score: float | None
    level: str | None


@dataclass(frozen=True)
class Facts:
    """What the controls look at, read once by gather()."""

    checks: tuple[CheckFacts, ...]
    user_mode: bool
    stored_secrets: tuple[str, ...]
    plaintext_settings: tuple[str, ...]  # "channel.key" of credentials written in the config
    persistent_journal: bool
    sealed: bool
    audit_records: int  # in the last 90 days
    retention_days: int
    retention_notes: tuple[str, ...]
    listen: tuple[str, ...]
    web_listening: bool  # bamon.web.socket active or enabled
    web_roles: dict[str, int] = field(default_factory=dict)  # role → number of users
    findings: tuple[Finding, ...] = ()
    shellcheck: bool = True


@dataclass(frozen=True)
class Result:
    status: str  # pass | fail
    evidence: tuple[str, ...]
    fix: str | None = None


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    cis: tuple[str, ...]  # CIS Controls v8 controls / safeguards
    iso: tuple[str, ...]  # ISO/IEC 27001:2022 Annex A controls
    evaluate: Callable[[Facts], Result]


def _verdict(ok: bool, evidence: list[str], fix: str) -> Result:
    return Result("pass" if ok else "fail", tuple(evidence), None if ok else fix)


def _sandboxed(f: Facts) -> Result:
    weak = [c for c in f.checks if c.profile == "minimal" or (c.level is not None and c.level not in SAFE_LEVELS)]
    unrated = [c for c in f.checks if c.score is None]
    evidence = [f"{c.name}: sandbox {c.profile}, exposure "
                + (f"{c.score:.1f} {c.level}" if c.score is not None else "not rated (unit not loaded)")
                for c in f.checks] or ["no checks configured"]
    fixes = ([f"give {', '.join(c.name for c in weak)} sandbox: balanced or strict (bamon security NAME "
              "shows what else is open)"] if weak else [])
    fixes += [f"load the units of {', '.join(c.name for c in unrated)} (bamon apply)"] if unrated else []
    return _verdict(not weak and not unrated, evidence, "; ".join(fixes))


def _least_privilege(f: Facts) -> Result:
    roots = [c.name for c in f.checks if c.root]
    evidence = [f"{len(f.checks) - len(roots)} of {len(f.checks)} check(s) run without root"]
    evidence += [f"{name}: runs as root" for name in roots]
    return _verdict(not roots, evidence, "drop user: root / sandbox: minimal where the check does not need root "
                    "(capabilities: [...] grants single powers)")


def _secrets(f: Facts) -> Result:
    evidence = [f"{len(f.stored_secrets)} stored secret(s)"
                + (": 0600 files (user managers on systemd 252 cannot encrypt)" if f.user_mode
                   else ": encrypted with systemd-creds (host key, TPM2 where present)")]
    evidence += [f"{where}: a credential written in the config" for where in f.plaintext_settings]
    ok = not f.plaintext_settings and not (f.user_mode and f.stored_secrets)
    return _verdict(ok, evidence, "store credentials with `bamon secret set NAME` and write \"${secret:NAME}\" "
                    "in the config; in user mode keep secrets in the system instance instead")


def _audit_on(f: Facts) -> Result:
    evidence = [f"{f.audit_records} audit record(s) in the last 90 days (journald, MESSAGE_ID={_audit_id()})",
                "journal persistent (/var/log/journal)" if f.persistent_journal
                else "journal kept in memory only: the audit trail is lost at every reboot"]
    return _verdict(f.persistent_journal, evidence,
                    "mkdir -p /var/log/journal && systemctl restart systemd-journald (or Storage=persistent)")


def _audit_sealed(f: Facts) -> Result:
    evidence = ["journald Forward Secure Sealing is set up (sealing key present)" if f.sealed
                else "the journal is not sealed: a root user could change past records unnoticed"]
    return _verdict(f.sealed, evidence, "bamon audit seal, and keep the verification key off this host")


def _retention(f: Facts) -> Result:
    evidence = [f"daemon.history_retention_days: {f.retention_days}", *f.retention_notes]
    if not f.retention_notes:
        evidence.append("journald keeps at least that much (Storage=, MaxRetentionSec=)")
    return _verdict(not f.retention_notes, evidence,
                    "make the journal persistent and set MaxRetentionSec= no lower than history_retention_days")


def _loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else ""
    if not host:
        return False  # a port alone: every address
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api(f: Facts) -> Result:
    public = [a for a in f.listen if not _loopback(a)]
    users = sum(f.web_roles.values())
    evidence = [f"web.listen: {', '.join(f.listen)}",
                f"bamon.web.socket {'listens' if f.web_listening else 'is not enabled: nothing listens'}",
                f"{users} web account(s): /api/v1 answers only to a login or a token"]
    if public:
        evidence.append("/metrics and the dashboard page are served without a login on " + ", ".join(public))
    ok = not f.web_listening or not public or users > 0
    return _verdict(ok, evidence, "keep web.listen on 127.0.0.1/[::1] (a TLS proxy in front for remote use), "
                    "or create accounts (bamon user add NAME --role viewer) before listening elsewhere")


def _roles(f: Facts) -> Result:
    users = sum(f.web_roles.values())
    evidence = [f"{role}: {n} user(s)" for role, n in sorted(f.web_roles.items())] or ["no web accounts"]
    # one admin alone is fine; several accounts that are all admins mean roles are not used
    ok = users <= 1 or f.web_roles.get("admin", 0) < users
    return _verdict(ok, evidence, "give accounts that only watch the viewer role and those that run checks the "
                    "operator role (bamon user add NAME --role viewer)")


def _scan(f: Facts) -> Result:
    bad = serious(f.findings)
    evidence = [f"{len(f.findings)} finding(s), {len(bad)} high or medium (bamon scan)"]
    evidence += [str(x) for x in bad]
    if not f.shellcheck:
        evidence.append("shellcheck is not installed: its checks were skipped")
    return _verdict(not bad, evidence, "fix what `bamon scan` lists (each finding names its fix)")


def _audit_id() -> str:
    from bamon.journal import AUDIT_ID

    return AUDIT_ID


CONTROLS: tuple[Control, ...] = (
    Control("checks-sandboxed", "Every check runs sandboxed, with a moderate exposure or better",
            ("4 Secure Configuration of Enterprise Assets and Software",),
            ("A.8.9 Configuration management",), _sandboxed),
    Control("least-privilege", "Checks run without root",
            ("5.4 Restrict Administrator Privileges to Dedicated Administrator Accounts",
             "6 Access Control Management"),
            ("A.8.2 Privileged access rights", "A.8.18 Use of privileged utility programs"), _least_privilege),
    Control("secrets-encrypted", "Credentials are stored encrypted, never in the config",
            ("3.11 Encrypt Sensitive Data at Rest",),
            ("A.8.24 Use of cryptography", "A.5.17 Authentication information"), _secrets),
    Control("audit-trail", "Every change is audited and the trail survives a reboot",
            ("8.2 Collect Audit Logs", "8.5 Collect Detailed Audit Logs"), ("A.8.15 Logging",), _audit_on),
    Control("audit-sealed", "The audit trail is tamper-evident (journald Forward Secure Sealing)",
            ("8.3 Ensure Adequate Audit Log Storage", "8.9 Centralize Audit Logs"),
            ("A.8.15 Logging", "A.5.28 Collection of evidence"), _audit_sealed),
    Control("retention", "Run history and audit records are kept as long as configured",
            ("8.10 Retain Audit Logs",), ("A.8.15 Logging", "A.5.33 Protection of records"), _retention),
    Control("api-exposure", "The API listens on localhost only, or requires a login",
            ("4.4 Implement and Manage a Firewall on Servers", "6 Access Control Management"),
            ("A.8.20 Networks security", "A.8.5 Secure authentication"), _api),
    Control("roles", "Web accounts use roles (viewer, operator, admin), not admin for everyone",
            ("6.8 Define and Maintain Role-Based Access Control",),
            ("A.5.15 Access control", "A.5.18 Access rights"), _roles),
    Control("scan-findings", "Check commands and scripts have no high or medium scan findings",
            ("16 Application Software Security",),
            ("A.8.28 Secure coding", "A.8.8 Management of technical vulnerabilities"), _scan),
)


def report(facts: Facts, now: datetime | None = None, host: str | None = None) -> dict[str, Any]:
    """The report document (docs/compliance.schema.json)."""
    controls = []
    for control in CONTROLS:
        result = control.evaluate(facts)
        controls.append({"id": control.id, "title": control.title, "status": result.status,
                         "evidence": list(result.evidence), "fix": result.fix,
                         "mapping": {"cis_controls_v8": list(control.cis), "iso27001_2022_annex_a": list(control.iso)}})
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": VERSION,
        "generated": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "host": host or socket.gethostname(),
        "disclaimer": DISCLAIMER,
        "summary": {"pass": sum(c["status"] == "pass" for c in controls),
                    "fail": sum(c["status"] == "fail" for c in controls)},
        "controls": controls,
        "checks": [{"name": c.name, "profile": c.profile, "root": c.root, "exposure": c.score, "level": c.level}
                   for c in facts.checks],
    }


# --- reading the facts ------------------------------------------------------------------------------
# Endpoint URLs share their hint with webhook URLs (which are credentials) but are public
_CREDENTIAL_WORDS = ("password", "token", "key", "secret", "webhook_url", "urls", "headers")


def credential_keys(channel_type: str) -> set[str]:
    """The settings of a channel type that hold credentials: schema.yaml hints "${secret:…}" for
    them, and their names say so."""
    props = schema()["$defs"].get(f"channel_{channel_type}", {}).get("properties", {})
    return {key for key, prop in props.items()
            if "${secret:" in str(prop.get("x-hint", "")) and any(word in key for word in _CREDENTIAL_WORDS)}


def plaintext_credentials(channels: tuple[ChannelSpec, ...]) -> list[str]:
    """"channel.key" of each credential setting whose value has no ${secret:…}/${env:…} reference."""
    found = []
    for spec in channels:
        for key in sorted(credential_keys(spec.type)):
            value = spec.settings.get(key)
            texts = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
            if any(isinstance(t, str) and t and not any(True for _ in secrets.references(t)) for t in texts):
                found.append(f"{spec.name}.{key}")
    return found


def gather(ctx: Context) -> Facts:
    """Read everything the controls look at: config, systemd's ratings, journal, web accounts, scan."""
    from bamon import audit, paths
    from bamon.history.retention import retention_notes
    from bamon.security.scan import scan_checks
    from bamon.units import hardening, naming
    from bamon.web.auth import Accounts

    config = ctx.config()
    rated = ctx.systemd.security([s.unit for s in config.scripts]) if ctx.live else {}
    checks = tuple(CheckFacts(
        s.name, s.limits.profile, hardening.is_root(hardening.run_as(s, ctx.user_mode), ctx.user_mode),
        rated[s.unit].score if s.unit in rated else None, rated[s.unit].level if s.unit in rated else None)
        for s in config.scripts)
    roles: dict[str, int] = {}
    for user in Accounts(ctx.paths.web_state_dir).list_users():
        roles[str(user["role"])] = roles.get(str(user["role"]), 0) + 1
    scanned = scan_checks(config.scripts, ctx.user_mode)
    web = naming.WEB_SOCKET
    return Facts(
        checks=checks, user_mode=ctx.user_mode, stored_secrets=tuple(secrets.stored(ctx.paths)),
        plaintext_settings=tuple(plaintext_credentials(config.channels)),
        persistent_journal=paths.journal_dir() is not None, sealed=paths.sealing_key() is not None,
        audit_records=len(audit.read(ctx.journal, "-90d")),
        retention_days=config.daemon.history_retention_days,
        retention_notes=tuple(retention_notes(config.daemon.history_retention_days)),
        listen=config.web.listen,
        web_listening=ctx.live and (ctx.systemd.is_active(web) or ctx.systemd.is_enabled(web)),
        web_roles=roles, findings=scanned.findings, shellcheck=scanned.shellcheck)
