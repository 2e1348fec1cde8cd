"""JUnit XML for CI pipelines: one test case per check, a failure element per failed check.

The shape is the one GitHub Actions (test-reporter actions), GitLab CI (artifacts:reports:junit)
and Jenkins (the junit step) read: <testsuites><testsuite name tests failures errors skipped time
timestamp hostname><testcase classname name time>[<failure message type>text</failure>]
<system-out>…</system-out></testcase>. The tests validate every report against the JUnit
schema of Jenkins' xUnit plugin (junit-10.xsd).
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from bamon.history.status import CheckStatus

# Characters XML 1.0 cannot carry at all (a command may print them): replaced, never fatal.
_ILLEGAL = {c: "\ufffd" for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}


def _text(value: str) -> str:
    return value.translate(_ILLEGAL)


def _case(c: CheckStatus) -> tuple[ET.Element, str]:
    """The test case of one check and what it counts as (passed, failure, skipped)."""
    case = ET.Element("testcase", classname=f"bamon.{c.script.tags[0] if c.script.tags else 'checks'}",
                      name=_text(c.script.name), time=f"{c.record.duration if c.record else 0:.3f}")
    outcome = "passed"
    if c.record is None:
        ET.SubElement(case, "skipped", message="the check did not run")
        outcome = "skipped"
    elif not c.record.ok:
        reason = c.reason_text()
        last = next((line for line in reversed(c.output) if line.strip()), "")
        failure = ET.SubElement(case, "failure", type=c.record.result,
                                message=_text(reason + (f": {last}" if last else "")))
        failure.text = _text(f"{reason}\nseverity: {c.script.severity}\ncommand: {c.script.command}")
        outcome = "failure"
    if c.output:
        ET.SubElement(case, "system-out").text = _text("\n".join(c.output))
    return case, outcome


def report(checks: list[CheckStatus], suite: str = "bamon", hostname: str | None = None) -> bytes:
    """The JUnit XML document (UTF-8, with declaration) of the given checks."""
    cases = [_case(c) for c in checks]
    count = {kind: sum(1 for _, o in cases if o == kind) for kind in ("failure", "skipped")}
    total = f"{sum(c.record.duration for c in checks if c.record):.3f}"
    root = ET.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(count["failure"]),
                      errors="0", time=total)
    suite_element = ET.SubElement(
        root, "testsuite", name=suite, tests=str(len(cases)), failures=str(count["failure"]), errors="0",
        skipped=str(count["skipped"]), time=total, hostname=hostname or socket.gethostname(),
        timestamp=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", ""))
    suite_element.extend(case for case, _ in cases)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
