"""`bamon now --local --junit FILE`: a JUnit report valid against Jenkins' JUnit XSD, check
selection by --name/--tag, and the exit status a pipeline gates on (--fail-on)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import vendor_schemas
from lxml import etree

if TYPE_CHECKING:
    from conftest import CliResult, WriteConfig

Cli = Callable[..., "CliResult"]
CONFIG = """\
scripts:
  - {name: api, command: "echo up", interval: 60, tags: [web], severity: critical}
  - {name: disk, command: "printf 'bad\\\\001 <&> ü\\\\n' >&2; exit 2", interval: 60, tags: [host]}
  - {name: cache, command: "echo warm", interval: 60, tags: [web]}
"""


def run(cli: Cli, write_config: WriteConfig, tmp_path: Path, *args: str) -> tuple[CliResult, etree._Element]:
    config = write_config(CONFIG)
    report = tmp_path / "out" / "junit.xml"
    result = cli("--config", str(config), "now", "--local", "--junit", str(report), *args)
    document = etree.parse(str(report))
    vendor_schemas.junit().assertValid(document)
    return result, document.getroot()


def test_report_is_valid_junit_with_one_case_per_check(cli: Cli, write_config: WriteConfig, tmp_path: Path) -> None:
    result, root = run(cli, write_config, tmp_path)
    assert result.code == 1  # disk failed
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"api", "disk", "cache"} and cases["api"].get("classname") == "bamon.web"
    failure = cases["disk"].find("failure")
    assert failure is not None and failure.get("type") == "exit-code"
    assert failure.get("message", "").startswith("Exit code 2: bad\ufffd <&> ü")  # control byte replaced
    assert cases["api"].find("failure") is None and cases["api"].findtext("system-out") == "up"


def test_tag_and_name_select_checks(cli: Cli, write_config: WriteConfig, tmp_path: Path) -> None:
    result, root = run(cli, write_config, tmp_path, "--tag", "web")
    assert result.code == 0 and sorted(c.get("name", "") for c in root.iter("testcase")) == ["api", "cache"]
    result, root = run(cli, write_config, tmp_path, "--name", "disk")
    assert result.code == 1 and [c.get("name") for c in root.iter("testcase")] == ["disk"]


@pytest.mark.parametrize(("fail_on", "code"), [("info", 1), ("warning", 1), ("critical", 0)])
def test_fail_on_gates_by_severity(cli: Cli, write_config: WriteConfig, tmp_path: Path, fail_on: str,
                                   code: int) -> None:
    result, _ = run(cli, write_config, tmp_path, "--fail-on", fail_on)  # disk is a failing warning
    assert result.code == code, result.err
