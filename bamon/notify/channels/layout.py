"""What the chat-style channels show besides the title: the evidence as short labelled facts.

Slack, Teams and Discord each lay these out in their own format; the facts and their order are
decided once, here, from Alert.evidence (never by parsing the rendered body).
"""

from __future__ import annotations

from bamon.notify.alert import Alert, Kind

# Colours by what happened: red failure, amber warning, green recovery, blue test.
COLOURS = {"critical": 0xD00000, "warning": 0xE8A317, "info": 0x1E90FF}
RECOVERED, TEST = 0x2EB67D, 0x1E90FF
OUTPUT_LINES = 10
OUTPUT_CHARS = 900  # chat layouts cut long fields; keep the tail readable


def colour(alert: Alert) -> int:
    if alert.kind is Kind.RECOVERY:
        return RECOVERED
    if alert.kind is Kind.TEST:
        return TEST
    return COLOURS.get(alert.severity, COLOURS["warning"])


def _seconds(value: object) -> str:
    return f"{float(value):.1f} s" if isinstance(value, (int, float)) else str(value)


# (label, evidence key, how to show it)
_FACTS = (
    ("Exit code", "exit_code", str),
    ("Reason", "reason_text", str),
    ("Duration", "duration_s", _seconds),
    ("CPU", "cpu_s", _seconds),
    ("Failures in a row", "consecutive_failures", str),
    ("Hint", "hint", str),
)


def facts(alert: Alert) -> list[tuple[str, str]]:
    """[(label, value)] for the evidence the alert has, status and host first."""
    out = [("Check", alert.check), ("Status", alert.status), ("Severity", alert.severity), ("Host", alert.host)]
    evidence = alert.evidence
    out += [(label, show(evidence[key])) for label, key, show in _FACTS if evidence.get(key) not in (None, "")]
    return out


def output_tail(alert: Alert) -> str:
    """The last lines of the run's output, bounded for a chat message ("" when there is none)."""
    lines = [str(line) for line in alert.evidence.get("output_tail") or ()][-OUTPUT_LINES:]
    text = "\n".join(lines)
    return text if len(text) <= OUTPUT_CHARS else "…" + text[-OUTPUT_CHARS:]


def journal_command(alert: Alert) -> str:
    return str(alert.evidence.get("journalctl") or "")
