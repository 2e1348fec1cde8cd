"""Config versions: a real git repository in a temporary state directory (git is no external
system to fake: it is the store), systemd faked at its one seam. The live config is a temporary
directory too (paths.SYSTEM_CONFIG), so commands version and reload as on a real host."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bamon import paths as bamon_paths
from bamon.versions import Store
from tests.unit.conftest import CliResult, FakeRunner

Cli = Callable[..., CliResult]

CONFIG = "# the operator's comment\nscripts:\n  - {name: disk, command: 'df -h /', interval: 60}\n"


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """/etc/bamon/config.yaml and /var/lib/bamon, in tmp_path: the config systemd runs."""
    config = tmp_path / "etc" / "config.yaml"
    config.parent.mkdir()
    config.write_text(CONFIG)
    monkeypatch.setattr(bamon_paths, "SYSTEM_CONFIG", config)
    monkeypatch.setattr(bamon_paths, "SYSTEM_STATE", tmp_path / "state")
    monkeypatch.setattr(bamon_paths, "RUNTIME_UNITS", tmp_path / "run-units")
    monkeypatch.setenv("SUDO_USER", "alice")
    return config


def _store(live: Path) -> Store:
    return Store(live.parent.parent / "state" / "config-versions", live.parent, "config.yaml")


def _reloads(runner: FakeRunner) -> int:
    return sum(call[:2] == ["systemctl", "daemon-reload"] for call in runner.calls)


def test_every_change_is_a_version_with_who_and_what(cli: Cli, live: Path) -> None:
    assert cli("add", "web", "-c", "curl -f http://localhost/", "-i", "30s").code == 0
    assert cli("disable", "web").code == 0
    assert cli("template", "create", "--from-template", "memory", "--name", "mem").code == 0
    live.write_text(CONFIG + "  - {name: by_hand, command: 'true'}\n")  # a hand edit, picked up by the next change
    assert cli("remove", "-f", "web").code == 0
    history = json.loads(cli("config", "history", "--json").out)["versions"]
    assert [(v["version"], v["action"], v["check"], v["user"], v["via"]) for v in history] == [
        (1, "initial", None, "alice", "hand edit"), (2, "add", "web", "alice", "cli"),
        (3, "disable", "web", "alice", "cli"), (4, "add", "mem", "alice", "cli"),
        (5, "hand-edit", None, "alice", "hand edit"), (6, "remove", "web", "alice", "cli")]
    assert history[1]["files"] == ["scripts.d/web.yaml"] and history[4]["files"] == ["config.yaml"]
    diff = cli("config", "diff", "2", "3").out
    assert "+enabled: false" in diff and "scripts.d/web.yaml" in diff
    table = cli("config", "history").out
    assert "add web" in table and "hand-edit" in table


def test_ten_changes_give_ten_versions(cli: Cli, live: Path) -> None:
    for index in range(10):
        assert cli("add", f"c{index}", "-c", f"echo {index}").code == 0
    versions = _store(live).history()
    assert len(versions) == 11 and versions[0].action == "initial"  # the files as found, then ten changes
    assert [v.check for v in versions[1:]] == [f"c{i}" for i in range(10)]


def test_rollback_restores_every_byte_and_reloads(cli: Cli, live: Path, runner: FakeRunner) -> None:
    (live.parent / "scripts.d").mkdir()
    odd = b"name: odd\ncommand: \"printf '%s\\\\n' \xc3\xa9 $HOME\"   # keep me\r\n\n\n"
    (live.parent / "scripts.d" / "odd.yaml").write_bytes(odd)
    assert cli("add", "one", "-c", "true").code == 0  # versions 1 (the files as found) and 2
    before = {p: p.read_bytes() for p in live.parent.rglob("*.yaml")}
    assert cli("add", "two", "-c", "true").code == 0
    live.write_text("scripts: []\n")
    (live.parent / "scripts.d" / "odd.yaml").unlink()
    runner.calls.clear()
    result = cli("config", "rollback", "2", "--yes")
    assert result.code == 0, result.err
    assert {p: p.read_bytes() for p in live.parent.rglob("*.yaml")} == before  # two.yaml is gone again
    assert _reloads(runner) == 1
    history = _store(live).history()
    assert (history[-1].action, history[-1].summary) == ("config-rollback", "config-rollback to version 2 by alice")
    assert history[-2].action == "hand-edit"  # the hand edit before it was kept, so it can be undone too
    assert cli("config", "diff", "2", str(history[-1].number)).out.startswith("no difference")


def test_rollback_to_a_version_the_schema_now_rejects_is_refused(cli: Cli, live: Path, runner: FakeRunner) -> None:
    live.write_text("daemon: {default_interval: 60, colour: blue}\nscripts: []\n")
    assert cli("apply").code == 0  # apply applies what is valid and keeps the files as a version
    live.write_text(CONFIG)
    assert cli("apply").code == 0
    runner.calls.clear()
    result = cli("config", "rollback", "1", "--yes")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"bamon: error: version 1 does not validate against the current schema: {live}:1: daemon.colour: "
        "unknown key 'colour'",
        "  hint: nothing was changed; pick another version (bamon config history), or change the config by hand"]
    assert live.read_text() == CONFIG and _reloads(runner) == 0


@pytest.mark.parametrize(("spec", "hint"), [("9", "versions are numbered 1 to 1: see `bamon config history`"),
                                            ("zzzz", "versions are numbered 1 to 1: see `bamon config history`")])
def test_unknown_version(cli: Cli, live: Path, spec: str, hint: str) -> None:
    assert cli("apply").code == 0
    result = cli("config", "diff", spec)
    assert result.code == 1
    assert result.err.splitlines() == [f"bamon: error: no config version {spec!r}", f"  hint: {hint}"]


def test_config_reload_refuses_invalid_files_and_touches_nothing(cli: Cli, live: Path, runner: FakeRunner) -> None:
    assert cli("apply").code == 0
    runner.calls.clear()
    live.write_text(CONFIG + "  - {name: broken, command: 'true', interval: often}\n")
    result = cli("config", "reload")
    assert result.code == 1
    assert "scripts[1].interval" in result.err and "the edit was not applied, every check runs as before" in result.err
    assert _reloads(runner) == 0 and len(_store(live).history()) == 1
    (run,) = [c for c in runner.calls if c[0] == "systemd-run"]
    assert "--unit=bamon.config-error.service" in run and any("scripts[1].interval" in word for word in run)

    live.write_text(CONFIG + "  - {name: fixed, command: 'true', interval: 5m}\n")
    assert cli("config", "reload").code == 0
    assert _reloads(runner) == 1 and _store(live).history()[-1].action == "hand-edit"
    runner.calls.clear()
    assert cli("config", "reload").out == "applied (no change to keep)\n"  # bamon's own writes wake it too
    assert _reloads(runner) == 0


def _resets(runner: FakeRunner) -> int:
    return sum(call[:2] == ["systemctl", "reset-failed"] and "bamon.config-error.service" in call
               for call in runner.calls)


def test_nothing_new_clears_a_refused_edits_report_only_when_the_files_are_valid(
        cli: Cli, live: Path, runner: FakeRunner) -> None:
    live.write_text(CONFIG + "  - {name: broken, command: 'true', interval: often}\n")
    cli("apply")  # applies what is valid and keeps a version of the files, the broken entry too
    runner.calls.clear()
    assert cli("config", "reload").out == "applied (no change to keep)\n"
    assert _resets(runner) == 0  # the broken entry's report stays on show
    live.write_text(CONFIG)
    assert cli("config", "reload").code == 0
    runner.calls.clear()
    assert cli("config", "reload").out == "applied (no change to keep)\n"
    assert _resets(runner) == 1  # e.g. a refused edit undone by hand: its report goes


def test_an_edit_saved_while_the_watch_reloads_is_applied_by_the_same_start(
        cli: Cli, live: Path, runner: FakeRunner) -> None:
    """systemd watches nothing while the watch's reload runs: the reload goes round again."""
    assert cli("apply").code == 0
    first = CONFIG + "  - {name: first, command: 'true', interval: 60}\n"
    second = first + "  - {name: second, command: 'true', interval: 60}\n"
    live.write_text(first)
    saves = [second]  # the editor saves again while systemd reloads for the first edit

    def editing(argv: Sequence[str]) -> None:
        if list(argv[:2]) == ["systemctl", "daemon-reload"] and saves:
            live.write_text(saves.pop())

    runner.meanwhile.append(editing)
    runner.calls.clear()
    result = cli("config", "reload")
    assert result.code == 0 and result.out == "applied and kept as a new version\n" * 2
    assert _reloads(runner) == 2
    assert live.read_text() == second and not _store(live).pending()


