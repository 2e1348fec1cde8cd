"""Custom metrics of each check's last run (Nagios perfdata, BAMON_METRIC lines) as Prometheus
gauges: `bamon_check_metric{check, metric, unit}`.

The grammar belongs to the history module (bamon.history.metrics.parse_metrics, parsed at read
time from the output journald holds). Cardinality stays bounded: at most MAX_PER_CHECK metrics per check,
named by what the check prints (labels, not values), never by run.
"""

from __future__ import annotations

from collections.abc import Iterable

from bamon.history.metrics import parse_metrics
from bamon.history.records import outputs, outputs_now
from bamon.history.status import CheckStatus
from bamon.journal import Journal

MAX_PER_CHECK = 20
Metrics = list[tuple[str, str, float]]  # [(metric, unit, value)]
Values = dict[str, Metrics]  # check → its last run's metrics
Held = dict[str, tuple[str, Metrics]]  # check → (the invocation they were read from, its metrics)


def _metrics(check: CheckStatus, lines: Iterable[str]) -> Metrics:
    metrics, _ = parse_metrics(list(lines), check.script.output_format == "nagios")
    return [(str(m.label), str(m.unit), float(m.value)) for m in metrics if m.value is not None][:MAX_PER_CHECK]


def last_values(checks: list[CheckStatus], journal: Journal, held: Held | None = None) -> Values:
    """The metrics each check's last run printed (checks that printed none are left out).

    Without `held` (one `bamon metrics` run) every last run is read, waiting a moment for lines
    journald has not stored yet. A reader that asks every few seconds (the web service's
    /metrics) passes the same `held` each time: a finished run's output never changes, so only
    the runs new since the previous call are read, without waiting; a run whose lines are not
    all stored yet keeps its check's previous values until the next call.
    """
    ran = [c for c in checks if c.record is not None]
    if held is None:
        printed = outputs(journal, [c.record for c in ran if c.record is not None])
        found = {c.script.name: _metrics(c, printed.get(c.record.invocation, ())) for c in ran
                 if c.record is not None}
        return {name: values for name, values in found.items() if values}
    new = [c for c in ran if c.record is not None and held.get(c.script.name, ("",))[0] != c.record.invocation]
    read = outputs_now(journal, [c.record for c in new if c.record is not None]) if new else {}
    for c in new:
        assert c.record is not None
        run_lines, complete = read.get(c.record.invocation, ([], False))
        if complete:
            held[c.script.name] = (c.record.invocation, _metrics(c, run_lines))
    for gone in held.keys() - {c.script.name for c in ran}:  # removed from the config
        del held[gone]
    return {name: values for name, (_, values) in held.items() if values}
