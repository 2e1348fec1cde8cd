"""bamon(1), generated from the argument parser: every command and every option is listed."""

from __future__ import annotations

from bamon import __version__
from bamon.cli.platform import PORTABLE
from bamon.cli.tree import Command, Option, bamon_tree
from bamon.manual.roff import bold, header, italic, para, quoted, sentence

DESCRIPTION = """\
.B bamon
runs monitoring commands (\\(lqchecks\\(rq) on schedules. Each check in
.I /etc/bamon/config.yaml
or
.I /etc/bamon/scripts.d/*.yaml
becomes
.B bamon\\-NAME.timer
and
.BR bamon\\-NAME.service ,
a sandboxed oneshot unit in
.BR bamon.slice .
systemd schedules and runs them; journald keeps each run's output and a record
of it; a failure starts the notifier
.BR bamon.notify@.service (8).
There is no bamon daemon.
.PP
The units come from
.BR bamon\\-generator (8)
at boot and at every
.BR "systemctl daemon\\-reload" ;
commands that change the configuration reload systemd themselves.
Installs that cannot place a generator (pip, Homebrew, snap) run
.B bamon apply
instead. With
.BR \\-\\-user ,
bamon manages your own checks under your systemd user manager, configured in
.IR ~/.config/bamon/ .
"""

TRAILER = """\
.SH FILES
.TP
.I /etc/bamon/config.yaml
The configuration, described in
.BR bamon.yaml (5).
.TP
.I /etc/bamon/scripts.d/*.yaml
One check per file; where
.B bamon add
writes.
.TP
.I ~/.config/bamon/
The same for
.BR "bamon \\-\\-user" .
.TP
.I /var/lib/bamon/
State: the last result of each check, alert state.
.SH ENVIRONMENT
.TP
.B BAMON_CONFIG
Another config.yaml, as with
.BR \\-\\-config .
.SH EXIT STATUS
0 on success; 1 on an error (one line, plus a hint) or when
.B now
saw a failing check; 2 on a usage error.
.SH EXAMPLES
.nf
bamon add web \\-c 'curl \\-fsS http://localhost:8080/health' \\-i 30s
bamon status
journalctl \\-u bamon\\-web
bamon completions bash > /etc/bash_completion.d/bamon
.fi
.SH SEE ALSO
.BR bamon.yaml (5),
.BR bamon\\-generator (8),
.BR bamon.notify@.service (8),
.BR systemctl (1),
.BR journalctl (1),
.BR systemd.timer (5),
.BR systemd.exec (5)
"""


def _usage(option: Option) -> str:
    """-n, --name NAME  as roff: flags bold, the value italic."""
    if not option.flags:
        return italic(option.metavar or option.dest.upper())
    flags = ", ".join(bold(flag) for flag in option.flags)
    return f"{flags} {italic(option.metavar)}" if option.metavar else flags


def _short_usage(option: Option) -> str:
    """The synopsis form: the first flag only."""
    flag = bold(option.flags[0])
    return f"{flag} {italic(option.metavar)}" if option.metavar else flag


def _option_help(option: Option) -> str:
    parts = [sentence(option.help or option.dest.replace("_", " "))]
    if option.choices:
        parts.append("One of: " + ", ".join(option.choices) + ".")
    if option.repeatable and "repeatable" not in option.help:
        parts.append("May be given more than once.")
    if option.check_name:
        parts.append("The name of a configured check.")
    return para(" ".join(parts))


def _synopsis(command: Command) -> str:
    words = [bold(command.name)]
    for option in command.options:
        if option.flags in (("-h", "--help"),):
            continue
        words.append(f"[{_short_usage(option)}]")
    for positional in command.positionals:
        words.append(italic(positional.metavar or positional.dest.upper()))
    if command.subcommands:
        words.append(italic("COMMAND"))
    return "\n".join(words)


def _command_section(command: Command) -> str:
    out = [f".SS {quoted(command.name)}\n", _synopsis(command), "\n.br\n",
           para(sentence(command.help)) + "\n" if command.help else ""]
    for option in (*command.positionals, *command.options):
        if option.flags == ("-h", "--help"):
            continue
        out.append(f".TP\n{_usage(option)}\n{_option_help(option)}\n")
    if command.subcommands:
        out.append(".PP\nCommands:\n" + ",\n".join(bold(" ".join(c.path)) for c in command.subcommands) + ".\n")
    return "".join(out)


def _without_systemd(paths: set[tuple[str, ...]]) -> str:
    lines = [".SH WITHOUT SYSTEMD\n",
             "On macOS, where there is no systemd, these work:\n"]
    for entry in PORTABLE:
        if entry.path in paths:
            lines.append(f".TP\n{bold(entry.usage)}\n{para(sentence(entry.why))}\n")
    lines.append(".PP\n" + para("Every other command schedules, runs or reads checks through systemd, "
                                 "and says so when it is missing.") + "\n")
    return "".join(lines)


def render(tree: Command | None = None) -> str:
    tree = tree or bamon_tree()
    out = [header("bamon", 1, __version__, "User Commands"),
           ".SH NAME\nbamon \\- health checks on systemd timers, with history in journald\n",
           ".SH SYNOPSIS\n", _synopsis(tree), "\n",
           ".SH DESCRIPTION\n", DESCRIPTION,
           ".SH OPTIONS\n"]
    for option in tree.options:
        out.append(f".TP\n{_usage(option)}\n{_option_help(option)}\n")
    out.append(".SH COMMANDS\n")
    for command in tree.walk()[1:]:
        out.append(_command_section(command))
    out.append(_without_systemd({c.path for c in tree.walk()}))
    out.append(TRAILER)
    return "".join(out)

