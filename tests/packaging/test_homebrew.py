"""homebrew/bamon.rb: Ruby syntax, pinned sdist resources for every dependency, test and service blocks."""

from __future__ import annotations

import re
import subprocess

from packaging_support import REPO, install_requires, need, normal

FORMULA = REPO / "homebrew" / "bamon.rb"


def test_ruby_syntax() -> None:
    proc = subprocess.run([need("ruby"), "-c", str(FORMULA)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "Syntax OK" in proc.stdout, proc.stdout + proc.stderr


def test_every_dependency_is_a_pinned_sdist_resource() -> None:
    text = FORMULA.read_text()
    blocks = re.findall(r'  resource "([^"]+)" do\n    url "([^"]+)"\n    sha256 "([0-9a-f]{64})"\n  end', text)
    assert len(blocks) == text.count('resource "'), "a resource without url and sha256"
    for name, url, _sha256 in blocks:
        assert url.startswith("https://files.pythonhosted.org/") and url.endswith(".tar.gz"), (name, url)
    missing = install_requires() - {normal(name) for name, _url, _sha in blocks}
    assert not missing, f"run homebrew/update-resources: no resource for {sorted(missing)}"


def test_install_test_and_service_blocks() -> None:
    text = FORMULA.read_text()
    assert "include Language::Python::Virtualenv" in text
    assert "virtualenv_install_with_resources" in text
    test_block = text.split("  test do\n")[1]
    assert "now --local" in test_block and '"config", "validate"' in test_block
    assert "bamon-web" in text.split("service do")[1].split("  end")[0]
    assert 'generate_completions_from_executable(bin/"bamon", "completions")' in text
