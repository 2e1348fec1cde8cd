"""The vendors' own schemas the unit tier validates against, not transcriptions of them. They
are fetched, pinned by sha256, into .tools/ by dev/fetch-test-tools (dev/install-deps runs it):

- the JUnit schema of Jenkins' xUnit plugin (junit-10.xsd, MIT), from the pytest sdist, whose
  own tests check pytest's JUnit reports against it;
- SchemaStore's GitHub Actions action metadata schema (github-action.json) and GitLab's CI
  schema (gitlab-ci.json, from GitLab's repository), as the check-jsonschema wheel vendors them.

A missing file fails the test that needs it, with the command that fetches it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

TOOLS = Path(__file__).resolve().parents[2] / ".tools"
JUNIT_XSD = TOOLS / "pytest-7.2.1" / "testing" / "example_scripts" / "junit-10.xsd"
VENDORED = TOOLS / "check_jsonschema" / "builtin_schemas" / "vendor"


def _fetched(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path.name} is missing from .tools/: run dev/fetch-test-tools (dev/install-deps does)",
                    pytrace=False)
    return path


@cache
def junit() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_fetched(JUNIT_XSD))))


@cache
def _json(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_fetched(VENDORED / name).read_text())
    return schema


def action() -> dict[str, Any]:
    return _json("github-actions.json")


def gitlab_ci() -> dict[str, Any]:
    return _json("gitlab-ci.json")
