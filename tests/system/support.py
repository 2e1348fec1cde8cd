"""Helpers for driving bamon inside the test container the way an operator would."""

from __future__ import annotations

import json
import shlex
import subprocess
from typing import Any

import pytest
from nspawn import CACHE_BASE, Container, wait_for

DEBS = CACHE_BASE / "debs"  # Debian 12 packages for the containers, downloaded once on the host


def install_packages(box: Container, *names: str) -> None:
    """Install Debian 12 packages the rootfs lacks (with the dependencies it lacks, named too)
    from .deb files the host downloads once: the containers have no apt lists of their own."""
    missing = [n for n in names if box.run(["dpkg-query", "-W", n], check=False).returncode != 0]
    if not missing:
        return
    DEBS.mkdir(parents=True, exist_ok=True)

    def found() -> list[Any]:
        return [next(iter(sorted(DEBS.glob(f"{name}_*.deb"))), None) for name in missing]

    if None in found():
        got = subprocess.run(["apt-get", "download", *missing], cwd=DEBS, capture_output=True, text=True, check=False)
        if got.returncode != 0:
            pytest.fail(f"cannot download {', '.join(missing)} for the container: {got.stderr[-2000:]}",
                        pytrace=False)
    inside = []
    for deb in found():
        box.copy_in(deb, f"/var/cache/{deb.name}")
        inside.append(f"/var/cache/{deb.name}")
    box.run(["dpkg", "-i", *inside])


def bamon(box: Container, *args: str, check: bool = True, user: str | None = None) -> str:
    """Run `bamon ARGS` inside; its stdout."""
    return box.run(["bamon", *args], check=check, user=user).stdout


def status(box: Container, name: str, user: str | None = None) -> dict[str, Any]:
    """One check's entry of `bamon status --json`."""
    args = (["--user"] if user else []) + ["status", "--json", "-n", name]
    if user:
        out = box.run(f"XDG_RUNTIME_DIR=/run/user/$(id -u) bamon {shlex.join(args)}", user=user).stdout
    else:
        out = bamon(box, *args)
    entries: list[dict[str, Any]] = json.loads(out)["scripts"]
    assert [e["name"] for e in entries] == [name]
    return entries[0]


def history_runs(box: Container, name: str, *args: str) -> list[dict[str, Any]]:
    """`bamon history NAME --json ARGS` runs, newest first: what bamon itself reads of them."""
    runs: list[dict[str, Any]] = json.loads(bamon(box, "history", name, "--json", *args))["runs"]
    return runs


def output_text(entry: dict[str, Any]) -> str:
    """A status entry's output as one text: `output` is a string for one line, an array for several."""
    output = entry["output"]
    return "\n".join(output) if isinstance(output, list) else output or ""


def wait_status(box: Container, name: str, want: str, timeout: float = 30, user: str | None = None,
                with_output: bool = False) -> dict[str, Any]:
    """Wait until the check's status word is `want` (OK, FAILED, …); its status entry.

    `with_output` also waits for the run's output: journald stores it a moment after the
    run's `last` file is written.
    """
    def ready() -> dict[str, Any] | None:
        entry = status(box, name, user=user)
        return entry if entry["status"] == want and (entry["output"] or not with_output) else None
    result: dict[str, Any] = wait_for(ready, timeout, 0.5, f"{name} to be {want}")
    return result


def run_records(box: Container, name: str) -> list[dict[str, Any]]:
    """The journal entries holding the run records of one check, oldest first.

    Each is "bamon-run key=value …" in MESSAGE, filed by journald with the run's unit,
    invocation id and the check's syslog identifier; the parsed pairs are added under "record".
    """
    out = box.run(["journalctl", "-o", "json", "--no-pager", f"SYSLOG_IDENTIFIER=bamon-{name}",
                   "--grep=^bamon-run ", "--case-sensitive=yes"], check=False).stdout
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    for entry in entries:
        entry["record"] = dict(p.split("=", 1) for p in entry["MESSAGE"].split()[1:])
    return entries


def unit_exists(box: Container, unit: str) -> bool:
    """Is the unit known to systemd (loaded from a file)?"""
    out = box.run(["systemctl", "show", "-p", "LoadState", "--value", unit]).stdout.strip()
    return out == "loaded"


def append_config(box: Container, yaml_text: str, path: str = "/etc/bamon/config.yaml") -> None:
    """Add sections (dedented YAML text) to the end of the config file inside."""
    import textwrap

    config = box.path(path)
    config.write_text(config.read_text() + textwrap.dedent(yaml_text))
