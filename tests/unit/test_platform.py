"""Without systemd (macOS), bamon runs what works there and names it when refusing the rest."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import CliResult

CONFIG = "scripts:\n  - {name: mac_ok, command: 'echo fine'}\n"


@pytest.fixture
def mac(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(sys, "platform", "darwin")
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    return config


def test_commands_that_need_systemd_say_so_and_name_those_that_work(
        mac: Path, cli: Callable[..., CliResult]) -> None:
    for argv in (["status"], ["add", "x", "-c", "true"], ["now"], ["config", "edit"]):
        result = cli("--config", str(mac), *argv)
        assert result.code == 1
        assert "needs systemd" in result.err
        assert "bamon config validate" in result.err and "bamon now --local" in result.err


def test_what_works_without_systemd_runs(mac: Path, cli: Callable[..., CliResult]) -> None:
    assert cli("--config", str(mac), "config", "validate").code == 0
    local = cli("--config", str(mac), "now", "--local", "--json")
    assert local.code == 0 and "fine" in local.out
    assert "complete -F _bamon bamon" in cli("completions", "bash").out


def test_linux_is_unaffected(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    assert "needs systemd" not in cli("--config", str(config), "list").err
