"""bamon/units/shell.py: which commands run-check may run without a subshell.

A "yes" must be right (tests/unit/test_run_check.py runs plain commands both ways and compares
them with `bash -c`); a "no" only costs a fork, so the doubtful cases below must all be "no".
"""

from __future__ import annotations

import subprocess

import pytest

from bamon.units import shell

PLAIN = [
    "true",
    "curl -fsS --max-time 5 http://localhost:8080/health",
    "systemctl is-active --quiet nginx",
    "/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /",
    "pg_isready -q -h 127.0.0.1",
    "df -h / | tail -1",
    "test -s /var/log/app.log && echo fresh",
    "[ -d /srv/data ]",
    "ping -c1 -W1 192.168.1.1 >/dev/null 2>&1",
    "ls /var/spool/*.lock",
    "uptime\nfree -m\n",
    "  echo padded  ",
    "echo a; # a comment\necho b",
    "curl -f http://x/#!/route",
    "sleep 1 & wait_for_it",  # a program named wait_for_it, not the builtin wait
    "echo -e done",  # echo ends its line: the record still starts one of its own
    "/usr/bin/printf partial",  # another process: journald starts a new line where the writer changes
]

NOT_PLAIN = {
    "": "nothing to run",
    "   ": "nothing to run",
    "exit 3": "exit leaves run-check's shell",
    "echo ok; exit 0": "exit after a list",
    "true && exec curl http://x": "exec replaces the shell",
    "exec 3<>/dev/tcp/localhost/5432": "exec with redirections (also has no $ but < >)",
    "trap x EXIT": "trap",
    "set -e": "set changes the shell's options",
    "cd /tmp && ls": "cd moves the shell",
    "read line": "read assigns a variable",
    "printf -v x %s y": "printf -v assigns",
    "ulimit -f 0": "ulimit",
    "umask 777": "umask",
    "source /etc/profile": "source runs a file in the shell",
    ". /etc/profile": ". is source",
    "eval ls": "eval",
    "builtin exit": "builtin",
    "command exit": "command",
    "kill -9 -1": "kill is a builtin too",
    "wait": "wait",
    "if true; then exit; fi": "if: a compound command",
    "! false": "! negates a pipeline",
    "time ls": "time is a keyword",
    "while true; do echo; done": "loops",
    "for i in 1 2; do echo; done": "for assigns",
    "[[ -d /tmp ]]": "[[ is a keyword",
    "X=1 ls": "an assignment",
    "ls $HOME": "an expansion",
    "echo `id`": "command substitution",
    "echo $(id)": "command substitution",
    "echo 'quoted'": "quotes could spell any word",
    'ex"i"t 3': "quotes could spell exit",
    "e\\xit 3": "a backslash could spell exit",
    "(exit 3)": "a subshell group",
    "{ exit 3; }": "a brace group",
    "f() { :; }; f": "a function",
    ">/tmp/x ls": "a redirection first",
    "%1": "a job",
    "__bamon_record success": "run-check's own function",
    "_Brecord success": "run-check's own function, as installed",
    "echo héllo": "outside plain ASCII",
    "echo -n partial": "echo -n leaves its line open: in run-check's own process it would join the record",
    "echo -en partial": "-n among other options",
    "true; echo -n -e partial": "-n after another option, not the first command",
    "echo a\rb": "a control character",
}


@pytest.mark.parametrize("command", PLAIN)
def test_plain_words_run_inline(command: str) -> None:
    assert shell.runs_inline(command)


@pytest.mark.parametrize("command", NOT_PLAIN, ids=list(NOT_PLAIN.values()))
def test_anything_doubtful_keeps_its_subshell(command: str) -> None:
    assert not shell.runs_inline(command)


def test_the_builtin_and_keyword_lists_are_this_bashs() -> None:
    """A builtin missing from the lists would be taken for a program: they must cover bash's own."""
    listed = subprocess.run(["/bin/bash", "-c", "compgen -b; compgen -k"], capture_output=True, text=True,
                            check=True).stdout.split()
    assert set(listed) <= shell._BUILTINS | shell._KEYWORDS
