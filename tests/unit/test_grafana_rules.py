"""The Grafana dashboard and the Prometheus rules in examples/: they reference only series
bamon exports, their PromQL parses (promtool), and the alerting rules fire for a failing check
and stay quiet for a passing one (`promtool test rules`)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bamon.integrations.prometheus import metric_names

EXAMPLES = Path(__file__).parents[2] / "examples"
DASHBOARD = EXAMPLES / "grafana" / "bamon-dashboard.json"
RULES = EXAMPLES / "prometheus" / "bamon-rules.yml"
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m", "$instance": ".*", "$check": ".*"}


def expressions(node: Any) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and variable queries."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        if isinstance(node.get("definition"), str):
            found.append(node["definition"])
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in expressions(item)]
    return []


def recorded() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def test_dashboard_references_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = expressions(dashboard)
    assert len(exprs) >= 10
    used = {name for e in exprs for name in re.findall(r"\bbamon_[a-z_]+\b", e)}
    assert used and used <= metric_names(), used - metric_names()
    assert all("bamon_" in e for e in exprs)
    panels = dashboard["panels"]
    assert {"Success rate", "Duration p95", "Failures over time"} <= {p["title"] for p in panels}
    assert all(p.get("targets") for p in panels)


def test_rules_reference_only_exported_metrics() -> None:
    text = RULES.read_text()
    used = set(re.findall(r"\bbamon_[a-z_]+\b", text)) - {"bamon_"}
    assert used <= metric_names(), used - metric_names()
    assert set(re.findall(r"\bbamon:[a-z0-9_:]+\b", text)) == recorded()


def test_dashboard_promql_parses(promtool: str, tmp_path: Path) -> None:
    exprs = [e for e in expressions(json.loads(DASHBOARD.read_text())) if not e.startswith("label_values")]
    for variable, value in GRAFANA_VARIABLES.items():
        exprs = [e.replace(variable, value) for e in exprs]
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:expr{i}", "expr": e}
                                                          for i, e in enumerate(exprs)]}]}
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(["promtool", "check", "rules", str(tmp_path / "dashboard.yml")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_rules(promtool: str) -> None:
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


RULE_TEST = """\
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - {{series: 'bamon_check_up{{instance="h1", check="web"}}', values: '0x20'}}
      - {{series: 'bamon_check_up{{instance="h1", check="disk"}}', values: '1x20'}}
      - {{series: 'bamon_check_enabled{{instance="h1", check="web"}}', values: '1x20'}}
      - {{series: 'bamon_check_enabled{{instance="h1", check="disk"}}', values: '1x20'}}
      - {{series: 'bamon_check_info{{instance="h1", check="web", severity="critical", tags=""}}', values: '1x20'}}
      - {{series: 'bamon_check_info{{instance="h1", check="disk", severity="warning", tags=""}}', values: '1x20'}}
      - {{series: 'bamon_check_runs_total{{instance="h1", check="web"}}', values: '0+1x20'}}
      - {{series: 'bamon_check_failures_total{{instance="h1", check="web"}}', values: '0+1x20'}}
      - {{series: 'bamon_check_runs_total{{instance="h1", check="disk"}}', values: '0+1x20'}}
      - {{series: 'bamon_check_failures_total{{instance="h1", check="disk"}}', values: '0x20'}}
    alert_rule_test:
      - eval_time: 5m
        alertname: BamonCheckFailing
        exp_alerts:
          - exp_labels: {{severity: warning, instance: h1, check: web}}
            exp_annotations:
              summary: "bamon check web is failing on h1"
              description: "See `bamon status -n web` and `journalctl -u bamon-web` on the host."
      - eval_time: 5m
        alertname: BamonCriticalCheckFailing
        exp_alerts:
          - exp_labels: {{severity: critical, instance: h1, check: web}}
            exp_annotations: {{summary: "critical bamon check web is failing on h1"}}
    promql_expr_test:
      - expr: bamon:check_success_ratio:rate1h
        eval_time: 10m
        exp_samples:
          - {{labels: 'bamon:check_success_ratio:rate1h{{instance="h1", check="web"}}', value: 0}}
          - {{labels: 'bamon:check_success_ratio:rate1h{{instance="h1", check="disk"}}', value: 1}}
"""


def test_alerting_rules_fire_for_a_failing_check_only(promtool: str, tmp_path: Path) -> None:
    (tmp_path / "test.yml").write_text(RULE_TEST.format(rules=RULES))
    result = subprocess.run(["promtool", "test", "rules", str(tmp_path / "test.yml")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
