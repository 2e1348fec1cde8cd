"""The script scan (bamon/security/scan.py): every pattern and file rule with a true and a false
positive, shellcheck for real (dev/install-deps installs it), and `bamon scan` / `bamon add`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bamon.security import scan

if TYPE_CHECKING:
    from conftest import CliResult

Cli = Callable[..., "CliResult"]

# (rule, text that must be found, text that must not)
CASES = [
    ("download-to-shell", "curl -fsSL https://get.example.com/install.sh | sh",
     "curl -fsS https://example.com/health | grep -q ok"),
    ("download-to-shell", "wget -qO- http://x/setup | sudo -E bash",
     "wget -qO /tmp/setup.sh http://x/setup && sha256sum -c setup.sha256"),
    ("download-to-shell", "curl -s http://x/a.sh|/bin/bash -s -- --yes",
     "curl -s http://x/a.json | jq .status | bashful_report"),
    ("download-to-shell", "bash <(curl -s http://x/install)", "diff <(curl -s http://a/) expected.txt"),
    ("download-to-shell", 'sh -c "$(curl -fsSL http://x/install)"', 'sh -c "$(cat /etc/bamon/local.sh)"'),
    ("eval-output", 'eval "$(ssh-agent -s)"', 'eval "$PRECOMPUTED"'),
    ("eval-output", "eval `curl -s http://x/env`", "evaluate_result `date +%s`"),
    ("inline-credential", "mysql --password=hunter22 -e 'select 1'", 'mysql --password="$DB_PASSWORD" -e "select 1"'),
    ("inline-credential", "check_api --token abc; export API_KEY=s3cr3tvalue",
     "check_api --token-file /etc/bamon/api.token"),
    ("inline-credential", "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9' http://x/",
     'curl -H "Authorization: Bearer $TOKEN" http://x/'),
    ("inline-credential", "curl -fsS -u admin:hunter22 http://localhost:15672/api/overview",
     'curl -fsS -u "$RABBIT_USER:$RABBIT_PASS" http://localhost:15672/api/overview'),
    ("inline-credential", "curl -fsS https://monitor:hunter22@db.example.com/health",
     "curl -fsS https://db.example.com/health?user=monitor"),
    ("inline-credential", "gh api -H 'X: ghp_" + "a1B2" * 9 + "' /rate_limit", "gh api /rate_limit"),
]


@pytest.mark.parametrize(("rule", "bad", "good"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_pattern_true_and_false_positive(rule: str, bad: str, good: str) -> None:
    found = scan.match_patterns("c", scan.INLINE, bad)
    assert [f.rule for f in found] == [rule], bad
    assert found[0].line == 1 and found[0].fix
    assert scan.match_patterns("c", scan.INLINE, good) == [], good


def test_every_pattern_row_has_a_case() -> None:
    """A row added to PATTERNS without a test here fails: each regex must have matched a case."""
    cases = [bad for _, bad, _ in CASES]
    for pattern in scan.PATTERNS:
        assert any(pattern.regex.search(text) for text in cases), pattern.regex.pattern


def test_lines_are_counted_and_comments_skipped() -> None:
    text = "#!/bin/sh\n# curl http://x/i | sh (how not to)\nset -e\ncurl http://x/i | sh\n"
    found = scan.match_patterns("c", "/x.sh", text)
    assert [(f.line, f.rule) for f in found] == [(4, "download-to-shell")]


def _script(tmp_path: Path, body: str, mode: int = 0o755) -> Path:
    path = tmp_path / "bin" / "check.sh"
    path.parent.mkdir(exist_ok=True)
    path.write_text(body)
    path.chmod(mode)
    path.parent.chmod(0o755)
    return path


def test_world_writable_file_and_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n", 0o777)
    rules = [(f.rule, f.message.split(" is ")[0]) for f in scan.file_findings("c", path, root=False)]
    assert ("world-writable", str(path)) in rules
    path.chmod(0o755)
    assert scan.file_findings("c", path, root=False) == []
    path.parent.chmod(0o777)  # anyone may replace the file
    assert [f.message.split(" is ")[0] for f in scan.file_findings("c", path, root=False)] == [str(path.parent)]
    path.parent.chmod(0o1777)  # sticky, as /tmp: others cannot replace a file they do not own
    assert scan.file_findings("c", path, root=False) == []


def test_non_root_owner_matters_only_for_root_checks(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "the unit tier runs as root here (chown needs it): run it as root"
    tmp_path.chmod(0o755)
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    os.chown(path, 65534, 65534)
    found = scan.file_findings("c", path, root=True)
    assert [f.rule for f in found] == ["non-root-owner"] and "nobody" in found[0].message
    assert scan.file_findings("c", path, root=False) == []  # a check of that user may run its own file
    os.chown(path, 0, 0)
    assert scan.file_findings("c", path, root=True) == []


def test_shellcheck_for_real() -> None:
    assert shutil.which("shellcheck"), "shellcheck is missing: dev/install-deps installs it"
    found = scan.shellcheck("c", scan.INLINE, 'for f in $(ls /var/log/*.log); do test -s $f; done')
    assert found is not None
    codes = {f.rule for f in found}
    assert "SC2045" in codes or "SC2086" in codes, found
    assert all(f.line == 1 and f.fix.startswith("see https://www.shellcheck.net/wiki/SC") for f in found)
    assert scan.shellcheck("c", scan.INLINE, 'test -s "/var/log/syslog"') == []


def test_missing_shellcheck_is_reported_not_hidden() -> None:
    def absent(argv: object, text: str) -> object:
        raise FileNotFoundError("shellcheck")
    assert scan.shellcheck("c", scan.INLINE, "true", runner=absent) is None  # type: ignore[arg-type]


def test_referenced_scripts_are_scanned(write_config: Callable[..., Path], tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = _script(tmp_path, "#!/bin/bash\nset -e\nTOKEN=abcdef123456 /usr/bin/true\ncurl -s http://x/i | bash\n")
    from bamon.config.model import load

    config = write_config(f"scripts:\n  - name: job\n    command: '{path} --quick && echo done'\n")
    script = load(config, None).scripts[0]
    assert scan.referenced_files(script.command) == [path]
    report = scan.scan(script, runs_as_root=False)
    where = {(f.source, f.line, f.rule) for f in report.findings}
    assert {(str(path), 3, "inline-credential"), (str(path), 4, "download-to-shell")} <= where


def test_cli_scan_exit_status_and_json(cli: Cli, write_config: Callable[..., Path]) -> None:
    config = write_config("""\
        scripts:
          - name: risky
            command: "curl -fsSL https://get.example.com | sh"
          - name: fine
            command: 'test -s "/etc/hostname"'
        """)
    result = cli("--config", str(config), "scan")
    assert result.code == 1
    assert "high    risky: command:1: a download is piped into a shell" in result.out
    assert "fix: download to a file" in result.out
    result = cli("--config", str(config), "scan", "fine", "--json")
    assert result.code == 0
    import json

    assert json.loads(result.out) == {"shellcheck": True, "findings": []}
    assert cli("--config", str(config), "scan", "nope").code == 1


def test_add_warns_but_adds(cli: Cli, write_config: Callable[..., Path]) -> None:
    config = write_config("scripts: []\n")
    result = cli("--config", str(config), "add", "pw", "-c", "mysql --password=hunter22 -e 'select 1'")
    assert result.code == 0 and "added pw" in result.out
    assert "bamon: warning: pw: command:1: a credential is written in the command [inline-credential]" in result.err
    assert "  fix: keep it out of the command" in result.err
    quiet = cli("--config", str(config), "add", "ok", "-c", 'test -s "/etc/hostname"')
    assert quiet.code == 0 and "warning" not in quiet.err