def test_reload_stops_the_timers_of_removed_checks(cli: Cli, live: Path, runner: FakeRunner) -> None:
    runner.on(["systemctl", "list-units"], stdout="bamon-gone.timer not-found active waiting bamon timer\n"
                                                  "bamon-gone.service not-found inactive dead x\n"
                                                  "bamon-disk.timer loaded active waiting bamon timer\n")
    result = cli("config", "reload")
    assert result.code == 0
    assert ["systemctl", "stop", "bamon-gone.timer"] in runner.calls
    assert "stopped bamon-gone.timer" in result.err


def test_history_of_one_check(cli: Cli, live: Path) -> None:
    assert cli("add", "web", "-c", "true").code == 0
    assert cli("add", "other", "-c", "true").code == 0
    live.write_text(CONFIG.replace("df -h /", "df -h /srv"))
    assert cli("config", "reload").code == 0
    assert cli("remove", "-f", "web").code == 0
    web = json.loads(cli("history", "web", "--config", "--json").out)["versions"]
    assert [(v["version"], v["action"]) for v in web] == [(2, "add"), (5, "remove")]  # also once removed
    disk = json.loads(cli("history", "disk", "--config", "--json").out)["versions"]
    assert [(v["version"], v["action"]) for v in disk] == [(1, "initial"), (4, "hand-edit")]


