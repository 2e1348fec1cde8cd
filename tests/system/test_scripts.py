"""Script management in a real systemd: template checks run exactly their expanded command;
every change is a version and a rollback restores the files byte for byte with the units
following; hand edits go live through bamon.config-watch.path, and a broken one stops nothing.

The version and hand-edit tests replace the whole config: they share a container of their own.
"""

from __future__ import annotations

import base64
import json
import shlex
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import installed
from nspawn import Container, wait_for
from support import bamon, output_text, run_records, status, wait_status

# A template whose command prints the command text the check's shell evaluates (run-check keeps
# it in __bamon_command, installed as _Bcommand: bamon/units/minify.py), base64-encoded so every
# byte survives the journal.
ECHO_SELF = """\
name: echo-self
description: prints its own command
command: 'printf %s "$_Bcommand" | base64 -w0; : {word} {count}'
parameters:
  - {name: word, type: string, required: true}
  - {name: count, type: int, default: 3}
"""


def test_a_template_check_runs_exactly_its_expanded_command(container: Container) -> None:
    container.path("/etc/bamon/templates.d").mkdir(exist_ok=True)
    container.path("/etc/bamon/templates.d/echo-self.yaml").write_text(ECHO_SELF)
    word = """it's "$(id)"; `x` $HOME %n %{http_code} {word} ü"""
    out = bamon(container, "template", "create", "--from-template", "echo-self", "--name", "tpl", "--word", word,
                "-i", "2s")
    expected = f'printf %s "$_Bcommand" | base64 -w0; : {shlex.quote(word)} 3'
    assert f"command: {expected}\n" in out
    entry = wait_status(container, "tpl", "OK", timeout=30, with_output=True)
    assert base64.b64decode(entry["output"]).decode() == expected  # what the shell ran, byte for byte
    assert json.loads(bamon(container, "list", "--json"))["scripts"][-1]["command"] == expected

    # a built-in template, under the default sandbox
    bamon(container, "template", "create", "--from-template", "disk-usage", "--name", "tpl_disk",
          "--max-percent", "100", "-i", "2s")
    assert "% used" in output_text(wait_status(container, "tpl_disk", "OK", timeout=30, with_output=True))
    for name in ("tpl", "tpl_disk"):
        bamon(container, "remove", "-f", name)
    container.run("rm -r /etc/bamon/templates.d")


@pytest.fixture(scope="module")
def box(system_host: None, bamon_deb: Path) -> Iterator[Container]:
    yield from installed(Container(), bamon_deb, "the script-management container")


def _files(box: Container) -> dict[str, bytes]:
    """config.yaml and scripts.d/*.yaml as bytes (what a rollback must restore exactly)."""
    root = box.path("/etc/bamon")
    return {str(p.relative_to(root)): p.read_bytes()
            for p in [root / "config.yaml", *sorted((root / "scripts.d").glob("*.yaml"))]}


def _active(box: Container, unit: str) -> bool:
    return box.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0


def _versions(box: Container) -> list[dict[str, object]]:
    versions: list[dict[str, object]] = json.loads(bamon(box, "config", "history", "--json"))["versions"]
    return versions


def test_ten_changes_ten_versions_and_a_rollback_the_units_follow(box: Container) -> None:
    box.path("/etc/bamon/config.yaml").write_bytes(box.path("/etc/bamon/config.yaml").read_bytes()
                                                   + b"# the operator's own bytes: \xc3\xa9\t \r\n")
    bamon(box, "apply")  # the files as found become version 1
    before = _files(box)
    for index in range(7):
        bamon(box, "add", f"v{index}", "-c", f"echo v{index}", "-i", "2s")
    bamon(box, "disable", "v0")
    bamon(box, "template", "create", "--from-template", "memory", "--name", "v_mem", "--max-percent", "100")
    bamon(box, "remove", "-f", "v6")
    versions = _versions(box)
    assert len(versions) == 11
    assert [(v["action"], v["check"]) for v in versions[1:]] == [
        *[("add", f"v{i}") for i in range(7)], ("disable", "v0"), ("add", "v_mem"), ("remove", "v6")]
    assert all(v["user"] == "root" and v["via"] == "cli" for v in versions[1:])
    assert "+enabled: false" in bamon(box, "config", "diff", "8", "9")
    wait_status(box, "v1", "OK", timeout=20)
    after = _files(box)

    bamon(box, "config", "rollback", "1", "--yes")
    assert _files(box) == before  # byte for byte, and the checks' files are gone
    for index in range(1, 6):
        assert not _active(box, f"bamon-v{index}.timer")
    assert _active(box, "bamon-disk_root.timer")
    assert _versions(box)[-1]["action"] == "config-rollback"

    bamon(box, "config", "rollback", "11", "--yes")
    assert _files(box) == after
    assert _active(box, "bamon-v1.timer") and not _active(box, "bamon-v0.timer")  # v0 stays disabled
    wait_status(box, "v2", "OK", timeout=20)
    assert "v1" in bamon(box, "history", "v1", "--config")
    bamon(box, "config", "rollback", "1", "--yes")  # leave the next test the packaged checks


