"""Shared fixtures for the unit tier: tmp configs, a fake systemctl runner, a journal sink, the CLI.

The unit tier needs no root and no running systemd. External systems are replaced at exactly
one seam each: `bamon.systemd.Systemd(runner=...)` for systemctl/systemd-analyze and
`bamon.journal.Journal(sink=...)` for journald writes.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bamon import paths as bamon_paths
from bamon.cli import main as cli_main
from bamon.cli.context import Context
from bamon.config.model import Config, load
from bamon.journal import Journal
from bamon.systemd import Systemd

Rule = tuple[Callable[[Sequence[str]], bool], str, int]


@dataclass
class FakeRunner:
    """Stands in for subprocess at the Systemd seam: answers by rule, records every call."""

    rules: list[Rule] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)
    # called with each argv before it is answered: what else happens on the host meanwhile
    meanwhile: list[Callable[[Sequence[str]], None]] = field(default_factory=list)

    def on(self, prefix: Sequence[str], stdout: str = "", returncode: int = 0) -> FakeRunner:
        """Answer commands whose argv starts with `prefix` (later rules win)."""
        wanted = list(prefix)
        self.rules.insert(0, (lambda argv: list(argv[: len(wanted)]) == wanted, stdout, returncode))
        return self

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        for happen in self.meanwhile:
            happen(argv)
        for matches, stdout, returncode in self.rules:
            if matches(argv):
                return subprocess.CompletedProcess(list(argv), returncode, stdout, "")
        return subprocess.CompletedProcess(list(argv), 0, "", "")


@dataclass
class JournalSink:
    """Collects what would have been sent to journald."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **fields: Any) -> None:
        self.entries.append(fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the caller's bamon config, home directory, sudo user or terminal colours."""
    home = tmp_path_factory.mktemp("home")
    for name in ("BAMON_CONFIG", "BAMON_CONFIG_FILE", "SUDO_USER", "XDG_CONFIG_HOME", "XDG_STATE_HOME",
                 "SYSTEMD_SCOPE", "INVOCATION_ID", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


WriteConfig = Callable[..., Path]
LoadConfig = Callable[..., Config]


def required_tool(name: str, package: str) -> str:
    """A tool the tests run for real. dev/install-deps installs it: a missing one fails, never skips."""
    import shutil

    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: install the Debian package {package} (dev/install-deps)", pytrace=False)
    return found


@pytest.fixture
def promtool() -> str:
    """Prometheus' own checker."""
    return required_tool("promtool", "prometheus")


@pytest.fixture
def amtool() -> str:
    """Alertmanager's own checker and route tester."""
    return required_tool("amtool", "prometheus-alertmanager")


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """write_config(text, scripts_d={NAME: text}) -> tmp config.yaml (texts are dedented)."""

    def write(text: str, scripts_d: dict[str, str] | None = None) -> Path:
        config = tmp_path / "config.yaml"
        config.write_text(textwrap.dedent(text), encoding="utf-8")
        for name, body in (scripts_d or {}).items():
            (tmp_path / "scripts.d").mkdir(exist_ok=True)
            (tmp_path / "scripts.d" / f"{name}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
        return config

    return write


@pytest.fixture
def load_config(write_config: WriteConfig) -> LoadConfig:
    """load_config(text, scripts_d=…) -> Config, loaded the way every bamon command loads it."""

    def load_text(text: str, scripts_d: dict[str, str] | None = None) -> Config:
        config = write_config(text, scripts_d)
        return load(config, config.parent / "scripts.d")

    return load_text


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def sink() -> JournalSink:
    return JournalSink()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], runner: FakeRunner,
        sink: JournalSink) -> Callable[..., CliResult]:
    """Run `bamon ARGS…` in-process with the fake runner and journal sink; never a traceback."""
    monkeypatch.setattr(Context, "systemd", property(lambda self: Systemd(self.user_mode, runner=runner)))
    monkeypatch.setattr(Context, "journal", property(lambda self: Journal(self.user_mode, sink=sink)))

    def run(*argv: str) -> CliResult:
        try:
            code = cli_main.main(list(argv))
        except SystemExit as exc:  # argparse: --help, --version and usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return CliResult(code, out, err)

    return run


Runs = dict[str, tuple[str, str, int, int, float, int]]


FakeChecks = Callable[[Path, Runs, dict[str, list[str]], Sequence[str], int], None]


@pytest.fixture
def fake_checks(monkeypatch: pytest.MonkeyPatch, runner: FakeRunner) -> FakeChecks:
    """fake_checks(state dir, runs, output, timers, now_us): what `bamon status` reads at its
    three seams — `last` files, unit states, output lines.

    runs: {name: (invocation, result, exit status, seconds ago, duration in s, failures)}.
    """
    return lambda *args: _fake_checks(monkeypatch, runner, *args)


def _fake_checks(monkeypatch: pytest.MonkeyPatch, runner: FakeRunner, state: Path, runs: Runs,
                 output: dict[str, list[str]], timers: Sequence[str], now_us: int) -> None:
    monkeypatch.setattr(bamon_paths, "SYSTEM_STATE", state)
    for name, (inv, result, status, ago, duration, failures) in runs.items():
        start = now_us - ago * 1_000_000
        last = state / "checks" / name / "last"
        last.parent.mkdir(parents=True)
        last.write_text(f"{inv} {result} {status} {start} {start + int(duration * 1e6)} {failures}\n")
    # records.outputs() reads a check's lines by its syslog identifier, up to the run's record line
    invocations = {f"SYSLOG_IDENTIFIER=bamon-{name}": run[0] for name, run in runs.items()}

    def messages(self: Journal, queries: Sequence[tuple[Sequence[str], int, int]]) -> list[list[str]]:
        found = []
        for matches, _, _ in queries:
            inv = invocations.get(matches[0], "")
            found.append([*output.get(inv, []), f"bamon-run result=success invocation={inv}"])
        return found
    monkeypatch.setattr(Journal, "messages", messages)
    runner.on(["systemctl", "list-units"], stdout="".join(
        f"bamon-{n}.timer loaded active waiting bamon timer for check {n}\n" for n in timers))
