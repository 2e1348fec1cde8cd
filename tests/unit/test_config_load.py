"""Loading and validating configs (config/load.py, validate.py, model.py, issues.py).

The original BAMON format loads unchanged (superseded keys are notes, not errors); every
problem is reported at once with file, 1-based line, key path and a hint; a broken entry is
skipped while the valid ones are kept; the result is frozen dataclasses with defaults from
schema.yaml, spans in seconds and cron already translated to OnCalendar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bamon.config import schema as schema_mod
from bamon.config.issues import ConfigIssue, format_path
from bamon.config.load import line_of, load_raw, script_files
from bamon.config.model import Config, load
from bamon.units import naming

LoadConfig = Callable[..., Config]  # the load_config / write_config fixtures of conftest.py
WriteConfig = Callable[..., Path]

ORIGINAL = """\
daemon:
  default_interval: 60
  max_concurrent: 10
  history_retention_days: 30
  log_file: /var/log/bamon.log
  pid_file: /var/run/bamon.pid
  history_file: /var/lib/bamon/history.json
sandbox:
  timeout: 30
  max_cpu_time: 60
  max_file_size: 10240
  max_virtual_memory: 102400
performance:
  enable_monitoring: true
  load_threshold: 0.8
  optimize_scheduling: true
scripts:
  - name: health_check
    command: "curl -s -o /dev/null -w '%{http_code}' https://example.com"
    interval: 30
    enabled: true
    description: "Check website health"
  - name: disk_space
    command: "df -h / | awk 'NR==2 {print $5}'"
    interval: 300
    enabled: false
    description: "Root disk usage"
