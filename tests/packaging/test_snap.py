"""snap/snapcraft.yaml: valid against snapcraft's published schema, classic, in step with bamon."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging_support import REPO, TOOLS

from bamon import __version__

SCHEMA = TOOLS / "snapcraft-4.8.1" / "schema" / "snapcraft.json"  # from the snapcraft sdist on PyPI


@pytest.fixture(scope="module")
def snap() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "snap" / "snapcraft.yaml").read_text())
    return data


def test_valid_against_snapcrafts_schema(snap: dict[str, Any]) -> None:
    if not SCHEMA.is_file():
        pytest.fail(f"{SCHEMA} missing: run dev/fetch-test-tools", pytrace=False)
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(snap), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_classic_with_bundled_python_in_step_with_bamon(snap: dict[str, Any]) -> None:
    assert snap["confinement"] == "classic"
    assert snap["version"] == __version__
    part = snap["parts"]["bamon"]
    assert part["plugin"] == "python" and part["source"] == "."
    assert "dev/build-extras" in part["override-build"]
    assert snap["apps"]["bamon"]["completer"] == "share/bamon/completions/bamon.bash"


def test_refresh_hook_reapplies_units() -> None:
    hook = REPO / "snap" / "hooks" / "post-refresh"
    assert os.access(hook, os.X_OK)
    assert "bamon\" apply" in hook.read_text()


def test_apply_is_documented() -> None:
    assert "sudo bamon apply" in (REPO / "snap" / "snapcraft.yaml").read_text()
    assert Path(REPO / "dev" / "build-extras").is_file()