def _watched(box: Container, predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for what the config watch does (a Python process per edit: slow on a loaded host);
    on a timeout, its journal says why."""
    try:
        wait_for(lambda: predicate() or None, timeout, 0.3, what)
    except TimeoutError:
        log = box.run("journalctl -u bamon.config-watch.service -u bamon.config-watch.path --no-pager | tail -n 30",
                      check=False).stdout
        raise AssertionError(f"timed out waiting for {what}; the watch's journal:\n{log}") from None


# The first edit; as soon as the watch's reload has kept it as a version (the store's commit
# count grows; systemd reloads next), the second, while the unit is still activating.
EDIT_WHILE_RELOADING = """
versions() { git -C /var/lib/bamon/config-versions rev-list --count HEAD; }
before=$(versions)
sed -i '$a\\  - {name: first, command: "echo first", interval: 2s}' /etc/bamon/config.yaml
until [ "$(versions)" -gt "$before" ]; do sleep 0.01; done
state=$(systemctl is-active bamon.config-watch.service)
printf 'name: during\\ncommand: echo during\\ninterval: 2s\\n' >/etc/bamon/scripts.d/during.yaml
echo "the second edit was saved while the watch was $state"
"""


def _watch_log(box: Container) -> str:
    return box.run("journalctl -u bamon.config-watch.service --no-pager -o cat", check=False).stdout


def _wait_active(box: Container, unit: str, want: bool) -> None:
    _watched(box, lambda: _active(box, unit) == want, f"{unit} active={want}")


def _config_error_failed(box: Container) -> bool:
    return box.run("systemctl is-failed --quiet bamon.config-error.service", check=False).returncode == 0


def test_hand_edits_go_live_by_themselves_and_broken_ones_stop_nothing(box: Container) -> None:
    assert _active(box, "bamon.config-watch.path")
    bamon(box, "config", "reload")  # the files as they are now are a version (run alone, this test makes the first)
    # bamon's own change wakes the watch too, and ends at its condition: no reload, no Python
    applied, skipped = _watch_log(box).count("applied"), _watch_log(box).count("being skipped")
    bamon(box, "add", "own", "-c", "true", "-i", "1h")
    _watched(box, lambda: _watch_log(box).count("being skipped") > skipped, "the watch to skip bamon's own change")
    assert _watch_log(box).count("applied") == applied
    bamon(box, "remove", "-f", "own")
    # an editor's way: write a new file, rename it into place — and no bamon command is typed
    box.run("printf 'name: byhand\\ncommand: echo by hand\\ninterval: 2s\\n' >/etc/bamon/scripts.d/.byhand.tmp"
            " && mv /etc/bamon/scripts.d/.byhand.tmp /etc/bamon/scripts.d/byhand.yaml")
    _wait_active(box, "bamon-byhand.timer", True)
    wait_status(box, "byhand", "OK", timeout=60)
    assert _versions(box)[-1]["action"] == "hand-edit" and _versions(box)[-1]["files"] == ["scripts.d/byhand.yaml"]

    # sed -i replaces config.yaml by a rename too; templates.d does not exist (a missing watched
    # directory once made systemd drop the events of the config directory)
    assert not box.path("/etc/bamon/templates.d").exists()
    box.run("sed -i '$a\\  - {name: insed, command: \"echo in sed\", interval: 2s}' /etc/bamon/config.yaml")
    _wait_active(box, "bamon-insed.timer", True)
    # a second after that reload the watch looks once more (bamon.config-watch.timer: an edit
    # saved while the reload ended is not left waiting) and finds nothing new
    _watched(box, lambda: "being skipped" in _watch_log(box).rsplit("applied", 1)[-1], "the watch's second look")

    # an edit saved while the watch's reload runs — after it kept the first edit as a version,
    # before it ends — goes live too (systemd watches nothing while the reload runs)
    box.run(["sh", "-c", EDIT_WHILE_RELOADING], timeout=60)
    _wait_active(box, "bamon-first.timer", True)
    _wait_active(box, "bamon-during.timer", True)

    # a broken edit: nothing is applied, every check keeps running, the problem shows (every edit
    # is made inside: inotify there does not see writes to the container's tree from the host)
    box.run("echo '  - {name: broken, command: [unclosed' >> /etc/bamon/config.yaml")
    _watched(box, lambda: _config_error_failed(box), "bamon.config-error.service to fail")
    assert "YAML syntax error" in box.run("journalctl -u bamon.config-error.service --no-pager -o cat").stdout
    runs = len(run_records(box, "byhand"))
    time.sleep(5)
    for unit in ("bamon-byhand.timer", "bamon-insed.timer", "bamon-disk_root.timer"):
        assert _active(box, unit)
    assert len(run_records(box, "byhand")) > runs  # it still runs
    assert "it was not applied" in box.run("bamon status", check=False).stderr
    count = len(_versions(box))

    # fixed by removing the broken line and the hand-made file: live, the problem gone
    box.run("sed -i '/name: broken/d' /etc/bamon/config.yaml && rm /etc/bamon/scripts.d/byhand.yaml")
    _wait_active(box, "bamon-byhand.timer", False)
    _watched(box, lambda: not _config_error_failed(box), "bamon.config-error.service to be cleared")
    assert _active(box, "bamon-insed.timer")
    assert len(_versions(box)) > count and status(box, "insed")["enabled"]
