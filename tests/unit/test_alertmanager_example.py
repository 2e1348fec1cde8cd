"""contrib/alertmanager/alertmanager.yml: Alertmanager's own amtool (Debian 12's
prometheus-alertmanager) accepts it, and routes the label sets bamon's alertmanager channel
really posts (bamon.notify.channels.alertmanager.labels) by tag and severity; grouping is by
alertname and check, so one check failing on many hosts is one notification."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from bamon.notify.alert import Alert, Kind
from bamon.notify.channels.alertmanager import labels

EXAMPLE = Path(__file__).parents[2] / "contrib" / "alertmanager" / "alertmanager.yml"


def test_amtool_accepts_the_example(amtool: str) -> None:
    done = subprocess.run([amtool, "check-config", str(EXAMPLE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def alert(severity: str, tags: list[str], host: str = "web1") -> Alert:
    return Alert(id="a", kind=Kind.FAILURE, check="backup", host=host, status="FAILED", severity=severity,
                 title="t", body="b", created=time.time(), dedup_key="k", evidence={"tags": tags})


@pytest.mark.parametrize(("severity", "tags", "receiver"), [
    ("critical", ["db", "nightly"], "dba-pager"),
    ("warning", ["nightly", "db"], "dba-chat"),
    ("critical", ["web"], "ops-pager"),
    ("warning", ["web"], "ops-chat"),
    ("warning", ["dbx"], "ops-chat"),  # a tag is matched whole
    ("info", [], "ops-chat"),
])
def test_routes_by_tag_and_severity(amtool: str, severity: str, tags: list[str], receiver: str) -> None:
    posted = labels(alert(severity, tags), {"team": "ops"}, "BamonCheckFailed")
    done = subprocess.run([amtool, "config", "routes", "test", f"--config.file={EXAMPLE}",
                           *(f"{k}={v}" for k, v in posted.items())], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == receiver, done.stdout + done.stderr


def test_groups_by_check_and_keeps_host_a_label() -> None:
    route = yaml.safe_load(EXAMPLE.read_text())["route"]
    assert route["group_by"] == ["alertname", "check"]
    hosts = [labels(alert("critical", ["db"], host), {}, "BamonCheckFailed") for host in ("web1", "web2", "web3")]
    keys = {tuple(h[k] for k in route["group_by"]) for h in hosts}
    assert len(keys) == 1 and {h["host"] for h in hosts} == {"web1", "web2", "web3"}
