"""Whether a check's command may run in run-check's own shell, without a subshell.

run-check runs a command with `eval`. In a subshell, the command's `exit`, `exec`, traps and
assignments cannot skip or corrupt the run record that follows it; but the subshell is a fork on
every run, about a sixth of what a whole successful run of `true` costs the host
(bench/timers.py). Most checks are plain words — `curl -fsS http://localhost/health`,
`systemctl is-active nginx`, a Nagios plugin with its options — and a command of plain words
can do none of those things, so the generator tells run-check to skip the subshell for them
(`BAMON_INLINE=1`, docs/run-check.md).

The test is deliberately conservative and decided once, when the unit is written: any
character that could expand, quote, group or assign, or any shell builtin or keyword in command
position, and the command keeps its subshell. A wrong "no" costs one fork; a wrong "yes" could
lose a record, so every doubt is a "no".

Output without a final newline is the one thing a builtin may do that matters: under systemd the
command's output and run-check's record share one journal stream, and journald ends a line at a
newline or where the writing process changes (`_LINE_BREAK=pid-change`). A program or a
subshell is another process, so the record starts a line of its own after it; `echo -n` run in
run-check's own shell is not, and its text would join the record line, which history then no
longer finds. So `echo` with an option holding `n` keeps its subshell.
"""

from __future__ import annotations

import re

from bamon.units import minify

# Only these characters: no $ ` \ ' " (expansions and quoting, which could spell any word),
# no ( ) { } (subshells, groups, functions), no = (assignments). Globs, redirections, pipes,
# lists and comments stay: they cannot change the shell that runs them.
_PLAIN = re.compile(r"[A-Za-z0-9 \t\n_./:,@%+~^*?!#\[\]<>|&;-]*")
# Where a new command may begin: after ; & | and newlines (&& || |& are made of these). Splitting
# also inside `2>&1` only adds words to check, never hides one.
_SEPARATORS = re.compile(r"[;&|\n]")

# bash 5.2's builtins (`compgen -b`) and reserved words (`compgen -k`): any of them in command
# position may change the shell (exit, exec, trap, set, read, cd, …) or start a compound command
# whose body this check does not follow (if, while, time, !, [[, …).
_BUILTINS = frozenset(
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs "
    "disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local "
    "logout mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend "
    "test times trap true type typeset ulimit umask unalias unset wait".split())
_KEYWORDS = frozenset("if then else elif fi case esac for select while until do done in function time { } ! [[ ]] "
                      "coproc".split())
# ... except those that only read their arguments and print or return a status.
_CHANGES_SHELL = (_BUILTINS | _KEYWORDS) - {"true", "false", ":", "test", "[", "echo"}
# A command name: a program in $PATH or a path to one (not %job, ~user, or a redirection first).
_NAME = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:,@+-]*|\[")


def runs_inline(command: str) -> bool:
    """True when `command` can run in run-check's own shell with the same effect as in a subshell."""
    if not command.strip() or not _PLAIN.fullmatch(command):
        return False
    for segment in _SEPARATORS.split(command):
        words = segment.split()
        if not words or words[0].startswith("#"):  # an empty list item, or a comment to the line's end
            continue
        name = words[0]
        # a redirection first, a glob, or one of run-check's own names (as in the sources, or installed)
        if not _NAME.fullmatch(name) or name.startswith((minify.PREFIX, minify.SHORT_PREFIX)):
            return False
        if name in _CHANGES_SHELL:
            return False
        if name == "echo" and any(word.startswith("-") and "n" in word for word in words[1:]):
            return False  # its line left open, run-check's record line would join it (_LINE_BREAK)
    return True
