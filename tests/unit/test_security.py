"""Exposure scores (systemd-analyze security parsing, `bamon security`, `status -v`), the
per-script sandbox overrides, `bamon audit`, and the compliance report against its schema.

systemd-analyze goes through the fake runner (the Systemd seam), journalctl reads through
Journal.stream (the journald seam); tests/system/test_security.py runs all of it for real.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from bamon import paths as bamon_paths
from bamon.journal import AUDIT_ID, Journal
from bamon.security import compliance, exposure
from bamon.security.scan import Finding
from bamon.systemd import parse_security
from bamon.units.render import generate

if TYPE_CHECKING:
    from conftest import CliResult, FakeRunner

Cli = Callable[..., "CliResult"]
REPO = Path(__file__).resolve().parents[2]


def _rows(unit: str, score: str, level: str, utf8: bool = True) -> str:
    """What systemd-analyze security prints for one unit (abridged), in a UTF-8 or the C locale."""
    bad, good, arrow = ("✗", "✓", "→") if utf8 else ("-", "+", "->")
    return f"""\
  NAME                          DESCRIPTION                  EXPOSURE
{bad} RemoveIPC=                    Service user may leave SysV IPC objects around                  0.1
{good} SystemCallArchitectures=      Service may execute system calls only with native ABI
{bad} PrivateNetwork=               Service has access to the host's network  0.5
{bad} RootDirectory=/RootImage=     Service runs within the host's root directory                   0.1
{bad} CapabilityBoundingSet=~CAP_SYS_ADMIN  Service has administrator privileges  0.3
{good} NoNewPrivileges=              Service processes cannot acquire new privileges
{bad} IPAddressDeny=                Service does not define an IP address allow list                0.2

{arrow} Overall exposure level for {unit}: {score} {level} 🙂
"""


TEXT = _rows("bamon-web.service", "3.4", "OK") + _rows("bamon-db.service", "9.4", "UNSAFE", utf8=False)


def test_parse_security_in_both_locales() -> None:
    found = parse_security(TEXT)
    assert set(found) == {"bamon-web.service", "bamon-db.service"}
    web = found["bamon-web.service"]
    assert (web.score, web.level) == (3.4, "OK")
    assert [i[0] for i in web.open_items] == ["RemoveIPC=", "PrivateNetwork=", "RootDirectory=/RootImage=",
                                               "CapabilityBoundingSet=~CAP_SYS_ADMIN", "IPAddressDeny="]
    assert found["bamon-db.service"].score == 9.4 and len(found["bamon-db.service"].open_items) == 5


def test_biggest_three_with_the_key_that_closes_them() -> None:
    top = exposure.biggest(parse_security(TEXT)["bamon-web.service"])
    assert [(i.key, i.exposure) for i in top] == [("PrivateNetwork", 0.5), ("CapabilityBoundingSet", 0.3),
                                                    ("IPAddressDeny", 0.2)]
    assert top[0].fix.startswith("network: none")
    assert exposure.unit_key("RootDirectory=/RootImage=") == "RootDirectory"
    assert exposure.FIXES.get("RootDirectory") is None  # no bamon key: the drop-in hint instead


CONFIG = """\
scripts:
  - name: web
    command: "curl -fsS http://localhost/"
  - name: db
    command: "true"
    sandbox: minimal
"""


@pytest.fixture
def live_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config at the path systemd's generator reads (so bamon treats it as live)."""
    config = tmp_path / "etc" / "config.yaml"
    config.parent.mkdir()
    config.write_text(CONFIG)
    monkeypatch.setattr(bamon_paths, "SYSTEM_CONFIG", config)
    monkeypatch.setattr(bamon_paths, "SYSTEM_STATE", tmp_path / "state")
    return config


def test_cli_security(cli: Cli, runner: FakeRunner, live_config: Path) -> None:
    runner.on(["systemd-analyze", "security"], stdout=TEXT)
    result = cli("security")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["NAME", "SANDBOX", "EXPOSURE", "LEVEL"]
    assert lines[1].split() == ["web", "balanced", "3.4", "OK"]
    assert lines[2].split() == ["db", "minimal", "9.4", "UNSAFE"]
    assert "  0.5  PrivateNetwork=  Service has access to the host's network" in result.out
    assert ["systemd-analyze", "security", "--no-pager", "bamon-web.service", "bamon-db.service"] in runner.calls
    doc = json.loads(cli("security", "web", "--json").out)
    assert doc["checks"][0]["score"] == 3.4 and doc["checks"][0]["top"][0]["key"] == "PrivateNetwork"


