"""units/write.py and units/generator.py: units on disk, pruning, and the systemd generator entry.

write_units puts every unit and bamon.target.wants/ links into a directory; with prune (the
`bamon apply` mode) it removes units bamon generated earlier and never a hand-written one.
generator.run() reads the config named by $BAMON_CONFIG (or the user's), and never lets
monitoring disappear silently: an unloadable config yields bamon.config-error.service.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bamon.config.model import Config
from bamon.units import generator, naming
from bamon.units.render import Generated
from bamon.units.write import MARKER, write_units

LoadConfig = Callable[..., Config]
WriteConfig = Callable[..., Path]


def _generated(*names: str, disabled: tuple[str, ...] = ()) -> Generated:
    out = Generated()
    for name in names:
        out.units[f"bamon-{name}.service"] = f"{MARKER} for {name}\n[Service]\n"
        if name not in disabled:
            out.units[f"bamon-{name}.timer"] = f"{MARKER} for {name}\n[Timer]\n"
            out.wanted_by_target.append(f"bamon-{name}.timer")
    return out


def _wants(directory: Path) -> dict[str, str]:
    return {p.name: os.readlink(p) for p in (directory / "bamon.target.wants").iterdir()}


def test_write_units_writes_files_and_wants_links(tmp_path: Path) -> None:
    out = tmp_path / "generator.normal"
    assert write_units(_generated("a", "b", disabled=("b",)), out) == []
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "bamon-a.service", "bamon-a.timer", "bamon-b.service"]
    assert (out / "bamon-a.timer").read_text() == f"{MARKER} for a\n[Timer]\n"
    assert _wants(out) == {"bamon-a.timer": "../bamon-a.timer"}
    assert (out / "bamon.target.wants" / "bamon-a.timer").resolve() == (out / "bamon-a.timer").resolve()


def test_write_units_twice_is_harmless(tmp_path: Path) -> None:
    write_units(_generated("a"), tmp_path)
    write_units(_generated("a"), tmp_path)
    assert _wants(tmp_path) == {"bamon-a.timer": "../bamon-a.timer"}


def test_prune_removes_stale_generated_units_only(tmp_path: Path) -> None:
    write_units(_generated("old", "kept"), tmp_path, prune=True)
    (tmp_path / "bamon-handmade.service").write_text("[Service]\nExecStart=/bin/true\n")
    (tmp_path / "other.service").write_text(f"{MARKER}\n")  # not a bamon-* name: never touched
    removed = write_units(_generated("kept", "new"), tmp_path, prune=True)
    assert sorted(removed) == ["bamon-old.service", "bamon-old.timer"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "bamon-handmade.service", "bamon-kept.service", "bamon-kept.timer", "bamon-new.service",
        "bamon-new.timer", "other.service"]
    assert sorted(_wants(tmp_path)) == ["bamon-kept.timer", "bamon-new.timer"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_prune_drops_the_timer_of_a_script_that_was_disabled(tmp_path: Path) -> None:
    write_units(_generated("a"), tmp_path, prune=True)
    removed = write_units(_generated("a", disabled=("a",)), tmp_path, prune=True)
    assert removed == ["bamon-a.timer"]
    assert _wants(tmp_path) == {}


def test_prune_keeps_the_wants_link_of_a_hand_written_unit(tmp_path: Path) -> None:
    """An operator's own bamon-custom.timer, enabled into bamon.target, is not bamon's to remove."""
    write_units(_generated("a"), tmp_path, prune=True)
    (tmp_path / "bamon-custom.timer").write_text("[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=bamon.target\n")
    os.symlink("../bamon-custom.timer", tmp_path / "bamon.target.wants" / "bamon-custom.timer")
    write_units(_generated("a"), tmp_path, prune=True)
    assert (tmp_path / "bamon-custom.timer").exists()
    assert "bamon-custom.timer" in _wants(tmp_path)


def test_prune_drops_a_dangling_wants_link(tmp_path: Path) -> None:
    write_units(_generated("a"), tmp_path, prune=True)
    os.symlink("../bamon-gone.timer", tmp_path / "bamon.target.wants" / "bamon-gone.timer")
    write_units(_generated("a"), tmp_path, prune=True)
    assert _wants(tmp_path) == {"bamon-a.timer": "../bamon-a.timer"}


def test_prune_removes_the_config_error_unit_once_fixed(tmp_path: Path) -> None:
    broken = _generated("a")
    broken.units[naming.CONFIG_ERROR] = f"{MARKER}: the configuration has problems\n"
    broken.wanted_by_target.append(naming.CONFIG_ERROR)
    write_units(broken, tmp_path, prune=True)
    assert write_units(_generated("a"), tmp_path, prune=True) == [naming.CONFIG_ERROR]
    assert naming.CONFIG_ERROR not in _wants(tmp_path)



def test_prune_removes_0_1s_config_error_unit(tmp_path: Path) -> None:
    """0.1 wrote bamon-config-error.service (a check-like name) into the `bamon apply` directory."""
    legacy = "bamon-config-error.service"
    (tmp_path / legacy).write_text(f"{MARKER}: the configuration has problems\n")
    (tmp_path / f"{naming.TARGET}.wants").mkdir()
    (tmp_path / f"{naming.TARGET}.wants" / legacy).symlink_to(f"../{legacy}")
    assert write_units(_generated("a"), tmp_path, prune=True) == [legacy]
    assert legacy not in _wants(tmp_path)

# --- generator.run() ---------------------------------------------------------------------------------


@pytest.fixture
def kmsg(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the generator would have written to /dev/kmsg."""
    lines: list[str] = []
    monkeypatch.setattr(generator, "_log", lines.append)
    return lines


