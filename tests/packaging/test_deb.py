"""The .deb: lintian has nothing to say beyond the overrides (each with its reason); it ships the
generated manual pages, the completions, every unit in units/ and the integration examples."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from packaging_support import REPO, need


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("BAMON_DEB")
    if given:
        return Path(given)
    proc = subprocess.run([str(REPO / "dev" / "build-deb"), str(tmp_path_factory.mktemp("deb"))],
                          capture_output=True, text=True, check=True, timeout=900)
    return Path(proc.stdout.strip().splitlines()[-1])


def test_lintian_clean(deb: Path) -> None:
    proc = subprocess.run([need("lintian"), "--pedantic", "-I", "--fail-on", "error,warning",
                           str(deb)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_maintainer_scripts_pass_shellcheck(deb: Path, tmp_path: Path) -> None:
    """As shipped: debhelper's snippets and bamon's placeholders filled in."""
    subprocess.run([need("dpkg-deb"), "-e", str(deb), str(tmp_path)], check=True)
    scripts = [tmp_path / name for name in ("preinst", "postinst", "prerm", "postrm") if (tmp_path / name).exists()]
    assert {p.name for p in scripts} >= {"postinst", "prerm", "postrm"}, scripts
    proc = subprocess.run([need("shellcheck"), "-s", "sh", *map(str, scripts)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ships_pages_completions_and_units(deb: Path) -> None:
    files = set(subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True)
                .stdout.split())
    wanted = {"./usr/share/man/man1/bamon.1.gz", "./usr/share/man/man5/bamon.yaml.5.gz",
              "./usr/share/man/man8/bamon-generator.8.gz", "./usr/share/man/man8/bamon.notify@.service.8.gz",
              "./usr/share/bash-completion/completions/bamon", "./usr/share/zsh/vendor-completions/_bamon",
              "./usr/share/fish/vendor_completions.d/bamon.fish",
              *(f"./lib/systemd/system/{unit.name}" for unit in (REPO / "units").iterdir()),
              # the dashboard is the system's only
              *(f"./usr/lib/systemd/user/{unit.name}" for unit in (REPO / "units").iterdir()
                if not unit.name.startswith("bamon.web"))}
    assert wanted <= files, sorted(wanted - files)


def test_ships_the_integration_examples_as_they_are_in_the_tree(deb: Path, tmp_path: Path) -> None:
    # the Grafana dashboard, the Prometheus rules and the CI templates docs/integrations.md points to
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    shipped = tmp_path / "usr" / "share" / "doc" / "bamon" / "examples"
    examples = REPO / "examples"
    wanted = [f.relative_to(examples) for f in examples.rglob("*") if f.is_file() and f.name != "config.yaml"]
    assert {"grafana/bamon-dashboard.json", "prometheus/bamon-rules.yml", "ci/Jenkinsfile",
            "ci/gitlab-ci.yml", "ci/github-action/action.yml"} <= {str(f) for f in wanted}
    for name in wanted:
        assert (shipped / name).read_bytes() == (examples / name).read_bytes(), name


def test_ships_run_check_as_minify_installs_it(deb: Path, tmp_path: Path) -> None:
    # bash parses every byte a check run reaches: the build drops the comments and shortens names (minify.py)
    import sys

    sys.path.insert(0, str(REPO))
    from bamon.units import minify

    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    shipped = tmp_path / "usr" / "lib" / "python3" / "dist-packages" / "bamon" / "units"
    sources = sorted((REPO / "bamon" / "units").glob("run-check*"))
    assert {p.name for p in shipped.glob("run-check*")} == {p.name for p in sources}
    for source in sources:
        installed = (shipped / source.name).read_text()
        assert installed == minify.installed(source.read_text()) != source.read_text(), source.name
        assert not any(line.lstrip().startswith("#") for line in installed.splitlines()), source.name