def test_another_config_has_no_versions(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "other.yaml"
    config.write_text(CONFIG)
    result = cli("--config", str(config), "config", "history")
    assert result.code == 1 and "versions are kept only for the config systemd runs" in result.err


# --- bamon add without a daemon-reload (Context.reload_added) ---------------------------------------

@pytest.fixture
def generator(live: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed generator and its output directory as the last daemon-reload left it."""
    from bamon.config.model import load
    from bamon.units.render import Target, generate
    from bamon.units.write import write_units

    (tmp_path / "generators").mkdir()
    (tmp_path / "generators" / "bamon-generator").touch()
    monkeypatch.setattr(bamon_paths, "GENERATOR_DIRS", {False: tmp_path / "generators"})
    monkeypatch.setattr(bamon_paths, "GENERATOR_OUTPUT", tmp_path / "generator")
    write_units(generate(load(live, live.parent / "scripts.d"), Target()), tmp_path / "generator")
    return tmp_path / "generator"


def test_add_loads_the_new_units_without_a_reload(cli: Cli, live: Path, generator: Path, runner: FakeRunner) -> None:
    from bamon.config.model import load
    from bamon.units.render import Target, generate

    assert cli("add", "fast", "-c", "true", "-i", "1h").code == 0
    runtime = generator.parent / "run-units"
    units = generate(load(live, live.parent / "scripts.d"), Target()).units
    assert {p.name: p.read_text() for p in runtime.glob("bamon-*")} == {
        u: units[u] for u in ("bamon-fast.service", "bamon-fast.timer")}  # what the generator will write
    assert _reloads(runner) == 0
    assert ["systemctl", "start", "--no-block", "bamon-fast.timer"] in runner.calls
    assert cli("add", "second", "-c", "true").code == 0  # the first one's copies count as what systemd has
    assert _reloads(runner) == 0

    assert cli("disable", "fast").code == 0  # any other change reloads: the generator's units take over
    assert _reloads(runner) == 1 and not list(runtime.glob("bamon-*"))


def test_add_reloads_when_other_units_would_change(cli: Cli, live: Path, generator: Path,
                                                   runner: FakeRunner) -> None:
    older = "# Generated by bamon\n[Service]\nExecStart=/bin/true\n"  # as an older bamon wrote it
    (generator / "bamon-disk.service").write_text(older)
    assert cli("add", "slow", "-c", "true").code == 0
    assert _reloads(runner) == 1 and not list((generator.parent / "run-units").glob("bamon-*"))


def test_add_reloads_when_the_new_timer_cannot_start(cli: Cli, live: Path, generator: Path,
                                                     runner: FakeRunner) -> None:
    runner.on(["systemctl", "start", "--no-block", "bamon-late.timer"], returncode=5)
    assert cli("add", "late", "-c", "true").code == 0
    assert _reloads(runner) == 1