"""


def _errors(config: Config) -> list[ConfigIssue]:
    return list(config.errors)


# --- the original BAMON format -------------------------------------------------------------------


def test_original_format_loads_unchanged(load_config: LoadConfig) -> None:
    config = load_config(ORIGINAL)
    assert _errors(config) == []
    assert [s.name for s in config.scripts] == ["health_check", "disk_space"]
    health, disk = config.scripts
    assert health.command == "curl -s -o /dev/null -w '%{http_code}' https://example.com"
    assert (health.interval, health.enabled, health.description) == (30, True, "Check website health")
    assert (disk.interval, disk.enabled) == (300, False)
    assert config.daemon.max_concurrent == 10
    assert config.sandbox.max_virtual_memory == 102400


def test_superseded_keys_are_notes_with_location_and_hint(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config(ORIGINAL)
    notes = {i.path: i for i in config.issues if not i.fatal}
    assert set(notes) == {
        "daemon.log_file", "daemon.pid_file", "daemon.history_file",
        "performance.enable_monitoring", "performance.optimize_scheduling",
    }  # performance.load_threshold has an effect again: runs skip on an overloaded host
    assert notes["daemon.log_file"].line == 5
    assert notes["daemon.history_file"].line == 7
    assert "performance.load_threshold" not in {i.path for i in config.issues}
    for note in notes.values():
        assert note.file == str(tmp_path / "config.yaml")
        assert note.message == "accepted but has no effect"
        assert note.hint


def test_empty_config_file_is_valid(load_config: LoadConfig) -> None:
    config = load_config("")
    assert config.issues == ()
    assert config.scripts == ()
    assert config.daemon.default_interval == 60


# --- errors: location, path, hint, did-you-mean --------------------------------------------------


def test_unknown_key_is_an_error_with_did_you_mean(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config("""\
        scripts:
          - name: ok
            command: "true"
          - name: typo
            command: "true"
            intervall: 30
        """)
    (issue,) = _errors(config)
    assert issue.file == str(tmp_path / "config.yaml")
    assert issue.line == 6
    assert issue.path == "scripts[1].intervall"
    assert "unknown key 'intervall'" in issue.message
    assert issue.hint == "did you mean 'interval'?"
    assert [s.name for s in config.scripts] == ["ok"]


def test_unknown_key_far_from_any_lists_the_valid_keys(load_config: LoadConfig) -> None:
    config = load_config("daemon:\n  zzzzzz: 1\n")
    (issue,) = _errors(config)
    assert issue.path == "daemon.zzzzzz"
    assert "default_interval" in issue.hint and "max_concurrent" in issue.hint


def test_unknown_top_level_section(load_config: LoadConfig) -> None:
    config = load_config("scripst: []\n")
    (issue,) = _errors(config)
    assert (issue.path, issue.line) == ("scripst", 1)
    assert issue.hint == "did you mean 'scripts'?"


def test_all_errors_are_reported_at_once(load_config: LoadConfig) -> None:
    config = load_config("""\
        daemon:
          max_concurrent: many
        scripts:
          - name: good
            command: "true"
          - name: "bad name!"
            command: "true"
          - name: no_command
          - name: bad_interval
            command: "true"
            interval: 5 parsecs
          - name: bad_severity
            command: "true"
            severity: urgent
          - name: also_good
            command: "true"
        """)
    paths = {i.path: i.line for i in _errors(config)}
    assert paths == {
        "daemon.max_concurrent": 2,
        "scripts[1].name": 6,
        "scripts[2]": 8,
        "scripts[3].interval": 11,
        "scripts[4].severity": 14,
    }
    assert [s.name for s in config.scripts] == ["good", "also_good"]
    assert config.daemon.max_concurrent == 10  # an invalid value falls back to the default


def test_every_error_has_file_line_path_and_hint(load_config: LoadConfig) -> None:
    config = load_config("""\
        daemon: 5
        sandbox:
          profile: paranoid
          timeout: soon
        performance:
          load_threshold: high
        scripts:
          - just a string
          - name: t1
            command: x
            tags: [ok, "bad tag"]
          - name: t2
            command: x
            environment: {1BAD: x, GOOD: [1]}
          - name: t3
            command: x
            user: Root
            enabled: "yes"
            sandbox: none
            timeout: 0
            schedule: "61 * * * *"
        """, scripts_d={"list": "- a\n- b\n", "broken": "name: [unclosed\n"})
    errors = _errors(config)
    assert len(errors) >= 14
    assert [str(i) for i in errors if not Path(i.file).is_file()] == []
    assert [str(i) for i in errors if not (isinstance(i.line, int) and i.line >= 1)] == []
    assert [str(i) for i in errors if not i.hint] == [], "errors without a hint"
    paths = {i.path for i in errors}
    assert {"daemon", "sandbox.profile", "sandbox.timeout", "performance.load_threshold", "scripts[0]",
            "scripts[1].tags[1]", "scripts[3].user", "scripts[3].enabled",
            "scripts[3].sandbox", "scripts[3].timeout", "scripts[3].schedule"} <= paths


def _unhinted(node: dict[str, Any], path: str, hinted: bool = False) -> Iterator[str]:
    """Sub-schemas whose errors would get only the generic hint (no x-hint on them or above)."""
    hinted = hinted or "x-hint" in node
    if not hinted and any(k in node for k in ("type", "enum", "pattern", "format", "minimum", "minLength")):
        yield path
    for key, sub in node.get("properties", {}).items():
        yield from _unhinted(sub, f"{path}.{key}", hinted)
    for keyword in ("items", "propertyNames", "additionalProperties", "not"):
        if isinstance(node.get(keyword), dict):
            yield from _unhinted(node[keyword], f"{path}/{keyword}", hinted)


def test_every_option_and_its_parts_have_a_hint() -> None:
    """The generic hint in validate.py is a safety net: schema.yaml hints everything it checks."""
    root = schema_mod.schema()
    unhinted = [p for key, sub in root["properties"].items() for p in _unhinted(sub, key)]
    unhinted += [p for key, sub in root["$defs"].items() for p in _unhinted(sub, f"$defs.{key}")]
    assert unhinted == []


def test_whole_numbers_written_as_floats_are_errors(load_config: LoadConfig) -> None:
    """Draft 2020-12 counts 2.0 as an integer; a unit must never get LimitCPU=60.0."""
    config = load_config("daemon: {max_concurrent: 4.0}\nsandbox: {max_cpu_time: 60.0}\n"
                         "scripts:\n  - {name: a, command: x, interval: 30.0}\n")
    assert {i.path for i in config.errors} == {"daemon.max_concurrent", "sandbox.max_cpu_time", "scripts[0].interval"}
    assert (config.daemon.max_concurrent, config.sandbox.max_cpu_time) == (10, 60)
    assert isinstance(config.sandbox.max_cpu_time, int) and config.scripts == ()


def test_values_below_minimum_or_too_short_are_issues_not_crashes(load_config: LoadConfig) -> None:
    config = load_config("""\
        daemon: {max_concurrent: 0, history_retention_days: 0}
        sandbox: {max_virtual_memory: 512, max_cpu_time: 0}
        scripts:
          - {name: empty_command, command: ""}
          - {name: fine, command: x}
        """)
    messages = {i.path: i.message for i in config.errors}
    assert set(messages) == {"daemon.max_concurrent", "daemon.history_retention_days",
                             "sandbox.max_virtual_memory", "sandbox.max_cpu_time", "scripts[0].command"}
    assert "minimum of 1024" in messages["sandbox.max_virtual_memory"]
    assert [s.name for s in config.scripts] == ["fine"]
    assert (config.daemon.max_concurrent, config.sandbox.max_virtual_memory) == (10, 102400)


@pytest.mark.parametrize("name", ["web\\n", "web\\nother", ".hidden", "..", "a b", "x" * 65])
def test_names_that_would_break_a_unit_name_are_errors(load_config: LoadConfig, name: str) -> None:
    """Python's $ also matches before a final newline: the patterns must not let "web\\n" pass."""
    config = load_config(f'scripts:\n  - {{name: "{name}", command: x}}\n')
    assert [i.path for i in config.errors] == ["scripts[0].name"] and config.scripts == ()


