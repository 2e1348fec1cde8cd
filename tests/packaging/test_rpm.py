"""The rpm: builds with rpmbuild (dev/build-rpm), passes rpmlint, puts every file where Fedora expects it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from packaging_support import REPO, need

from bamon import __version__


@pytest.fixture(scope="module")
def rpm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("rpmbuild")
    out = tmp_path_factory.mktemp("rpm")
    proc = subprocess.run([str(REPO / "dev" / "build-rpm"), str(out)], capture_output=True, text=True,
                          check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1])


def _query(rpm_file: Path, *args: str) -> str:
    return subprocess.run([need("rpm"), "-qp", *args, str(rpm_file)], capture_output=True, text=True,
                          check=True).stdout


def test_rpmlint_has_no_errors(rpm_file: Path) -> None:
    proc = subprocess.run([need("rpmlint"), "-c", str(REPO / "rpm" / "rpmlint.toml"), str(rpm_file),
                           str(REPO / "rpm" / "bamon.spec")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b0 errors, 0 warnings\b", proc.stdout), proc.stdout


def test_files_are_where_fedora_expects_them(rpm_file: Path) -> None:
    files = set(_query(rpm_file, "-l").split())
    units = sorted(p.name for p in (REPO / "units").iterdir())
    expected = {
        "/usr/bin/bamon", "/usr/bin/bamon-notify",
        "/usr/lib/systemd/system-generators/bamon-generator",
        "/usr/lib/systemd/user-generators/bamon-generator",
        "/etc/bamon/config.yaml", "/etc/bamon/scripts.d",
        "/usr/share/man/man1/bamon.1.gz", "/usr/share/man/man5/bamon.yaml.5.gz",
        "/usr/share/man/man8/bamon-generator.8.gz", "/usr/share/man/man8/bamon.notify@.service.8.gz",
        "/usr/share/bash-completion/completions/bamon", "/usr/share/zsh/site-functions/_bamon",
        "/usr/share/fish/vendor_completions.d/bamon.fish",
        "/usr/share/licenses/bamon/LICENSE",
        *(f"/usr/lib/systemd/{manager}/{unit}" for manager in ("system", "user") for unit in units),
    }
    if list((REPO / "debian").glob("*.sysusers")):
        expected.add("/usr/lib/sysusers.d/bamon.conf")
    assert expected <= files, sorted(expected - files)
    assert any(re.fullmatch(r"/usr/lib/python3\.\d+/site-packages/bamon/cli/main\.py", f) for f in files)
    # nothing in the places Fedora reserves for others or no longer uses
    assert not [f for f in files if f.startswith(("/usr/local", "/lib/", "/bin/", "/var/"))]
    # a manual page for every program
    for program in (f for f in files if f.startswith("/usr/bin/")):
        assert any(re.search(rf"/man\d/{re.escape(Path(program).name)}\.\d\.gz$", f) for f in files), program


def test_config_is_noreplace_and_scriptlets_use_systemd_macros(rpm_file: Path) -> None:
    flags = dict(line.split(" ", 1) for line in
                 _query(rpm_file, "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]").splitlines())
    assert flags["/etc/bamon/config.yaml"].strip() == "cn"  # %config(noreplace)
    scripts = _query(rpm_file, "--scripts")
    assert "install-system-units bamon.target" in scripts  # %systemd_post
    assert "remove-system-units bamon.target" in scripts  # %systemd_preun
    assert "system-reload" in scripts and "mark-restart" not in scripts  # %systemd_postun: timers keep running
    assert _query(rpm_file, "--qf", "%{ARCH}") == "noarch"


def test_spec_version_is_the_programs() -> None:
    spec = (REPO / "rpm" / "bamon.spec").read_text()
    assert re.search(r"^Version:\s+(\S+)$", spec, re.M)[1] == __version__  # type: ignore[index]
