"""units/hardening.py: who a check runs as and what each profile and per-check key adds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_render import TARGET, _settings

from bamon.config.model import Config
from bamon.units import hardening
from bamon.units.render import Target, service_unit

FILTER = "~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap syslog"

if TYPE_CHECKING:
    from conftest import CliResult

LoadConfig = Callable[..., Config]
Cli = Callable[..., "CliResult"]
WriteConfig = Callable[..., Path]
USER_MODE = Target(user_mode=True, run_check=TARGET.run_check)


def units(load_config: LoadConfig, yaml: str, target: Target = TARGET) -> dict[str, dict[str, list[str]]]:
    config = load_config(yaml)
    assert config.errors == ()
    return {s.name: _settings(service_unit(s, target)) for s in config.scripts}


def test_balanced_is_the_default_and_runs_as_bamon_without_capabilities(load_config: LoadConfig) -> None:
    unit = units(load_config, "scripts:\n  - {name: a, command: x}\n")["a"]
    assert unit["User"] == ["bamon"] and unit["CapabilityBoundingSet"] == [""]
    assert unit["SystemCallFilter"] == [FILTER, "~@privileged @resources"]
    assert unit["StateDirectory"] == ["bamon/checks/a"]  # created owned by bamon, so run-check can write
    # no mount namespace: that is strict's, and where the cost is
    for key in ("PrivateTmp", "ProtectSystem", "ProtectHome", "PrivateDevices", "ReadWritePaths"):
        assert key not in unit, key


def test_who_runs_a_check(load_config: LoadConfig) -> None:
    config = load_config("""\
        sandbox: {user: nobody}
        scripts:
          - {name: global_default, command: x}
          - {name: own, command: x, user: root}
          - {name: minimal, command: x, sandbox: minimal}
        """)
    run_as = {s.name: hardening.run_as(s, user_mode=False) for s in config.scripts}
    assert run_as == {"global_default": "nobody", "own": "root", "minimal": "nobody"}
    plain = load_config("scripts:\n  - {name: a, command: x}\n  - {name: m, command: x, sandbox: minimal}\n")
    assert [hardening.run_as(s, user_mode=False) for s in plain.scripts] == ["bamon", None]
    assert [hardening.run_as(s, user_mode=True) for s in plain.scripts] == [None, None]


def test_root_keeps_observing_capabilities_and_the_privileged_calls(load_config: LoadConfig) -> None:
    unit = units(load_config, "scripts:\n  - {name: r, command: x, user: root, capabilities: [CAP_KILL]}\n")["r"]
    assert "User" not in unit
    (bounding,) = unit["CapabilityBoundingSet"]
    assert bounding.startswith("~") and "CAP_SYS_ADMIN" in bounding
    assert "CAP_DAC_READ_SEARCH" not in bounding and "CAP_KILL" not in bounding  # asked for: kept
    assert unit["SystemCallFilter"] == [FILTER]


def test_capabilities_of_an_unprivileged_check_are_ambient(load_config: LoadConfig) -> None:
    unit = units(load_config, "scripts:\n  - {name: p, command: ping -c1 ::1, capabilities: [CAP_NET_RAW]}\n")["p"]
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_RAW"] and unit["AmbientCapabilities"] == ["CAP_NET_RAW"]


@pytest.mark.parametrize(("network", "expected"), [
    ("any", {"RestrictAddressFamilies": [hardening.INET_FAMILIES]}),
    ("localhost", {"IPAddressDeny": ["any"], "IPAddressAllow": ["localhost"]}),
    ("none", {"PrivateNetwork": ["yes"], "RestrictAddressFamilies": ["AF_UNIX"],
              "Environment": ["BAMON_NETWORK=none"]}),
])
def test_network(load_config: LoadConfig, network: str, expected: dict[str, list[str]]) -> None:
    unit = units(load_config, f"scripts:\n  - {{name: n, command: x, network: {network}}}\n")["n"]
    for key, value in expected.items():
        # (every unit also names bamon.slice's cgroup for run-check, and `x` is plain words)
        found = ([v for v in unit[key] if not v.startswith(('"BAMON_SLICE=', '"BAMON_INLINE='))]
                 if key == "Environment" else unit[key])
        assert found == value, key
    if network != "localhost":
        assert "IPAddressDeny" not in unit


def test_minimal_stays_free_unless_a_key_asks(load_config: LoadConfig) -> None:
    config = """\
        scripts:
          - {name: free, command: x, sandbox: minimal}
          - {name: offline, command: x, sandbox: minimal, network: none}
        """
    found = units(load_config, config)
    assert "RestrictAddressFamilies" not in found["free"] and "CapabilityBoundingSet" not in found["free"]
    assert found["offline"]["PrivateNetwork"] == ["yes"]


def test_read_write_paths_only_punch_holes_in_strict(load_config: LoadConfig) -> None:
    config = """\
        scripts:
          - {name: s, command: x, sandbox: strict, read_write_paths: [/srv/a, /var/50%]}
          - {name: b, command: x, read_write_paths: [/srv/a]}
        """
    found = units(load_config, config)
    assert found["s"]["ReadWritePaths"] == ["/srv/a /var/50%%"]
    assert "ReadWritePaths" not in found["b"]  # nothing is read-only there: no mount namespace for it


def test_user_mode_sets_no_user_and_no_capabilities(load_config: LoadConfig) -> None:
    config = "scripts:\n  - {name: u, command: x, sandbox: strict, capabilities: [CAP_NET_RAW]}\n"
    unit = units(load_config, config, USER_MODE)["u"]
    for key in ("User", "CapabilityBoundingSet", "AmbientCapabilities", "PrivateDevices"):
        assert key not in unit, key
    # the seccomp deny list is for a user that may not use those calls; a user manager's own user may
    assert unit["SystemCallFilter"] == [FILTER]


@pytest.mark.parametrize(("entry", "path", "hint"), [
    ("network: off", "scripts[0].network", "any, localhost or none"),
    ("capabilities: [NET_RAW]", "scripts[0].capabilities[0]", "capabilities(7)"),
    ("read_write_paths: [relative/path]", "scripts[0].read_write_paths[0]", "absolute paths"),
    ("read_write_paths: ['/with space']", "scripts[0].read_write_paths[0]", "absolute paths"),
    ("sandbox: paranoid", "scripts[0].sandbox", "minimal, balanced or strict"),
    ("user: Root", "scripts[0].user", "user name"),
])
def test_invalid_sandbox_keys_are_located_and_hinted(load_config: LoadConfig, entry: str, path: str,
                                                     hint: str) -> None:
    config = load_config(f"scripts:\n  - name: a\n    command: x\n    {entry}\n")
    (issue,) = config.errors
    assert issue.path == path and issue.line == 4 and hint in issue.hint


def test_why_root_names_the_reason_and_the_price(load_config: LoadConfig, tmp_path: Path) -> None:
    config = load_config("""\
        scripts:
          - {name: default, command: x}
          - {name: asked, command: x, user: root}
          - {name: cheap, command: x, sandbox: minimal}
        """)
    why = {s.name: hardening.why_root(s, user_mode=False) for s in config.scripts}
    assert why["default"] is None
    assert why["asked"] is not None and "(user: root)" in why["asked"] and "4.3 instead of 3.4" in why["asked"]
    assert why["cheap"] is not None and "sandbox minimal" in why["cheap"]
    assert all(hardening.why_root(s, user_mode=True) is None for s in config.scripts if s.name != "asked")


def test_config_validate_lists_root_checks_and_who_runs_what(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts:\n  - {name: site, command: x}\n  - {name: backup, command: x, user: root}\n")
    result = cli("--config", str(config), "config", "validate", "--run-as")
    assert result.code == 0  # running as root is allowed; the note tells its price
    assert "backup.user: runs as root (user: root)" in result.err and "site.user" not in result.err
    assert "runs as bamon: site (balanced)" in result.out and "runs as root: backup (balanced)" in result.out


def test_apply_warns_when_the_check_user_does_not_exist(load_config: LoadConfig, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A pip install has no sysusers.d: every balanced check would fail with 217/USER, so say it."""
    from types import SimpleNamespace

    from bamon.cli import apply

    config = load_config("scripts:\n  - {name: a, command: x}\n  - {name: b, command: x, sandbox: minimal}\n")

    def getpwnam(name: str) -> object:
        raise KeyError(name)

    monkeypatch.setattr(apply.pwd, "getpwnam", getpwnam)
    apply._missing_users(SimpleNamespace(config=lambda: config, user_mode=False))  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "user 'bamon' does not exist" in err and "useradd --system" in err
