"""The CI examples in examples/ci cannot run here as their CI systems would, so each is checked
the closest way possible: action.yml against SchemaStore's action metadata schema, the GitLab
template against GitLab's CI schema, the Jenkinsfile read by Groovy's own parser and run against
a recording stand-in for the pipeline DSL, and — for all three — the shell they hand to their
runner, executed with bash against a sample config with the real `bamon`, producing a JUnit
report valid against Jenkins' JUnit XSD and the exit status that gates the pipeline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import vendor_schemas
import yaml
from lxml import etree

HERE = Path(__file__).parent
CI = HERE.parents[1] / "examples" / "ci"
CONFIG = """\
scripts:
  - {name: api, command: "echo up", interval: 60, tags: [smoke], severity: critical}
  - {name: disk, command: "echo full; exit 1", interval: 60, tags: [smoke], severity: warning}
  - {name: slow, command: "echo skipped by tag", interval: 60}
"""


def bash(script: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "bamon.yaml").write_text(CONFIG)
    # `bamon` is this work tree's, run by this interpreter (a venv's or Debian's python3)
    command = f'bamon() {{ "{sys.executable}" -m bamon "$@"; }}\n{script}'
    full = {**os.environ, "PYTHONPATH": str(HERE.parents[1]), "GITHUB_OUTPUT": str(tmp_path / "gh-out"), **env}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=full, capture_output=True,
                          text=True, check=False, timeout=60)


def junit_cases(path: Path) -> dict[str, bool]:
    document = etree.parse(str(path))
    vendor_schemas.junit().assertValid(document)
    return {c.get("name", ""): c.find("failure") is None for c in document.iter("testcase")}


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CI / "github-action" / "action.yml").read_text())
    return data


def test_action_yml_follows_the_actions_metadata_schema() -> None:
    schema = vendor_schemas.action()
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert not [e.message for e in validator.iter_errors(action())]
    # the schema does hold an action to the documented shape
    assert [e.message for e in validator.iter_errors({k: v for k, v in action().items() if k != "runs"})] == [
        "'runs' is a required property"]
    assert not validator.is_valid({**action(), "runs": {"using": "composite"}})  # a composite action has steps
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", (CI / "github-action" / "action.yml").read_text()))
    assert used == set(action()["inputs"])  # every input used, none used undeclared


@pytest.mark.parametrize(("fail_on", "code"), [("info", 1), ("critical", 0)])
def test_action_run_step_gates_and_reports(tmp_path: Path, fail_on: str, code: int) -> None:
    step = next(s for s in action()["runs"]["steps"] if s.get("id") == "run")
    inputs = {k: v.get("default", "") for k, v in action()["inputs"].items()} | {"tags": "smoke", "fail-on": fail_on}
    env = {k: re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs[m.group(1)], v) for k, v in step["env"].items()}
    result = bash(step["run"], tmp_path, env)
    assert result.returncode == code, result.stdout + result.stderr
    assert junit_cases(tmp_path / "bamon-junit.xml") == {"api": True, "disk": False}
    assert (tmp_path / "gh-out").read_text() == "junit=bamon-junit.xml\n"


def test_gitlab_template_follows_gitlabs_ci_schema() -> None:
    schema = vendor_schemas.gitlab_ci()
    validator = jsonschema.validators.validator_for(schema)(schema)
    template = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert not [e.message for e in validator.iter_errors(template)]
    # GitLab checks a hidden job's keys only in the jobs that extend it: check them as such a job
    job = template[".bamon-checks"]
    assert not [e.message for e in validator.iter_errors({"smoke": job})]
    assert not validator.is_valid({"smoke": {**job, "artifacts": {**job["artifacts"], "when": "sometimes"}}})


def test_gitlab_template_reports_junit_and_its_script_runs(tmp_path: Path) -> None:
    job = yaml.safe_load((CI / "gitlab-ci.yml").read_text())[".bamon-checks"]
    assert job["artifacts"]["reports"]["junit"] == "bamon-junit.xml" and job["artifacts"]["when"] == "always"
    variables = {**job["variables"], "BAMON_TAGS": "smoke", "BAMON_FAIL_ON": "critical"}
    result = bash("\n".join(job["script"]), tmp_path, variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert junit_cases(tmp_path / "bamon-junit.xml") == {"api": True, "disk": False}


def read_jenkinsfile(path: Path) -> subprocess.CompletedProcess[str]:
    """tests/unit/jenkinsfile.groovy on `path`, with Debian's groovy."""
    groovy = shutil.which("groovy")
    if groovy is None:
        pytest.fail("groovy is missing: dev/install-deps installs it (groovy, default-jre-headless)", pytrace=False)
    return subprocess.run([groovy, str(HERE / "jenkinsfile.groovy"), str(path)], capture_output=True, text=True,
                          check=False, timeout=120)


def jenkins_calls(path: Path) -> list[Any]:
    """The pipeline DSL calls of a Jenkinsfile, read by Groovy's parser."""
    done = read_jenkinsfile(path)
    assert done.returncode == 0, done.stderr
    calls: list[Any] = json.loads(done.stdout)
    return calls


def block(calls: list[Any], *names: str) -> list[Any]:
    """The calls inside the nested blocks `names` (the first call of each name)."""
    for name in names:
        calls = next(inner for called, _, inner in calls if called == name)
    return calls


def test_jenkinsfile_publishes_the_report_its_sh_step_writes(tmp_path: Path) -> None:
    calls = jenkins_calls(CI / "Jenkinsfile")
    assert [name for name, _, _ in calls] == ["pipeline"]
    assert [name for name, _, _ in block(calls, "pipeline")] == ["agent", "parameters", "stages", "post"]
    params = {args[0]["name"]: args[0].get("defaultValue", (args[0].get("choices") or [""])[0])
              for _, args, _ in block(calls, "pipeline", "parameters")}
    stages = {args[0]: block(inner, "steps") for name, args, inner in block(calls, "pipeline", "stages")
              if name == "stage"}
    [(sh, [command], _)] = stages["Health checks"]
    assert sh == "sh" and command.startswith("bamon ")
    [(junit, [report], _)] = block(calls, "pipeline", "post", "always")  # published whatever the stage did
    assert junit == "junit" and report["testResults"] == "bamon-junit.xml" and report["allowEmptyResults"] is False
    result = bash(command, tmp_path, params)
    assert result.returncode == 1, result.stdout + result.stderr  # FAIL_ON info: disk fails the stage
    assert junit_cases(tmp_path / "bamon-junit.xml") == {"api": True, "disk": False}


def test_a_broken_jenkinsfile_fails_the_groovy_parser(tmp_path: Path) -> None:
    broken = tmp_path / "Jenkinsfile"
    broken.write_text((CI / "Jenkinsfile").read_text().rsplit("}", 1)[0])  # the last brace lost
    done = read_jenkinsfile(broken)
    assert done.returncode != 0 and "expecting '}'" in done.stderr, done.stderr