def test_cli_security_unloaded_and_not_live(cli: Cli, runner: FakeRunner, live_config: Path) -> None:
    result = cli("security", "web")  # the fake systemd-analyze says nothing: unit not loaded
    assert result.out.splitlines()[1].split() == ["web", "balanced", "-", "not", "loaded"]
    assert "systemd has not loaded bamon-web.service: run `bamon apply`" in result.err
    elsewhere = live_config.with_name("other.yaml")
    elsewhere.write_text(CONFIG)
    other = cli("--config", str(elsewhere), "security")
    assert other.code == 1 and "looks at the units systemd runs" in other.err


def test_status_verbose_shows_the_level(cli: Cli, runner: FakeRunner, live_config: Path) -> None:
    runner.on(["systemd-analyze", "security"], stdout=TEXT)
    out = cli("status", "-v").out
    assert "    exposure: 3.4 OK  (bamon security web)" in out
    assert "    exposure: 9.4 UNSAFE  (bamon security db)" in out


# --- sandbox: as a mapping ---------------------------------------------------------------------------
def test_sandbox_overrides_render(load_config: Callable[..., Any]) -> None:
    config = load_config("""\
        scripts:
          - name: api
            command: "curl -fsS http://192.0.2.10/"
            sandbox: {profile: strict, IPAddressDeny: [any], IPAddressAllow: [192.0.2.10, localhost],
                      ReadWritePaths: [/var/cache/api], User: nobody}
          - name: offline
            command: "true"
            sandbox: {PrivateNetwork: true}
          - name: open
            command: "true"
            network: localhost
            sandbox: {IPAddressDeny: []}
        """)
    assert not config.errors, config.errors
    units = generate(config).units
    api = units["bamon-api.service"]
    assert "User=nobody" in api and "ProtectSystem=strict" in api and "ReadWritePaths=/var/cache/api" in api
    assert api.endswith("IPAddressAllow=\nIPAddressAllow=192.0.2.10 localhost\nIPAddressDeny=\nIPAddressDeny=any\n")
    assert units["bamon-offline.service"].endswith("# --- sandbox overrides of this check (its sandbox: mapping) ---\n"
                                                   "PrivateNetwork=yes\n")
    # network: localhost's deny list, replaced by an empty one: the reset alone
    assert units["bamon-open.service"].endswith("IPAddressDeny=\n")
    # `bamon config show` and the API show the mapping (User and ReadWritePaths under their keys)
    assert config.scripts[1].settings()["sandbox"] == {"profile": "balanced", "PrivateNetwork": True}
    assert config.scripts[0].settings()["user"] == "nobody"
    plain = load_config("scripts:\n  - {name: p, command: 'true', sandbox: strict}\n")
    assert plain.scripts[0].settings()["sandbox"] == "strict"
    assert "sandbox overrides" not in generate(plain).units["bamon-p.service"]


@pytest.mark.parametrize(("entry", "message"), [
    ("{user: root, sandbox: {User: nobody}}", "user and sandbox.User are both set"),
    ("{network: none, sandbox: {PrivateNetwork: false}}", "PrivateNetwork: false contradicts network: none"),
    ("{network: none, sandbox: {IPAddressDeny: [any], IPAddressAllow: [10.0.0.1]}}", "IPAddressAllow reaches nothing"),
    ("{sandbox: {IPAddressAllow: [10.0.0.1]}}", "IPAddressAllow alone lets every address through"),
    ("{sandbox: {IPAddressDeny: [10.0.0.300]}}", "'10.0.0.300' is not valid: not an IP address or prefix"),
    ("{sandbox: {ReadWritePaths: [relative/dir]}}", "'relative/dir' does not have the required form"),
    ("{sandbox: {PrivateNetwork: yes please}}", "'yes please' is not true or false"),
    ("{sandbox: {Protect: strict}}", "unknown key 'Protect'"),
    ("{sandbox: paranoid}", "'paranoid' is not one of: minimal, balanced, strict"),
])
def test_sandbox_overrides_validated(load_config: Callable[..., Any], entry: str, message: str) -> None:
    config = load_config(f"scripts:\n  - {{name: x, command: 'true', {entry[1:-1]}}}\n")
    assert config.scripts == ()
    assert any(message in issue.message for issue in config.errors), [str(i) for i in config.errors]
    assert all(issue.hint for issue in config.errors)


