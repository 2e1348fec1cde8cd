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

# Prose about the alerting side (rules, channels) that no parser can say.
ALERTS = """\
.SH ALERTS
A failed run starts the notifier (\\fBbamon.notify@.service\\fR), which applies
the rules in \\fBalerts.rules\\fR and sends to \\fBalerts.channels\\fR. Each
matching rule alerts once per failure episode; the first success afterwards
sends one "recovered" (started by \\fBbamon.recover@NAME.path\\fR; ordinary
successful runs start no process). Every decision is a journal record:
\\fBjournalctl BAMON_EVENT=alert.decision BAMON_CHECK=NAME\\fR.
.PP
.nf
alerts:
  channels:
    - {name: chat, type: webhook, url: "https://hooks.example.com/bamon"}
    - {name: pager, type: pagerduty, routing_key: "${secret:pagerduty_key}"}
  escalation_policies:
    office-hours: {steps: [{after: 15m, channels: [pager], severity: critical}]}
  rules:
    - {name: failures, condition: "status == 'FAILED'", channels: [chat],
       escalation: office-hours, cooldown: 5m, repeat: 1h}
    - {name: slow, condition: "duration > 5 or error_rate > 0.1", window: 1h, tags: [prod]}
.fi
.PP
Rule keys: \\fBname\\fR, \\fBcondition\\fR, \\fBchannels\\fR (default all),
\\fBseverity\\fR and \\fBtags\\fR (filters), \\fBcooldown\\fR, \\fBrepeat\\fR,
\\fBwindow\\fR (for error_rate), \\fBescalation\\fR (immediate, gradual \\(em one
channel more every \\fBalerts.gradual_step\\fR \\(em or a policy name). Condition
fields: status, exit_code, failure_reason, duration, consecutive_failures,
error_rate, output, severity, tags; operators == != < <= > >= in, not in, and,
or, not. Conditions are type-checked by \\fBconfig validate\\fR and never
evaluated as code. Without rules, every failure episode alerts every channel
once. A script's \\fBhint:\\fR is shown in its alerts. Alert text comes from
Jinja2 templates; files in /etc/bamon/templates/ (failure.title.j2,
failure.body.j2, recovery.title.j2, recovery.body.j2) override the built-in
ones.
.PP
Channel types: \\fBemail\\fR (smtp_server, port, security starttls|tls|none,
username, password, from, to), \\fBslack\\fR, \\fBteams\\fR, \\fBdiscord\\fR
(webhook_url), \\fBwebhook\\fR (url, method, headers, signing_secret, template),
\\fBpagerduty\\fR (routing_key), \\fBntfy\\fR (topic, server, token),
\\fBapprise\\fR (urls; needs the apprise library). All take timeout and retries.
A transient failure (timeout, refused, 5xx, 429, SMTP 4xx) is retried, then
kept in the outbox, which \\fBbamon.outbox.path\\fR and \\fBbamon.outbox.timer\\fR
retry with backoff until delivered or a day old; every delivery is a journal
record (\\fBjournalctl BAMON_EVENT=alert.delivery\\fR).
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
writes. Edits of these files and of config.yaml go live by themselves:
.B bamon.config\\-watch.path
runs
.B bamon config reload
on every save (an edit with a problem is refused as a whole and shown by
.BR bamon.config\\-error.service ).
.TP
.I /etc/bamon/templates.d/*.yaml
Check templates of your own, one per file
.RB ( "bamon template list" );
the built-in library is part of the package.
.TP
.I /var/lib/bamon/config\\-versions/
The versions of the configuration, a git repository whose work tree is
.I /etc/bamon
.RB ( "bamon config history" ", " diff ", " rollback ).
.TP
.I ~/.config/bamon/
The same for
.BR "bamon \\-\\-user" .
.TP
.I /var/lib/bamon/
State: the last result of each check (owned by the user the check runs as),
alert state.
.TP
.I /var/lib/bamon/alerts/NAME.json\\fR, \\fI/var/lib/bamon/silences.json
Alert state per check (the open episode, what each rule sent) and the silences.
.TP
.I /etc/bamon/templates/
Operator overrides of the alert templates (user mode:
.IR ~/.config/bamon/templates/ ).
.TP
.I /var/lib/bamon/outbox/
Alerts waiting for a channel (new/, wait/).
.TP
.I /etc/bamon/credentials/NAME.cred
Secrets, encrypted by systemd\\-creds (user mode:
.IR ~/.config/bamon/credentials/NAME ,
mode 0600).
.TP
.I /usr/lib/sysusers.d/bamon.conf
The system user
.B bamon
that checks run as under the balanced (default) and strict sandbox profiles;
a member of systemd\\-journal and adm.
.TP
.I /var/lib/bamon\\-web/
The dashboard's users (argon2 password hashes), API token digests,
sessions and layouts
.RB ( "bamon user" ", " "bamon token" ).
.SH DASHBOARD
.B systemctl enable \\-\\-now bamon.web.socket
listens on 127.0.0.1:8477
.RB ( web.listen
in config.yaml changes it; then restart the socket).
The first connection starts
.BR bamon.web.service ,
which exits after
.B web.idle_exit
without requests. The REST API is under /api/v1
(the OpenAPI document at /api/v1/openapi.json,
live events on the WebSocket /api/v1/events).
.SH ENVIRONMENT
.TP
.B BAMON_CONFIG\\fR, \\fBBAMON_CONFIG_FILE
Another config.yaml, as with
.B \\-\\-config
(the second is the original BAMON's name).
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
    out.append(ALERTS)
    out.append(_without_systemd({c.path for c in tree.walk()}))
    out.append(TRAILER)
    return "".join(out)

