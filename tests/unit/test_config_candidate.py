"""`bamon config validate --candidate FILE --target PATH`: the config as it would be with FILE in
place of PATH (config.yaml or a scripts.d entry, new or replacing one), so a config-management
tool (Ansible's validate:) refuses a file before writing it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import WriteConfig

MAIN = 'scripts:\n  - {name: a, command: "true"}\n'


@pytest.fixture
def config(write_config: WriteConfig) -> Path:
    return write_config(MAIN, {"b": 'name: b\ncommand: "true"\ninterval: 5s\n'})


def candidate(tmp_path: Path, text: str) -> str:
    path = tmp_path / "candidate.tmp"  # Ansible's temporary file: no .yaml, elsewhere
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("text", "target", "code", "says"), [
    ('name: b\ncommand: "true"\ninterval: 7s\n', "scripts.d/b.yaml", 0, "config OK: 2 script(s)"),  # replaces b
    ('name: c\ncommand: "true"\n', "scripts.d/c.yaml", 0, "config OK: 3 script(s)"),  # a new entry
    ('name: a\ncommand: "true"\n', "scripts.d/c.yaml", 1, "a script named 'a' already exists"),
    ('name: b\ncommand: "true"\n', "scripts.d/c.yaml", 1, "a script named 'b' already exists"),
    ('name: c\ncommand: 3\n', "scripts.d/c.yaml", 1, "command: 3 is not text"),
    ('daemon: {max_concurrent: 0}\n', "config.yaml", 1, "max_concurrent"),
    ('scripts:\n  - {name: z, command: "true"}\n', "config.yaml", 0, "config OK: 2 script(s)"),  # z and b
])
def test_candidate_is_validated_in_place_of_its_target(cli: Any, config: Path, tmp_path: Path, text: str,
                                                       target: str, code: int, says: str) -> None:
    result = cli("--config", str(config), "config", "validate", "--candidate", candidate(tmp_path, text),
                 "--target", str(config.parent / target))
    assert result.code == code and says in result.out + result.err, result.out + result.err
    assert config.read_text() == MAIN  # nothing written


def test_target_defaults_to_config_yaml_and_must_be_one_of_its_files(cli: Any, config: Path, tmp_path: Path) -> None:
    ok = cli("--config", str(config), "config", "validate", "--candidate", candidate(tmp_path, "scripts: []\n"))
    assert ok.code == 0 and "config OK: 1 script(s)" in ok.out
    elsewhere = cli("--config", str(config), "config", "validate", "--candidate", candidate(tmp_path, MAIN),
                    "--target", "/etc/passwd")
    assert elsewhere.code != 0 and "--target /etc/passwd is neither" in elsewhere.err and "hint:" in elsewhere.err
    alone = cli("--config", str(config), "config", "validate", "--target", str(config))
    assert alone.code != 0 and "--target needs --candidate FILE" in alone.err
    missing = cli("--config", str(config), "config", "validate", "--candidate", str(tmp_path / "none"))
    assert missing.code != 0 and "no such file" in missing.err
