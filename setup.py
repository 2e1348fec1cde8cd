"""bamon: health checks on systemd timers, with history in journald and alerts on change."""

import importlib.util
import re
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

VERSION = re.search(r'__version__ = "([^"]+)"', Path("bamon/__init__.py").read_text()).group(1)


class BuildPy(build_py):
    """Installs run-check and its parts without comments, their names short (bamon/units/minify.py)."""

    def build_package_data(self) -> None:
        super().build_package_data()
        # loaded by path: importing the bamon package would need its dependencies at build time
        spec = importlib.util.spec_from_file_location("minify", "bamon/units/minify.py")
        minify = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(minify)
        for script in Path(self.build_lib, "bamon", "units").glob("run-check*"):
            text, mode = minify.installed(script.read_text()), script.stat().st_mode
            script.unlink()  # a new file: the build copy may be a hard link to the source
            script.write_text(text)
            script.chmod(mode)


setup(
    cmdclass={"build_py": BuildPy},
    name="bamon",
    version=VERSION,
    description="Health checks on systemd timers: scheduling, history and alerts by systemd",
    long_description=Path("README.md").read_text(encoding="utf-8") if Path("README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.11",
    packages=find_packages(include=["bamon", "bamon.*"]),
    package_data={"bamon.config": ["schema.yaml"],
                  "bamon.units": ["run-check", "run-check-*"],  # the wrapper and the parts it sources
                  "bamon.notify": ["templates/*.j2"],  # built-in alert templates
                  "bamon.templates": ["library/*.yaml"],  # built-in check templates
                  "bamon.web": ["static/*"]},  # the dashboard
    data_files=[("share/bamon/units", [str(p) for p in sorted(Path("units").glob("bamon*"))]),
                # Grafana dashboard, Prometheus rules, CI templates (Debian: /usr/share/doc/bamon/examples)
                *((f"share/bamon/{d}", [str(f) for f in sorted(d.iterdir()) if f.is_file()])
                  for d in sorted({f.parent for f in Path("examples").rglob("*") if f.is_file()}))],
    # Every one of these exists as a Debian 12 package (python3-yaml, -jsonschema, -ruamel.yaml,
    # -requests, -structlog, -jinja2, -numpy, -starlette, -uvicorn, -argon2); python3-systemd is optional:
    # without it bamon writes to journald via logger and the web service is not socket-activated.
    install_requires=["PyYAML>=6.0", "jsonschema>=4.10", "ruamel.yaml>=0.17.21", "requests>=2.28",
                      "structlog>=22.3", "Jinja2>=3.1", "numpy>=1.24",
                      "prometheus-client>=0.16"],
    # numpy is imported by analytics, never on the status path.
    extras_require={
        "journal": ["systemd-python>=235"],
        "web": ["starlette>=0.26", "uvicorn>=0.17", "wsproto>=1.2", "argon2-cffi>=21.1"],
        # aiosmtpd: the unit tier's SMTP server (python3-aiosmtpd in Debian 12); apprise: its channel's
        # row; httpx: Starlette's TestClient; schemathesis fuzzes the API from its OpenAPI document
        # lxml: JUnit XSD validation; botocore: the CloudWatch signer, PyJWT with cryptography: the GCP
        # service-account signer (both optional at run time)
        "test": ["pytest>=7.2", "aiosmtpd>=1.4", "apprise", "httpx>=0.23", "schemathesis>=3.19", "lxml", "botocore",
                 "PyJWT[crypto]>=2.6",
                 "starlette>=0.26", "uvicorn>=0.17", "wsproto>=1.2", "argon2-cffi>=21.1"],
    },
    entry_points={
        "console_scripts": [
            "bamon = bamon.cli.main:main",
            "bamon-notify = bamon.notify.main:main",
            "bamon-outbox = bamon.notify.drain:main",
            "bamon-generator = bamon.units.generator:main",
            "bamon-web = bamon.web.server:main",
            "bamon-web-manage = bamon.web.helper:main",
        ]
    },
    classifiers=["Operating System :: POSIX :: Linux", "Programming Language :: Python :: 3",
                 "Topic :: System :: Monitoring"],
)
