"""Every runtime dependency in setup.py is named by each package: Debian (control), Fedora (the spec's
BuildRequires; its Requires come from setup.py by Fedora's generator) and Homebrew (resources).

DISTRO_NAMES is the one table to extend when install_requires grows.
"""

from __future__ import annotations

import re

from packaging_support import REPO, install_requires

# PyPI name (normalised) -> (Debian package, Fedora package)
DISTRO_NAMES = {
    "pyyaml": ("python3-yaml", "python3-pyyaml"),
    "jsonschema": ("python3-jsonschema", "python3-jsonschema"),
    "ruamel-yaml": ("python3-ruamel.yaml", "python3-ruamel-yaml"),
    "requests": ("python3-requests", "python3-requests"),
    "structlog": ("python3-structlog", "python3-structlog"),
    "jinja2": ("python3-jinja2", "python3-jinja2"),
    "starlette": ("python3-starlette", "python3-starlette"),
    "uvicorn": ("python3-uvicorn", "python3-uvicorn"),
}


def _field(text: str, name: str) -> set[str]:
    match = re.search(rf"^{name}:(.*(?:\n .*)*)", text, re.M)
    assert match, name
    return {re.split(r"[ (]", item.strip())[0] for item in match[1].split(",") if item.strip()}


def test_every_dependency_has_distro_names() -> None:
    unknown = install_requires() - set(DISTRO_NAMES)
    assert not unknown, f"add {sorted(unknown)} to DISTRO_NAMES, debian/control and rpm/bamon.spec"


def test_debian_depends_and_build_depends_name_them() -> None:
    control = (REPO / "debian" / "control").read_text()
    package = control.split("\nPackage:")[1]
    depends, build = _field(package, "Depends"), _field(control, "Build-Depends")
    for name in install_requires():
        debian = DISTRO_NAMES[name][0]
        assert debian in depends, f"debian/control Depends lacks {debian}"
        assert debian in build, f"debian/control Build-Depends lacks {debian} (the manual is built from the parser)"


def test_rpm_build_requires_name_them() -> None:
    spec = (REPO / "rpm" / "bamon.spec").read_text()
    build = set(re.findall(r"^BuildRequires:\s+(\S+)", spec, re.M))
    for name in install_requires():
        fedora = DISTRO_NAMES[name][1]
        assert fedora in build, f"rpm/bamon.spec BuildRequires lacks {fedora}"