@pytest.mark.parametrize("key", ["NO", "on", "1", "null"])
def test_environment_names_yaml_reads_as_other_types_are_errors(load_config: LoadConfig, key: str) -> None:
    """YAML 1.1 reads `NO:` as false and `1:` as a number: never emit Environment="False=…"."""
    config = load_config(f"scripts:\n  - name: a\n    command: x\n    environment: {{{key}: value}}\n")
    assert [i.path for i in config.errors] == ["scripts[0].environment"]


def test_missing_required_key(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  - name: lonely\n")
    (issue,) = _errors(config)
    assert issue.path == "scripts[0]"
    assert issue.message == "missing required key 'command'"
    assert issue.hint  # the command's own hint
    assert issue.line == 2


def test_issue_text_and_paths() -> None:
    issue = ConfigIssue("/etc/bamon/config.yaml", 12, "scripts[1].intervall", "unknown key", "did you mean")
    assert str(issue) == "/etc/bamon/config.yaml:12: scripts[1].intervall: unknown key"
    assert ConfigIssue("f.yaml", None, "", "file not found").location() == "f.yaml"
    assert format_path(("scripts", 2, "interval")) == "scripts[2].interval"
    assert format_path(()) == ""
    assert format_path((0, "name")) == "[0].name"


# --- broken entries never take the others down ---------------------------------------------------


def test_scripts_d_broken_file_is_skipped_and_others_kept(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config("""\
        scripts:
          - name: main_one
            command: "true"
        """, scripts_d={
        "a_good": "name: from_d\ncommand: echo d\ninterval: 5min\n",
        "b_syntax": "name: broken\ncommand: [unclosed\n",
        "c_invalid": "name: invalid\ncommand: x\nseverity: huge\n",
        "d_good": "# a comment\nname: also_from_d\ncommand: echo e\n",
    })
    assert [s.name for s in config.scripts] == ["main_one", "from_d", "also_from_d"]
    errors = {Path(i.file).name: i for i in _errors(config)}
    assert set(errors) == {"b_syntax.yaml", "c_invalid.yaml"}
    assert "YAML syntax error" in errors["b_syntax.yaml"].message
    assert errors["b_syntax.yaml"].line == 3
    assert errors["b_syntax.yaml"].hint
    assert (errors["c_invalid.yaml"].path, errors["c_invalid.yaml"].line) == ("severity", 3)
    assert config.script("from_d").source == tmp_path / "scripts.d" / "a_good.yaml"  # type: ignore[union-attr]


def test_yaml_syntax_error_in_config_yaml_keeps_scripts_d(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  - name: x\n   command: [\n",
                         scripts_d={"ok": "name: ok\ncommand: 'true'\n"})
    assert [s.name for s in config.scripts] == ["ok"]
    (issue,) = _errors(config)
    assert issue.message.startswith("YAML syntax error")
    assert issue.line is not None and issue.line >= 1


def test_scripts_d_ignores_hidden_and_non_yaml_files(tmp_path: Path, write_config: WriteConfig) -> None:
    write_config("", scripts_d={"b": "name: b\ncommand: x\n", "a": "name: a\ncommand: x\n"})
    (tmp_path / "scripts.d" / ".hidden.yaml").write_text("name: hidden\ncommand: x\n")
    (tmp_path / "scripts.d" / "notes.txt").write_text("not yaml")
    (tmp_path / "scripts.d" / "c.yaml~").write_text("name: backup\ncommand: x\n")
    assert [p.name for p in script_files(tmp_path / "scripts.d")] == ["a.yaml", "b.yaml"]
    assert script_files(tmp_path / "nowhere") == []


def test_top_level_must_be_a_mapping(load_config: LoadConfig) -> None:
    config = load_config("- name: x\n  command: y\n")
    (issue,) = _errors(config)
    assert "top level must be a mapping" in issue.message
    assert issue.line == 1 and issue.hint


def test_scripts_must_be_a_list(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  name: x\n  command: y\n")
    (issue,) = _errors(config)
    assert issue.path == "scripts"
    assert config.scripts == ()


# --- cross-entry rules ---------------------------------------------------------------------------


def test_duplicate_names(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config("""\
        scripts:
          - name: twin
            command: "echo 1"
          - name: twin
            command: "echo 2"
        """, scripts_d={"twin": "name: twin\ncommand: echo 3\n"})
    assert [(s.name, s.command) for s in config.scripts] == [("twin", "echo 1")]
    errors = _errors(config)
    assert len(errors) == 2
    assert errors[0].path == "scripts[1].name" and errors[0].line == 4
    assert "already exists" in errors[0].message
    assert str(tmp_path / "config.yaml") in errors[0].hint
    assert errors[1].file == str(tmp_path / "scripts.d" / "twin.yaml")


def test_interval_and_schedule_together(load_config: LoadConfig) -> None:
    config = load_config("""\
        scripts:
          - name: both
            command: "true"
            interval: 30
            schedule: "*/5 * * * *"
        """)
    (issue,) = _errors(config)
    assert (issue.path, issue.line) == ("scripts[0].schedule", 5)
    assert "both set" in issue.message and issue.hint
    assert config.scripts == ()


@pytest.mark.parametrize("name", ["web", "outbox", "notify", "config-error", "config", "target", "slice"])
def test_no_check_name_is_reserved(name: str, load_config: LoadConfig) -> None:
    """bamon's own units are bamon.<role>: every name a user may type, including 0.1's reserved ones, works."""
    config = load_config(f"scripts:\n  - name: {name}\n    command: 'true'\n")
    assert _errors(config) == []
    assert naming.script_of(naming.service(name)) == name


@pytest.mark.parametrize("unit", ["bamon.notify@bamon-web.service", "bamon.config-error.service", "bamon.target",
                                  "bamon.web.socket", "bamon.outbox.path"])
def test_bamons_own_units_are_never_checks(unit: str) -> None:
    assert naming.script_of(unit) is None


@pytest.mark.parametrize("name", ["a", "web_service", "db.primary", "x-1", "A" * 64, "webs", "notify2"])
def test_valid_names(name: str, load_config: LoadConfig) -> None:
    config = load_config(f"scripts:\n  - name: '{name}'\n    command: 'true'\n")
    assert _errors(config) == []


@pytest.mark.parametrize("name", ["", "A" * 65, "has space", "slash/name", "ümlaut", "a@b", "a:b"])
def test_invalid_names(name: str, load_config: LoadConfig) -> None:
    config = load_config(f"scripts:\n  - name: '{name}'\n    command: 'true'\n")
    (issue,) = _errors(config)
    assert issue.path == "scripts[0].name"


@pytest.mark.parametrize("name", [".", "..", ".hidden"])
def test_dot_names_are_rejected(name: str, load_config: LoadConfig) -> None:
    """"." and ".." make StateDirectory=bamon/checks/.. (and `remove` would delete the parent);
    a leading dot makes scripts.d/.NAME.yaml, which the loader ignores as hidden."""
    config = load_config(f"scripts:\n  - name: '{name}'\n    command: 'true'\n")
    assert [i.path for i in _errors(config)] == ["scripts[0].name"]


# --- the model: defaults, conversions, frozen ----------------------------------------------------


def test_defaults_come_from_the_schema(tmp_path: Path, load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  - name: minimal\n    command: 'true'\n")
    props = schema_mod.script_schema()["properties"]
    daemon = schema_mod.defaults(schema_mod.section("daemon"))
    sandbox = schema_mod.defaults(schema_mod.section("sandbox"))
    (script,) = config.scripts
    assert script.enabled is props["enabled"]["default"]
    assert script.severity == props["severity"]["default"]
    assert script.description == props["description"]["default"]
    assert script.tags == tuple(props["tags"]["default"])
    assert script.environment == ()
    assert script.user is None
    assert script.schedule is None
    assert script.interval == daemon["default_interval"]
    assert config.daemon.max_concurrent == daemon["max_concurrent"]
    assert config.daemon.history_retention_days == daemon["history_retention_days"]
    assert script.limits.timeout == sandbox["timeout"]
    assert script.limits.max_cpu_time == sandbox["max_cpu_time"]
    assert script.limits.max_file_size == sandbox["max_file_size"]
    assert script.limits.max_virtual_memory == sandbox["max_virtual_memory"]
    assert script.limits.profile == sandbox["profile"] == "balanced"
    assert (script.network, script.read_write_paths, script.capabilities) == ("any", (), ())
    assert script.source == tmp_path / "config.yaml"
    assert (script.unit, script.timer) == ("bamon-minimal.service", "bamon-minimal.timer")


def test_spans_schedules_and_overrides_are_converted(load_config: LoadConfig) -> None:
    config = load_config("""\
        daemon: {default_interval: 2min}
        sandbox: {timeout: 1min, profile: minimal}
        scripts:
          - {name: spans, command: x, interval: "1h 30min", timeout: 10s}
          - {name: cron, command: x, schedule: "*/20 * * * *", sandbox: strict}
          - {name: nickname, command: x, schedule: "@daily"}
          - {name: calendar, command: x, schedule: " Mon..Fri *-*-* 02:00 "}
          - {name: inherits, command: x}
          - name: env
            command: x
            environment: {A: text, N: 5, F: 1.5, T: true, Q: false}
            tags: [web, prod]
            user: dynamic
        """)
    assert _errors(config) == []
    spans, cron, nickname, calendar, inherits, env = config.scripts
    assert (spans.interval, spans.schedule, spans.limits.timeout, spans.limits.profile) == (5400, None, 10, "minimal")
    assert (cron.interval, cron.schedule, cron.limits.profile) == (None, "*-*-* *:00/20:00", "strict")
    assert nickname.schedule == "daily"
    assert calendar.schedule == "Mon..Fri *-*-* 02:00"
    assert (inherits.interval, inherits.limits.timeout) == (120, 60)
    assert config.daemon.default_interval == 120 and config.sandbox.timeout == 60
    assert env.environment == (("A", "text"), ("N", "5"), ("F", "1.5"), ("T", "true"), ("Q", "false"))
    assert env.tags == ("web", "prod")
    assert env.user == "dynamic"


def test_model_is_frozen(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  - name: a\n    command: x\n")
    (script,) = config.scripts
    for obj, attr, value in ((config, "scripts", ()), (script, "command", "rm -rf /"),
                             (script.limits, "timeout", 1), (config.daemon, "max_concurrent", 99)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, attr, value)
    assert isinstance(script.tags, tuple) and isinstance(script.environment, tuple)


def test_config_script_lookup(load_config: LoadConfig) -> None:
    config = load_config("scripts:\n  - name: a\n    command: x\n")
    assert config.script("a") is config.scripts[0]
    assert config.script("b") is None


# --- unreadable or missing configs ---------------------------------------------------------------


def test_missing_config_file(tmp_path: Path) -> None:
    config = load(tmp_path / "absent.yaml", tmp_path / "scripts.d")
    (issue,) = config.issues
    assert issue.fatal and issue.message == "file not found"
    assert issue.file == str(tmp_path / "absent.yaml")
    assert "bamon config reset" in issue.hint
    assert config.scripts == ()


def test_config_path_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").mkdir()
    (issue,) = load(tmp_path / "config.yaml", None).issues
    assert issue.message.startswith("cannot read") and issue.hint


def test_config_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_bytes(b"scripts:\n  - name: \xff\xfe\n")
    (issue,) = load(tmp_path / "config.yaml", None).issues
    assert issue.message == "cannot read: not valid UTF-8"


def test_load_raw_keeps_the_source_of_each_script(tmp_path: Path, write_config: WriteConfig) -> None:
    config_file = write_config("scripts:\n  - {name: a, command: x}\n",
                               scripts_d={"b": "name: b\ncommand: y\n"})
    raw = load_raw(config_file, tmp_path / "scripts.d")
    assert [(r.file.name, r.path) for r in raw.scripts] == [("config.yaml", ("scripts", 0)), ("b.yaml", ())]


def test_line_of(tmp_path: Path, write_config: WriteConfig) -> None:
    config_file = write_config("""\
        # comment
        daemon:
          max_concurrent: 3
        scripts:
          - name: a
            command: x
          - name: b
            command: y
        """)
    assert line_of(config_file, ("daemon", "max_concurrent")) == 3
    assert line_of(config_file, ("scripts", 1)) == 7
    assert line_of(config_file, ("scripts", 1, "command")) == 8
    assert line_of(config_file, ("scripts", 1, "nope")) == 7  # best effort: the closest known line
    assert line_of(tmp_path / "missing.yaml", ("daemon",)) is None


# --- values that are not even the right kind of thing never crash validation ----------------------


@pytest.mark.parametrize(("key", "value"), [
    ("interval", ""),  # `interval:` with nothing after it is null
    ("interval", "1.5"),
    ("interval", "[30]"),
    ("interval", "{a: 1}"),
    ("timeout", ""),
    ("timeout", "2.5"),
    ("schedule", "5"),
    ("schedule", ""),
    ("schedule", "[daily]"),
])
def test_wrong_kind_of_span_or_schedule_is_an_issue_not_a_crash(
    key: str, value: str, load_config: LoadConfig
) -> None:
    config = load_config(f"""\
        scripts:
          - name: good
            command: x
          - name: bad
            command: x
            {key}: {value}
        """)
    assert [s.name for s in config.scripts] == ["good"]
    assert {i.path for i in config.errors} == {f"scripts[1].{key}"}


@pytest.mark.parametrize(("section", "key", "value"), [
    ("daemon", "default_interval", ""),
    ("daemon", "default_interval", "1.5"),
    ("sandbox", "timeout", ""),
    ("sandbox", "timeout", "[1]"),
])
def test_wrong_kind_of_global_span_is_an_issue_not_a_crash(
    section: str, key: str, value: str, load_config: LoadConfig
) -> None:
    config = load_config(f"{section}:\n  {key}: {value}\nscripts:\n  - {{name: a, command: x}}\n")
    assert {i.path for i in config.errors} == {f"{section}.{key}"}
    assert [s.name for s in config.scripts] == ["a"]