def test_generator_writes_units_for_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               write_config: WriteConfig, kmsg: list[str]) -> None:
    config = write_config("""\
        scripts:
          - {name: .web, command: x}
          - {name: good, command: "curl -f http://localhost/health", interval: 30}
          - {name: paused, command: x, enabled: false}
        """, scripts_d={"disk": "name: disk\ncommand: df /\nschedule: daily\n"})
    monkeypatch.setenv("BAMON_CONFIG", str(config))
    out = tmp_path / "normal"
    assert generator.run(out, user_mode=False) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "bamon-disk.service", "bamon-disk.timer", "bamon-good.service",
        "bamon-good.timer", "bamon-paused.service", "bamon.config-error.service"]
    assert sorted(_wants(out)) == ["bamon-disk.timer", "bamon-good.timer", "bamon.config-error.service"]
    assert len(kmsg) == 1 and kmsg[0].startswith("skipped: ") and "scripts[0].name" in kmsg[0]
    assert f"SourcePath={tmp_path / 'scripts.d' / 'disk.yaml'}" in (out / "bamon-disk.service").read_text()


def test_generator_logs_notes_but_emits_no_error_unit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      write_config: WriteConfig, kmsg: list[str]) -> None:
    config = write_config("daemon: {pid_file: /run/bamon.pid}\nscripts:\n  - {name: a, command: x}\n")
    monkeypatch.setenv("BAMON_CONFIG", str(config))
    generator.run(tmp_path / "out", user_mode=False)
    assert not (tmp_path / "out" / naming.CONFIG_ERROR).exists()
    assert [line.split(":")[0] for line in kmsg] == ["note"]


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"scripts: [unclosed\n", b"- a list\n"])
def test_generator_on_an_unreadable_config_emits_the_error_unit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kmsg: list[str], content: bytes
) -> None:
    config = tmp_path / "config.yaml"
    config.write_bytes(content)
    monkeypatch.setenv("BAMON_CONFIG", str(config))
    out = tmp_path / "out"
    generator.run(out, user_mode=False)
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [naming.CONFIG_ERROR]
    assert _wants(out) == {naming.CONFIG_ERROR: f"../{naming.CONFIG_ERROR}"}
    assert kmsg and kmsg[0].startswith("skipped: ")


def test_generator_survives_a_loader_crash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           write_config: WriteConfig, kmsg: list[str]) -> None:
    def explode(*args: object) -> Config:
        raise RuntimeError("something nobody expected")

    monkeypatch.setenv("BAMON_CONFIG", str(write_config("scripts: []\n")))
    monkeypatch.setattr(generator, "load", explode)
    out = tmp_path / "out"
    generator.run(out, user_mode=False)
    text = (out / naming.CONFIG_ERROR).read_text()
    assert "cannot be loaded: RuntimeError: something nobody expected" in text
    assert naming.CONFIG_ERROR in _wants(out)


def test_generator_in_user_mode_without_a_config_writes_nothing(tmp_path: Path, kmsg: list[str]) -> None:
    out = tmp_path / "user-generator"
    assert generator.run(out, user_mode=True) == 0
    assert not out.exists()
    assert kmsg == []


def test_generator_in_user_mode_reads_the_users_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      kmsg: list[str]) -> None:
    config_home = tmp_path / "xdg"
    (config_home / "bamon").mkdir(parents=True)
    (config_home / "bamon" / "config.yaml").write_text("scripts:\n  - {name: mine, command: x}\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    out = tmp_path / "out"
    generator.run(out, user_mode=True)
    assert sorted(_wants(out)) == ["bamon-mine.timer"]


def test_generator_main_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[Path, bool]] = []
    monkeypatch.setattr(generator, "run", lambda out, user: calls.append((out, user)) or 0)
    assert generator.main([]) == 2
    assert "usage: bamon-generator" in capsys.readouterr().err
    assert generator.main(["a", "b"]) == 2
    assert generator.main([str(tmp_path / "n"), str(tmp_path / "e"), str(tmp_path / "l")]) == 0
    monkeypatch.setenv("SYSTEMD_SCOPE", "user")
    assert generator.main([str(tmp_path / "n")]) == 0
    monkeypatch.delenv("SYSTEMD_SCOPE")
    assert generator.main(["/run/user/1000/systemd/generator"]) == 0
    assert calls == [(tmp_path / "n", False), (tmp_path / "n", True),
                     (Path("/run/user/1000/systemd/generator"), True)]
