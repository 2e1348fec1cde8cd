"""The script scan: shellcheck, dangerous patterns and file permissions of what a check runs.

Three sources of findings, each with a line and a fix:
  PATTERNS   a table of (id, regex, message, fix): downloads piped to a shell, eval of command
             output, credentials written into the command. Applied line by line to the inline
             command and to the shell scripts it names.
  FILE_RULES a table of checks on each file the command names and the directories above it:
             world-writable, or not owned by root while the check runs as root.
  shellcheck the Debian package's own analysis (skipped with a note when it is not installed).
The table rows are data; adding a pattern is adding a row (tests/unit/test_scan.py has a true
and a false positive for each).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bamon.config.model import Script

SEVERITIES = ("high", "medium", "low", "info")  # most serious first
INLINE = "command"  # a finding's source when it is in the check's own command


@dataclass(frozen=True)
class Finding:
    check: str
    source: str  # "command" or the path of a script file the command names
    line: int  # 1-based; 0 for a finding about a file as a whole (its permissions)
    rule: str  # a pattern id, a file rule id, or SC#### for shellcheck
    severity: str
    message: str
    fix: str

    def as_json(self) -> dict[str, object]:
        return {"check": self.check, "source": self.source, "line": self.line, "rule": self.rule,
                "severity": self.severity, "message": self.message, "fix": self.fix}

    def __str__(self) -> str:
        where = self.source if self.source != INLINE else "command"
        return f"{self.check}: {where}{f':{self.line}' if self.line else ''}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Pattern:
    id: str
    regex: re.Pattern[str]
    severity: str
    message: str
    fix: str


def _p(rule: str, regex: str, severity: str, message: str, fix: str) -> Pattern:
    return Pattern(rule, re.compile(regex), severity, message, fix)


# A value that is written out, not taken from a variable or a stored secret ($X, "${X}", '$X').
_LITERAL = r"""(?!["']?\$)["']?[^\s"'$]{3,}"""
_SECRET_FIX = ("keep it out of the command, which the unit file, `systemctl show` and `ps` show to every "
               "user: read it at run time from a root-only file (curl --netrc-file FILE, "
               "`. /etc/bamon/NAME.env` with mode 0600)")
PATTERNS: tuple[Pattern, ...] = (
    _p("download-to-shell", r"\b(?:curl|wget|fetch)\b[^|;&#]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/\S*/)?(?:ba|da|z|k)?sh\b",
       "high", "a download is piped into a shell: whoever controls the server (or the network) runs code here",
       "download to a file, check its checksum or signature, then run that file"),
    _p("download-to-shell", r"\b(?:ba|da|z|k)?sh\s+(?:-\S+\s+)*<\(\s*(?:curl|wget)\b",
       "high", "a shell runs a download (process substitution): whoever controls the server runs code here",
       "download to a file, check its checksum or signature, then run that file"),
    _p("download-to-shell", r"""\b(?:ba|da|z|k)?sh\s+-c\s+["']?\$\(\s*(?:curl|wget)\b""",
       "high", "a shell runs a download (sh -c \"$(curl …)\"): whoever controls the server runs code here",
       "download to a file, check its checksum or signature, then run that file"),
    _p("eval-output", r"""\beval\b[^#\n]*(?:\$\(|`)""",
       "medium", "eval runs what a command printed: any text that command outputs becomes code",
       "parse the output (read, case, jq) instead of evaluating it"),
    _p("inline-credential",
       rf"(?i)\b(?:password|passwd|pass|pwd|secret|api[_-]?key|access[_-]?key|token)\s*[=:]\s*{_LITERAL}",
       "medium", "a credential is written in the command", _SECRET_FIX),
    _p("inline-credential", r"""(?i)authorization:\s*(?:bearer|basic|token)\s+(?!\$)[A-Za-z0-9._~+/=-]{8,}""",
       "medium", "an Authorization header with its credential is written in the command", _SECRET_FIX),
    _p("inline-credential", rf"""(?:\s-u\s*|\s--user[\s=])["']?[^\s:"'$]+:{_LITERAL}""",
       "medium", "a user:password pair is written in the command", _SECRET_FIX),
    _p("inline-credential", r"""://[^/\s:@"'$]+:(?!["']?\$)[^@\s/"']+@""",
       "medium", "a URL carries a password (scheme://user:password@host)", _SECRET_FIX),
    _p("inline-credential",
       r"\b(?:ghp_[A-Za-z0-9]{36}|glpat-[A-Za-z0-9_-]{20}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b",
       "medium", "an access token (GitHub, GitLab, Slack or AWS form) is written in the command", _SECRET_FIX),
)


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def match_patterns(check: str, source: str, text: str) -> list[Finding]:
    """Every pattern on every line of `text` (full-line comments are skipped), once per line and rule."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if _comment(line):
            continue
        seen: set[str] = set()
        for pattern in PATTERNS:
            if pattern.id not in seen and pattern.regex.search(line):
                seen.add(pattern.id)
                found.append(Finding(check, source, number, pattern.id, pattern.severity, pattern.message, pattern.fix))
    return found


# --- the files a command names --------------------------------------------------------------------
def referenced_files(command: str) -> list[Path]:
    """Absolute paths in the command that are existing regular files (scripts, binaries, configs)."""
    files: dict[Path, None] = {}
    for line in command.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # unbalanced quotes: shellcheck reports those
            words = line.split()
        for word in words:
            for part in re.split(r"[;&|<>()`]", word):
                if part.startswith("/") and Path(part).is_file():
                    files[Path(part)] = None
    return list(files)


_SHEBANG = re.compile(r"^#!\s*(?:/usr)?/bin/(?:env\s+)?(?:ba|da|k)?sh\b")


def is_shell_script(path: Path) -> bool:
    if path.suffix in (".sh", ".bash"):
        return True
    try:
        with path.open("rb") as handle:
            first = handle.readline(200).decode("utf-8", "replace")
    except OSError:
        return False
    return bool(_SHEBANG.match(first))


@dataclass(frozen=True)
class FileRule:
    id: str
    severity: str
    # (path, its lstat, the check runs as root) -> the message when the rule is broken, else None
    broken: Callable[[Path, os.stat_result, bool], str | None]
    fix: str


def _world_writable(path: Path, st: os.stat_result, root: bool) -> str | None:
    if not st.st_mode & stat.S_IWOTH or stat.S_ISLNK(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX:
        return None  # sticky (/tmp): others may add files, not replace this one
    kind = "directory" if stat.S_ISDIR(st.st_mode) else "file"
    return f"{path} is a world-writable {kind}: any user can change what this check runs"


def _owner_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _not_root_owned(path: Path, st: os.stat_result, root: bool) -> str | None:
    if not root or st.st_uid == 0:
        return None
    return f"{path} belongs to {_owner_name(st.st_uid)}, yet the check runs as root: that user can run code as root"


FILE_RULES: tuple[FileRule, ...] = (
    FileRule("world-writable", "high", _world_writable, "chmod o-w on it (and keep scripts in a root-owned directory)"),
    FileRule("non-root-owner", "high", _not_root_owned,
             "chown root: on it and its directory, or run the check as that user (user: NAME)"),
)


def _chain(path: Path) -> Iterable[Path]:
    """The file and every directory above it."""
    yield path
    yield from path.parents


def file_findings(check: str, path: Path, root: bool) -> list[Finding]:
    found = []
    for item in _chain(path):
        try:
            st = item.lstat()
        except OSError:
            continue
        for rule in FILE_RULES:
            message = rule.broken(item, st, root)
            if message:
                found.append(Finding(check, str(path), 0, rule.id, rule.severity, message, rule.fix))
    return found


# --- shellcheck -------------------------------------------------------------------------------------
ShellcheckRunner = Callable[[Sequence[str], str], "subprocess.CompletedProcess[str]"]
_LEVELS = {"error": "medium", "warning": "low", "info": "info", "style": "info"}


def _run(argv: Sequence[str], text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), input=text, capture_output=True, text=True, check=False, timeout=120)


def shellcheck(check: str, source: str, text: str, runner: ShellcheckRunner = _run) -> list[Finding] | None:
    """shellcheck's comments on `text` (bash unless its shebang says otherwise); None without shellcheck."""
    shell = [] if text.startswith("#!") else ["--shell=bash"]
    argv = ["shellcheck", "--format=json1", "--severity=info", *shell, "-"]
    try:
        done = runner(argv, text)
    except FileNotFoundError:
        return None
    try:
        comments = json.loads(done.stdout or "{}").get("comments", [])
    except ValueError:
        return [Finding(check, source, 0, "shellcheck", "info", f"shellcheck gave no report: {done.stderr.strip()}",
                        "run shellcheck on it by hand")]
    return [Finding(check, source, int(c.get("line", 0)), f"SC{c.get('code')}", _LEVELS.get(c.get("level"), "info"),
                    str(c.get("message", "")), f"see https://www.shellcheck.net/wiki/SC{c.get('code')}")
            for c in comments]


