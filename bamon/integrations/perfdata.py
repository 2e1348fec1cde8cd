"""Custom metrics of each check's last run (Nagios perfdata, BAMON_METRIC lines) as Prometheus
gauges: `bamon_check_metric{check, metric, unit}`.

The grammar belongs to the history module (bamon.history.metrics.parse_metrics, parsed at read
time from the output journald holds). Cardinality stays bounded: at most MAX_PER_CHECK metrics per check,
named by what the check prints (labels, not values), never by run.
"""

from __future__ import annotations

from bamon.history.metrics import parse_metrics
from bamon.history.records import outputs
from bamon.history.status import CheckStatus
from bamon.journal import Journal

MAX_PER_CHECK = 20
Values = dict[str, list[tuple[str, str, float]]]  # check → [(metric, unit, value)]


def last_values(checks: list[CheckStatus], journal: Journal) -> Values:
    """The metrics each check's last run printed (checks that printed none are left out)."""
    ran = [c for c in checks if c.record is not None]
    if not ran:
        return {}
    lines = outputs(journal, [c.record for c in ran if c.record is not None])
    found: Values = {}
    for c in ran:
        assert c.record is not None
        nagios = c.script.output_format == "nagios"
        metrics, _ = parse_metrics(list(lines.get(c.record.invocation, ())), nagios)
        values = [(str(m.label), str(m.unit), float(m.value)) for m in metrics if m.value is not None]
        if values:
            found[c.script.name] = values[:MAX_PER_CHECK]
    return found