# --- bamon audit -----------------------------------------------------------------------------------
def _audit_entries(monkeypatch: pytest.MonkeyPatch, entries: list[dict[str, Any]]) -> list[Sequence[str]]:
    asked: list[Sequence[str]] = []

    def stream(self: Journal, args: Sequence[str]) -> Iterator[dict[str, Any]]:
        asked.append(list(args))
        yield from entries
    monkeypatch.setattr(Journal, "stream", stream)
    return asked


def test_audit_lists_who_changed_what(cli: Cli, live_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _audit_entries(monkeypatch, [
        {"__REALTIME_TIMESTAMP": "1795000000000000", "BAMON_AUDIT_ACTION": "update", "BAMON_CHECK": "web",
         "BAMON_AUDIT_USER": "alice", "BAMON_AUDIT_VIA": "web", "BAMON_AUDIT_UID": "0",
         "BAMON_AUDIT_BEFORE": "name: web\ncommand: a\ninterval: 30\n",
         "BAMON_AUDIT_AFTER": "name: web\ncommand: b\ninterval: 60\n"},
        {"__REALTIME_TIMESTAMP": "1795000060000000", "BAMON_AUDIT_ACTION": "silence", "BAMON_CHECK": "web",
         "BAMON_AUDIT_USER": "bob", "BAMON_AUDIT_AFTER": "s1 for 2h maintenance"},
    ])
    result = cli("audit", "--since", "1d")
    assert result.code == 0, result.err
    assert asked == [[f"MESSAGE_ID={AUDIT_ID}", "--since=1d"]]
    rows = [line.split(None, 5) for line in result.out.splitlines()[1:]]
    assert rows[0] == ["2026-11-18T11:06:40Z", "alice", "web", "update", "web", "changed command, interval"]
    assert rows[1][1:] == ["bob", "cli", "silence", "web", "s1 for 2h maintenance"]
    doc = json.loads(cli("audit", "--json").out)
    assert doc["entries"][0]["before"].startswith("name: web")
    assert doc["entries"][0]["what"] == "changed command, interval"


def test_audit_seal_refuses_without_persistent_journal_or_over_a_key(
        cli: Cli, live_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bamon_paths, "JOURNAL_DIR", tmp_path / "journal")
    monkeypatch.setattr(bamon_paths, "MACHINE_ID", tmp_path / "machine-id")
    (tmp_path / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    result = cli("audit", "seal")
    assert result.code == 1 and "no persistent journal" in result.err and "mkdir -p /var/log/journal" in result.err
    keydir = tmp_path / "journal" / "0123456789abcdef0123456789abcdef"
    keydir.mkdir(parents=True)
    (keydir / "fss").write_bytes(b"KSHHRHLP")
    result = cli("audit", "seal")
    assert result.code == 1 and "sealed already" in result.err and "--force" in result.err
    assert cli("--user", "audit", "verify").code == 1


# --- the compliance report ---------------------------------------------------------------------------
SCHEMA = json.loads((REPO / "docs" / "compliance.schema.json").read_text())


def _validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


GOOD = compliance.Facts(
    checks=(compliance.CheckFacts("web", "balanced", False, 3.4, "OK"),),
    user_mode=False, stored_secrets=("slack",), plaintext_settings=(), persistent_journal=True, sealed=True,
    audit_records=12, retention_days=30, retention_notes=(), listen=("127.0.0.1:8477",), web_listening=True,
    web_roles={"admin": 1, "viewer": 2})


def _status(doc: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in doc["controls"]}


def test_a_hardened_setup_passes_every_control() -> None:
    doc = compliance.report(GOOD)
    _validate(doc)
    assert set(_status(doc).values()) == {"pass"} and doc["summary"] == {"pass": 9, "fail": 0}
    assert "not a certification" in doc["disclaimer"]


WEAKENED = [
    ({"checks": (compliance.CheckFacts("db", "minimal", True, 9.4, "UNSAFE"),)},
     {"checks-sandboxed", "least-privilege"}),
    ({"plaintext_settings": ("slack.webhook_url",)}, {"secrets-encrypted"}),
    ({"persistent_journal": False, "sealed": False}, {"audit-trail", "audit-sealed"}),
    ({"retention_notes": ("journald keeps entries for 7 day(s)",)}, {"retention"}),
    ({"listen": ("0.0.0.0:8477",), "web_roles": {}}, {"api-exposure"}),
    ({"web_roles": {"admin": 3}}, {"roles"}),
    ({"findings": (Finding("x", "command", 1, "download-to-shell", "high", "m", "f"),)}, {"scan-findings"}),
]


@pytest.mark.parametrize(("change", "failing"), WEAKENED, ids=[",".join(sorted(w[1])) for w in WEAKENED])
def test_a_weakened_setup_fails_exactly_those_controls(change: dict[str, Any], failing: set[str]) -> None:
    doc = compliance.report(replace(GOOD, **change))
    _validate(doc)
    assert {k for k, v in _status(doc).items() if v == "fail"} == failing
    assert all(c["fix"] for c in doc["controls"] if c["status"] == "fail")


def test_api_on_all_addresses_passes_with_accounts_or_when_not_listening() -> None:
    public = replace(GOOD, listen=("8477",))
    assert _status(compliance.report(public))["api-exposure"] == "pass"  # accounts: the API needs a login
    assert _status(compliance.report(replace(public, web_roles={}, web_listening=False)))["api-exposure"] == "pass"


def test_plaintext_credentials_come_from_the_schema_hints(load_config: Callable[..., Any]) -> None:
    config = load_config("""\
        alerts:
          channels:
            - {name: hook, type: slack, webhook_url: "https://hooks.slack.com/services/T0/B0/XYZ"}
            - {name: pd, type: pagerduty, routing_key: "${env:PD_KEY}"}
            - {name: am, type: alertmanager, url: "http://am:9093", headers: {Authorization: "Bearer abc"}}
        """)
    assert compliance.plaintext_credentials(config.channels) == ["hook.webhook_url", "am.headers"]


def test_cli_compliance_formats(cli: Cli, runner: FakeRunner, live_config: Path) -> None:
    runner.on(["systemd-analyze", "security"], stdout=TEXT)
    result = cli("compliance", "report", "--format", "json")
    doc = json.loads(result.out)
    _validate(doc)
    assert result.code == 1  # db runs as root under sandbox minimal
    assert _status(doc)["checks-sandboxed"] == "fail" and _status(doc)["least-privilege"] == "fail"
    assert {"name": "db", "profile": "minimal", "root": True, "exposure": 9.4, "level": "UNSAFE"} in doc["checks"]
    text = cli("compliance", "report").out
    assert "[FAIL] checks-sandboxed:" in text and "    db: sandbox minimal, exposure 9.4 UNSAFE" in text
    page = cli("compliance", "report", "--format", "html").out
    assert page.startswith("<!doctype html>") and "A.8.15 Logging" in page and "<script" not in page


def test_the_web_reads_audit_records_as_the_cli_does() -> None:
    from bamon.web.api_history import audit_json

    record = {"__REALTIME_TIMESTAMP": "1795000000000000", "BAMON_AUDIT_ACTION": "remove", "BAMON_CHECK": "web",
              "BAMON_AUDIT_USER": "alice", "BAMON_AUDIT_BEFORE": "name: web\n", "MESSAGE": "bamon remove web by alice"}
    assert audit_json(record) == {"time": 1795000000.0, "action": "remove", "check": "web", "user": "alice",
                                  "via": "cli", "before": "name: web\n", "after": None,
                                  "message": "bamon remove web by alice"}
    assert audit_json({})["time"] is None and audit_json({})["check"] is None


def test_audit_verify_reports_files_and_refusals(cli: Cli, live_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        "good": (True, ["PASS: /var/log/journal/m/system@1.journal", "PASS: /var/log/journal/m/system.journal"]),
        "bad": (False, ["PASS: /var/log/journal/m/system.journal",
                        "FAIL: /var/log/journal/m/system@1.journal (Bad message)"]),
        "nokey": (False, ["Failed to parse seed."]),
    }
    monkeypatch.setattr(Journal, "verify", lambda self, key: answers[key])
    result = cli("audit", "verify", "--key", "good")
    assert result.code == 0 and "2 journal file(s) passed, 0 failed: hashes and seals" in result.out
    result = cli("audit", "verify", "--key", "bad")
    assert result.code == 1 and "1 journal file(s) passed, 1 failed" in result.out
    assert "journal verification failed (1 file(s))" in result.err
    refused = cli("audit", "verify", "--key", "nokey")
    assert refused.code == 1 and "journalctl --verify: Failed to parse seed." in refused.err
    assert "the whole line `bamon audit seal` printed" in refused.err
    doc = json.loads(cli("audit", "verify", "--key", "bad", "--json").out)
    assert doc["files"][1] == {"file": "/var/log/journal/m/system@1.journal", "result": "FAIL", "detail": "Bad message"}