# --- a whole check ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    shellcheck: bool  # False: shellcheck is not installed, its part was skipped


def scan(script: Script, runs_as_root: bool, runner: ShellcheckRunner = _run) -> Report:
    """Every finding about one check: its command, the files it names and their directories."""
    findings = match_patterns(script.name, INLINE, script.command)
    checked = shellcheck(script.name, INLINE, script.command, runner)
    have_shellcheck = checked is not None
    findings += checked or []
    for path in referenced_files(script.command):
        findings += file_findings(script.name, path, runs_as_root)
        if is_shell_script(path):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            findings += match_patterns(script.name, str(path), text)
            if have_shellcheck:
                findings += shellcheck(script.name, str(path), text, runner) or []
    return Report(tuple(findings), have_shellcheck)


def serious(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that need action (high and medium)."""
    return [f for f in findings if f.severity in ("high", "medium")]


def scan_checks(scripts: Sequence[Script], user_mode: bool, runner: ShellcheckRunner = _run) -> Report:
    """Every finding about `scripts`, each judged as the user it runs as (root or not)."""
    from bamon.units import hardening

    findings: list[Finding] = []
    have_shellcheck = True
    for script in scripts:
        root = hardening.is_root(hardening.run_as(script, user_mode), user_mode)
        report = scan(script, root, runner)
        findings += report.findings
        have_shellcheck &= report.shellcheck
    return Report(tuple(findings), have_shellcheck)
