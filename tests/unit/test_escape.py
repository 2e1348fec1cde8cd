"""units/escape.py: text survives systemd's unquoting byte for byte.

A reference implementation of what systemd documents for ExecStart= (systemd.service(5),
"Command lines"): the line is split into words, a double-quoted word is C-unescaped, then
specifiers are expanded (%% → %), then at run time variables are expanded ($$ → $).
Environment= values go through the first two steps only. Every test command is pushed through
exec_arg()/a generated unit and back through the reference and must come out unchanged.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bamon.config.model import Config
from bamon.units import naming
from bamon.units.escape import env_assignment, exec_arg, plain
from bamon.units.render import Target, generate, service_unit

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", '"': '"', "'": "'", "s": " "}


def c_unescape(text: str) -> str:
    """systemd's cunescape() for the inside of a double-quoted word."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            raise AssertionError(f"unescaped quote inside a quoted word: {text!r}")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        code = text[i + 1]
        if code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
            i += 2
        elif code == "x":
            out.append(chr(int(text[i + 2:i + 4], 16)))
            i += 4
        elif code in "uU":
            width = 4 if code == "u" else 8
            out.append(chr(int(text[i + 2:i + 2 + width], 16)))
            i += 2 + width
        elif code in "01234567":
            out.append(chr(int(text[i + 1:i + 4], 8)))
            i += 4
        else:
            raise AssertionError(f"systemd rejects the escape \\{code}")
    return "".join(out)


def expand_specifiers(text: str) -> str:
    """Specifier expansion where the only specifier allowed is %% (anything else would change)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "%":
            if text[i + 1:i + 2] != "%":
                raise AssertionError(f"specifier %{text[i + 1:i + 2]} would be expanded in {text!r}")
            out.append("%")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def expand_variables(text: str) -> str:
    """Run-time $VAR expansion where the only form allowed is $$ (anything else would change)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$":
            if text[i + 1:i + 2] != "$":
                raise AssertionError(f"${text[i + 1:i + 2]}… would be expanded in {text!r}")
            out.append("$")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_words(line: str) -> list[str]:
    """The words of a unit-file value; each quoted word is returned with its quotes."""
    assert "\n" not in line and "\r" not in line, "a unit setting must be one line"
    words, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        start = i
        if line[i] == '"':
            i += 1
            while line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
        else:
            while i < len(line) and line[i] != " ":
                i += 1
        words.append(line[start:i])
    return words


def unquote(word: str) -> str:
    assert word.startswith('"') and word.endswith('"') and len(word) >= 2, word
    return c_unescape(word[1:-1])


def exec_word_to_argument(word: str) -> str:
    """What the program receives for one ExecStart= word, in systemd's documented order."""
    return expand_variables(expand_specifiers(unquote(word)))


COMMANDS = [
    "true",
    "curl -s -o /dev/null -w '%{http_code}' https://example.com",
    "df -h / | awk 'NR==2 {print $5}'",
    'echo "$HOME" ${USER:-nobody} $$ $1 $@ $(date +%s) `id -u`',
    "printf '%s\\n' 100% %n %i %% %%% %",
    'echo "double" \'single\' "mixed \'inner\'" \\"escaped\\"',
    "echo back\\slash \\\\ \\n \\t \\x41 \\101 C:\\\\path",
    "line one\nline two\n\n  indented line three",
    "tab\there\tand\ttrailing\t",
    "carriage\rreturn, bell\a, escape\x1b[0m, del\x7f, nul-free",
    "héllo wörld ✓ 日本語 emoji 🎉",
    "exit 7",
    "exec true",
    "trap 'echo bye' EXIT; echo hi",
    "for f in /etc/*.conf; do echo \"$f\"; done",
    "ends with a backslash \\",
    "\\",
    '"',
    "$",
    "%",
    " leading and trailing spaces ",
    "a;b & c || d && e > /dev/null 2>&1",
    "awk -F: '{ printf \"%-10s %5d\\n\", $1, $3 }' /etc/passwd",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_exec_arg_round_trips(command: str) -> None:
    word = exec_arg(command)
    assert split_words(word) == [word], "exec_arg must produce exactly one word"
    assert exec_word_to_argument(word) == command


@pytest.mark.parametrize("command", COMMANDS)
def test_service_exec_start_passes_command_byte_for_byte(load_config: Callable[..., Config], command: str) -> None:
    config = load_config(yaml.safe_dump({"scripts": [{"name": "probe", "command": command}]}))
    (script,) = config.scripts
    assert script.command == command
    unit = service_unit(script, Target(run_check=Path("/usr/lib/bamon/run-check")))
    (line,) = [entry for entry in unit.splitlines() if entry.startswith("ExecStart=")]
    words = split_words(line.removeprefix("ExecStart="))
    assert words[0] == "/bin/bash"
    assert [exec_word_to_argument(w) for w in words[1:]] == ["/usr/lib/bamon/run-check", "probe", command]


@pytest.mark.parametrize("value", [
    "http://localhost:8080/health?x=1&y=2", "$HOME stays literal", "100%", "%n %i",
    'quote " and \\ backslash', "multi\nline", "tab\tseparated", "héllo ✓", "", " padded ",
])
def test_env_assignment_round_trips(value: str) -> None:
    word = env_assignment("API_URL", value)
    assert split_words(word) == [word]
    assert expand_specifiers(unquote(word)) == f"API_URL={value}"


@pytest.mark.parametrize(("text", "expected"), [
    ("Check website health", "Check website health"),
    ("100% sure", "100%% sure"),
    ("multi\nline\tdescription", "multi line description"),
    ("  spaced   out  ", "spaced out"),
])
def test_plain(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_plain_text_cannot_continue_the_unit_line() -> None:
    """A trailing backslash would join Description= with the next line of the unit file."""
    assert not plain("ends with a backslash \\").endswith("\\")


@pytest.mark.parametrize(("text", "expected"), [
    ("C:\\ \\\\ \n", "C:"),
    ("a\\b", "a\\b"),  # only the end of the line continues it
    ("path\\\n", "path"),
    ("\\", ""),
])
def test_plain_drops_only_trailing_backslashes(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_reference_rejects_what_systemd_would_change() -> None:
    with pytest.raises(AssertionError):
        expand_specifiers("%n")
    with pytest.raises(AssertionError):
        expand_variables("$HOME")
    with pytest.raises(AssertionError):
        c_unescape("\\q")
    assert c_unescape("\\x41\\101\\u00e9\\s") == "AAé "


def test_config_error_unit_really_prints_and_fails(load_config: Callable[..., Config]) -> None:
    """bamon.config-error.service's ExecStart=, unquoted by the reference, prints and fails."""
    config = load_config("scripts:\n  - {name: b, comand: x}\n")
    units = generate(config, Target(run_check=Path("/usr/lib/bamon/run-check"))).units
    (line,) = [e for e in units[naming.CONFIG_ERROR].splitlines() if e.startswith("ExecStart=")]
    line = line.removeprefix("ExecStart=")
    argv = [exec_word_to_argument(w) if w.startswith('"') else w for w in split_words(line)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout.startswith("bamon: ") and "unknown key 'comand'" in done.stdout
