"""Custom metrics of each check's last run (Nagios perfdata, BAMON_METRIC lines) as Prometheus
gauges: `bamon_check_metric{check, metric, unit}`.

The grammar belongs to the history module (bamon.history.metrics.parse_metrics, parsed at read
time from the output journald holds); where that module is not installed there are no perfdata
series and no journal read. Cardinality stays bounded: at most MAX_PER_CHECK metrics per check,
named by what the check prints (labels, not values), never by run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from bamon.history.records import outputs
from bamon.history.status import CheckStatus
from bamon.journal import Journal

MAX_PER_CHECK = 20
Values = dict[str, list[tuple[str, str, float]]]  # check → [(metric, unit, value)]


def _parser() -> Callable[[list[str], bool], tuple[list[Any], list[str]]] | None:
    try:
        module = importlib.import_module("bamon.history.metrics")
    except ImportError:
        return None
    parse: Callable[[list[str], bool], tuple[list[Any], list[str]]] | None = getattr(module, "parse_metrics", None)
    return parse


def last_values(checks: list[CheckStatus], journal: Journal) -> Values:
    """The metrics each check's last run printed (checks that printed none are left out)."""
    parse = _parser()
    ran = [c for c in checks if c.record is not None]
    if parse is None or not ran:
        return {}
    lines = outputs(journal, [c.record for c in ran if c.record is not None])
    found: Values = {}
    for c in ran:
        assert c.record is not None
        nagios = getattr(c.script, "output_format", "plain") == "nagios"
        metrics, _ = parse(list(lines.get(c.record.invocation, ())), nagios)
        values = [(str(m.label), str(m.unit), float(m.value)) for m in metrics if m.value is not None]
        if values:
            found[c.script.name] = values[:MAX_PER_CHECK]
    return found
