"""Check templates: placeholders (what is one and what passes through), typed parameters, quoting
that bash reads back byte for byte, located errors, the built-in library and `bamon template`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bamon.config import schema as schema_mod
from bamon.paths import BUILTIN_TEMPLATES
from bamon.templates.catalog import build, slug
from bamon.templates.expand import Parameter, Template, TemplateError, definition_errors, expand
from bamon.templates.params import KINDS
from tests.unit.conftest import CliResult, LoadConfig, WriteConfig

Cli = Callable[..., CliResult]


def _template(command: str, *params: Parameter) -> Template:
    return Template("t", command, params)


# --- placeholders: what is substituted and what passes through untouched ------------------------

@pytest.mark.parametrize(("command", "expected"), [
    ("curl {url}", "curl https://example.com/x"),  # a placeholder
    ("curl -w '%{http_code}' {url}", "curl -w '%{http_code}' https://example.com/x"),  # curl's own braces
    ("echo ${url} $url {url}", "echo ${url} $url https://example.com/x"),  # the shell's
    ("df | awk '{print $5}'", "df | awk '{print $5}'"),  # awk: not a bare name
    ("awk '{{next}}' f", "awk '{next}' f"),  # {{name}}: a literal {name}
    ("echo {a,b} {1..3}", "echo {a,b} {1..3}"),  # brace expansion
    ("echo {url}{url}", "echo https://example.com/xhttps://example.com/x"),
])
def test_placeholders(command: str, expected: str) -> None:
    template = _template(command, Parameter("url", "url", required=True))
    assert not definition_errors(template)
    assert expand(template, {"url": "https://example.com/x"}) == expected


@pytest.mark.parametrize(("command", "message"), [
    ("curl {nope}", "placeholder {nope} is not a declared parameter"),
    ("awk '{next}'", "placeholder {next} is not a declared parameter"),  # escape it as {{next}}
    ("curl '{url}'", "placeholder {url} is inside quotes"),
    ('curl "{url}"', "placeholder {url} is inside quotes"),
])
def test_bad_placeholders_are_definition_errors(command: str, message: str) -> None:
    errors = definition_errors(_template(command, Parameter("url", "url", required=True)))
    assert [e.message for e in errors] == [message]
    assert errors[0].key == ("command",) and errors[0].hint


def test_parameter_definitions_are_checked() -> None:
    errors = definition_errors(_template("echo {a} {b}", Parameter("a", "int", default="x"), Parameter("b")))
    assert [e.message for e in errors] == ["default 'x' is not a whole number",
                                           "parameter 'b' is optional but has no default"]


# --- quoting: bash gets back exactly the value, as one word -----------------------------------------

NASTY = ["it's", 'say "hi"', "a b\tc", "$(touch /tmp/pwned)", "`id`", "x; rm -rf /", "back\\slash",
         "new\nline", "ünïcödé", "*", "", "-n", "$HOME", "%{http_code}", "{url}"]


@pytest.mark.parametrize("value", NASTY)
def test_values_reach_the_shell_as_one_exact_word(value: str) -> None:
    command = expand(_template("printf '%s\\0' {v} end", Parameter("v", required=True)), {"v": value})
    out = subprocess.run(["bash", "-c", command], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [value.encode(), b"end"]


def test_args_are_each_their_own_word() -> None:
    template = _template("printf '%s\\0' {args}", Parameter("args", "args", default=[]))
    cases = ((["-w", "20 %", "it's"], ["-w", "20 %", "it's"]), ('-w 80 -c "9 0"', ["-w", "80", "-c", "9 0"]),
             ([], [""]))
    for given, words in cases:
        out = subprocess.run(["bash", "-c", expand(template, {"args": given})], capture_output=True, check=True).stdout
        assert out.decode().split("\0")[:-1] == words


# --- types -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "given", "value"), [
    ("int", "443", 443), ("int", -3, -3), ("number", "0.5", 0.5), ("number", 2, 2), ("bool", "yes", True),
    ("bool", False, False), ("url", "https://a.example/x?y=1", "https://a.example/x?y=1"), ("path", "/srv", "/srv"),
    ("host", "db.example.com", "db.example.com"), ("host", "::1", "::1"), ("port", "8080", 8080),
    ("string", 5, "5"), ("args", "-a 'b c'", ["-a", "b c"]),
])
def test_types_accept(kind: str, given: object, value: object) -> None:
    assert KINDS[kind].check(given) == value


@pytest.mark.parametrize(("kind", "given"), [
    ("int", "4.5"), ("int", True), ("int", "12a"), ("number", "fast"), ("bool", "maybe"), ("url", "example.com"),
    ("url", "http://a b"), ("path", "relative/x"), ("host", "a..b"), ("host", "-x"), ("port", 0), ("port", 70000),
    ("string", ["a"]), ("args", [True]), ("args", "unclosed 'quote"),
])
def test_types_reject(kind: str, given: object) -> None:
    with pytest.raises(ValueError):
        KINDS[kind].check(given)


def test_the_schema_offers_exactly_the_types_there_are() -> None:
    enum = schema_mod.schema()["$defs"]["template_parameter"]["properties"]["type"]["enum"]
    assert sorted(enum) == sorted(KINDS)


@pytest.mark.parametrize(("params", "key", "message"), [
    ({}, ("params",), "missing parameter 'url' of template 't'"),
    ({"url": "nope"}, ("params", "url"), "'nope' is not a URL (parameter url of template 't')"),
    ({"url": "https://x", "colour": 1}, ("params", "colour"), "template 't' has no parameter 'colour'"),
    ("url=x", ("params",), "params is not a mapping"),
])
def test_bad_params(params: object, key: tuple[str, ...], message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        expand(_template("curl {url}", Parameter("url", "url", required=True)), params)
    assert (caught.value.key, caught.value.message) == (key, message)
    assert caught.value.hint


# --- the library ------------------------------------------------------------------------------------------

def test_the_built_in_library_is_complete_and_valid(tmp_path: Path) -> None:
    catalog = build({}, tmp_path / "config.yaml", None)
    assert catalog.issues == []
    assert {slug(t.name) for t in catalog} == {
        "http-check", "tcp-port", "tls-cert-expiry", "dns-answer", "disk-usage", "inode-usage", "memory", "load",
        "process-running", "systemd-unit-active", "ping", "file-freshness", "nagios-plugin"}
    assert all(t.source == "built-in" and t.description for t in catalog)
    assert len(list(BUILTIN_TEMPLATES.glob("*.yaml"))) == 13


@pytest.mark.parametrize(("name", "params", "exit_status", "output"), [
    ("disk-usage", {"path": "/", "max_percent": 100}, 0, "% used"),
    ("disk-usage", {"path": "/", "max_percent": -1}, 1, "% used"),
    ("inode-usage", {"max_percent": 100}, 0, "% of inodes used"),
    ("memory", {"max_percent": 100}, 0, "memory "),
    ("memory", {"max_percent": -1}, 1, "memory "),
    ("load", {"max_per_cpu": 1000}, 0, "per CPU"),
    ("file-freshness", {"path": "{fresh}", "max_age": 60}, 0, "s old"),
    ("file-freshness", {"path": "{fresh}", "max_age": -1}, 1, "s old"),
    ("file-freshness", {"path": "/nonexistent/backup"}, 2, ""),
    ("process-running", {"process": "no-such-process-xyz"}, 1, "0 running: no-such-process-xyz"),
    ("tcp-port", {"port": 1, "timeout": 2}, 1, ""),
])
def test_built_in_commands_run(tmp_path: Path, name: str, params: dict[str, object], exit_status: int,
                               output: str) -> None:
    template = build({}, tmp_path / "config.yaml", None).find(name)
    assert template is not None
    (tmp_path / "fresh").touch()
    params = {k: str(tmp_path / "fresh") if v == "{fresh}" else v for k, v in params.items()}
    done = subprocess.run(["bash", "-c", expand(template, params)], capture_output=True, text=True, check=False)
    assert done.returncode == exit_status, done
    assert output in done.stdout


# --- in the config: expanded at load, located errors -----------------------------------------------

def test_a_template_script_gets_the_expanded_command(load_config: LoadConfig) -> None:
    config = load_config("""
        templates:
          - name: Greeting Check
            command: "echo {greeting} {who}"
            parameters: [{name: greeting, default: hi}, {name: who, required: true}]
        scripts:
          - {name: a, template: greeting_check, params: {who: "the world; id"}}
          - {name: b, template: nagios-plugin, params: {plugin: /usr/lib/nagios/plugins/check_load, args: [-w, "5"]}}
    """)
    assert config.errors == ()
    a, b = config.scripts
    assert a.command == "echo hi 'the world; id'" and a.template == "greeting_check"
    assert b.command == "/usr/lib/nagios/plugins/check_load -w 5"
    assert b.output_format == "nagios"  # the template's suggested setting


def test_templates_d_and_config_override_the_library(write_config: WriteConfig) -> None:
    config = write_config("""
        templates: [{name: memory, command: "echo config", parameters: []}]
        scripts: [{name: m, template: memory}, {name: l, template: load}]
    """)
    (config.parent / "templates.d").mkdir()
    (config.parent / "templates.d" / "load.yaml").write_text("name: load\ncommand: echo templates.d\n")
    from bamon.config.model import load
    scripts = load(config, config.parent / "scripts.d").scripts
    assert [s.command for s in scripts] == ["echo config", "echo templates.d"]


def test_template_problems_are_located_with_hints(load_config: LoadConfig, tmp_path: Path) -> None:
    config = load_config("""
        templates:
          - name: bad
            command: "echo {nope}"
        scripts:
          - name: ok
            command: "true"
          - name: wrong_type
            template: tcp-port
            params: {port: https}
          - name: missing
            template: http-check
          - name: uses_bad
            template: bad
          - name: typo
            template: htp-check
          - name: both
            template: memory
            command: free
    """)
    assert [s.name for s in config.scripts] == ["ok"]  # the others are skipped, the valid one stays
    assert [(i.line, i.path, i.message) for i in config.errors] == [
        (4, "templates[0].command", "template 'bad': placeholder {nope} is not a declared parameter"),
        (10, "scripts[1].params.port",
         "'https' is not a port number (1-65535) (parameter port of template 'tcp-port')"),
        (11, "scripts[2].params", "missing parameter 'url' of template 'http-check'"),
        (14, "scripts[3].template", "template 'bad' has problems"),
        (16, "scripts[4].template", "no template named 'htp-check'"),
        (18, "scripts[5].template", "command and template are both set")]
    assert all(i.hint and i.file == str(tmp_path / "config.yaml") and i.line for i in config.errors)
    assert "did you mean 'http-check'?" in config.errors[4].hint


def test_a_broken_templates_d_file_is_reported(write_config: WriteConfig) -> None:
    config = write_config("scripts: []\n")
    (config.parent / "templates.d").mkdir()
    (config.parent / "templates.d" / "x.yaml").write_text("name: x\ncommand: echo\nparameters: [{name: a, typ: int}]\n")
    from bamon.config.model import load
    (issue,) = load(config, config.parent / "scripts.d").errors
    assert (issue.file, issue.line, issue.path, issue.message) == (
        str(config.parent / "templates.d" / "x.yaml"), 3, "parameters[0].typ", "unknown key 'typ'")
    assert issue.hint == "did you mean 'type'?"


# --- the commands -----------------------------------------------------------------------------------------

def test_template_list_and_show(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts: []\n")
    listed = cli("--config", str(config), "template", "list")
    assert listed.code == 0 and "http-check" in listed.out and "nagios-plugin" in listed.out
    shown = cli("--config", str(config), "template", "show", "http_check", "--json")
    assert shown.code == 0
    assert yaml.safe_load(shown.out)["parameters"][0] == {
        "name": "url", "type": "url", "required": True, "default": None, "description": "the URL to fetch"}


def test_template_create_writes_a_check(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts: []\n")
    result = cli("--config", str(config), "template", "create", "--from-template", "http-check",
                 "--url", "https://api.example.com", "--max-latency=0.5", "-i", "30s")
    assert result.code == 0, result.err
    target = config.parent / "scripts.d" / "http-check-api.example.com.yaml"
    assert yaml.safe_load(target.read_text()) == {
        "name": "http-check-api.example.com", "template": "http-check", "interval": "30s",
        "params": {"url": "https://api.example.com", "max_latency": 0.5}}
    from bamon.config.model import load
    script = load(config, config.parent / "scripts.d").scripts[0]
    assert f"command: {script.command}" in result.out and "https://api.example.com)" in script.command


def test_add_with_template_and_params_writes_typed_values(cli: Cli, write_config: WriteConfig) -> None:
    config = write_config("scripts: []\n")
    result = cli("--config", str(config), "add", "ssh", "--template", "tcp-port", "--param", "port=22")
    assert result.code == 0, result.err
    assert yaml.safe_load((config.parent / "scripts.d" / "ssh.yaml").read_text())["params"] == {"port": 22}


@pytest.mark.parametrize(("args", "message", "hint"), [
    (["template", "create", "--from-template", "tcp-port", "--port", "abc"],
     "params.port: 'abc' is not a port number (1-65535) (parameter port of template 'tcp-port')",
     "give a port number (1-65535), e.g. port: 443"),
    (["template", "create", "--from-template", "http-check"],
     "params: missing parameter 'url' of template 'http-check'",
     "add it: params: {url: https://example.com/health} (url: a URL (required))"),
    (["template", "create", "--from-template", "htp-check", "--url", "x"], "no template named 'htp-check'",
     "did you mean 'http-check'?"),
    (["template", "create", "--from-template", "memory", "--colour", "red"],
     "params.colour: template 'memory' has no parameter 'colour'",
     "its parameters: max_percent (see `bamon template show memory`)"),
    (["template", "create", "--from-template", "memory", "--max-percent"], "--max-percent needs a value",
     "e.g. --max-percent VALUE (see bamon template show)"),
    (["template", "show", "nope"], "no template named 'nope'", "see `bamon template list`"),
    (["add", "x", "-c", "true", "--url", "y"], "unrecognized arguments: --url y", "see `bamon --help`"),
])
def test_bad_input_is_one_line_with_a_hint(cli: Cli, write_config: WriteConfig, args: list[str], message: str,
                                           hint: str) -> None:
    config = write_config("scripts: []\n")
    result = cli("--config", str(config), *args)
    lines = [line for line in result.err.splitlines() if not line.startswith("bamon: --config")]
    assert result.code != 0
    assert lines == [f"bamon: error: {message}", f"  hint: {hint}"]
    assert not (config.parent / "scripts.d").exists() or not list((config.parent / "scripts.d").iterdir())
