"""`bamon fleet status`: Prometheus' answers → one row per host × check, failures first, and
staleness (a host whose scrape fails, that is no longer scraped, scraped too long ago, or whose
bamon metrics are old is STALE, never healthy). The one seam is the HTTP fetch
(bamon.fleet.source.http_fetch): a fake answers each query the way Prometheus' API does.
The JSON document is validated against docs/fleet-status.schema.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from bamon.config.model import Fleet as Settings
from bamon.errors import BamonError
from bamon.fleet import source, view

if TYPE_CHECKING:
    from conftest import CliResult, WriteConfig

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "fleet-status.schema.json").read_text())
NOW = 1_800_000_000.0
URL = "http://prometheus.test:9090"


@dataclass
class Host:
    """One scrape target as Prometheus would hold it; `checks`: {name: (status, reason, exit, started_ago, fails)}."""

    instance: str
    checks: dict[str, tuple[str, str, int | None, float | None, int]]
    up: float | None = 1.0  # None: no `up` sample at all (no longer a target)
    scraped_ago: float = 2.0
    scrapes: int = 21  # up samples in 5 minutes: a 15 s interval
    generated_ago: float = 3.0
    labels: dict[str, str] = field(default_factory=dict)
    status_series: bool = True  # False: a bamon from before bamon_check_status

    def target(self) -> dict[str, str]:
        return {"job": "bamon", "instance": self.instance, **self.labels}

    def live(self) -> bool:
        return self.up == 1.0


def answers(hosts: list[Host]) -> dict[str, list[tuple[dict[str, str], float]]]:
    """{query key: [(labels, value)]}: what each of view.QUERIES returns for these hosts."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {key: [] for key in view.QUERIES}
    for h in hosts:
        t = h.target()
        if h.up is not None:
            out["target_up"].append(({**t, "__name__": "up"}, h.up))
            out["scraped"].append((t, NOW - h.scraped_ago))
            out["scrapes"].append((t, float(h.scrapes)))
        out["generated"].append((t, NOW - h.generated_ago))
        for name, (status, reason, exit_code, started_ago, fails) in h.checks.items():
            c = {**t, "check": name}
            if h.live() and h.status_series:  # instant: a failing scrape leaves staleness markers
                out["status"].append(({**c, "status": status, "reason": reason}, 1.0))
            if h.live() and exit_code is not None:
                out["exit"].append((c, float(exit_code)))
            out["checks"].append((c, 0.0 if status == "DISABLED" else 1.0))
            if status not in ("UNKNOWN", "DISABLED"):
                out["up"].append((c, 1.0 if status == "OK" else 0.0))
            if started_ago is not None:
                out["last_run"].append((c, NOW - started_ago))
            out["failures"].append((c, float(fails)))
    return out


class FakePrometheus:
    """The fetch seam: answers /api/v1/query like Prometheus, recording every query asked."""

    def __init__(self, hosts: list[Host], lookback: int = 3600) -> None:
        by_expr = {expr.format(lookback=lookback): key for key, expr in view.QUERIES.items()}
        self.results = {expr: answers(hosts)[key] for expr, key in by_expr.items()}
        self.asked: list[str] = []

    def __call__(self, url: str, params: Mapping[str, str]) -> tuple[int, Any]:
        assert url == f"{URL}/api/v1/query"
        expr = params["query"]
        self.asked.append(expr)
        result = [{"metric": labels, "value": [NOW, repr(value)]} for labels, value in self.results[expr]]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


FLEET = [
    Host("web1:8477", {"disk": ("OK", "", 0, 30, 0), "http": ("FAILED", "exit-code", 2, 10, 3)}),
    Host("web2:8477", {"disk": ("OK", "", 0, 20, 0), "http": ("OK", "", 0, 12, 0),
                       "nagios": ("WARNING", "exit-code", 1, 5, 1)}),
    Host("db1:8477", {"backup": ("FAILED", "timeout", None, 40, 1), "new": ("UNKNOWN", "", None, None, 0),
                      "old": ("DISABLED", "", None, None, 0)}),
]


SETTINGS = Settings(URL)


def look(hosts: list[Host], settings: Settings = SETTINGS) -> view.Fleet:
    return view.look(settings, fetch=FakePrometheus(hosts, settings.lookback))


def table(fleet: view.Fleet) -> list[tuple[str, str, str, str]]:
    return [(r.host.name, r.check, r.status, r.reason) for r in fleet.rows]


def test_every_host_and_check_failures_first_with_their_reasons() -> None:
    fleet = look(FLEET)
    assert table(fleet) == [
        ("db1:8477", "backup", "FAILED", "timeout"),
        ("web1:8477", "http", "FAILED", "exit code 2"),
        ("web2:8477", "nagios", "WARNING", "exit code 1"),
        ("db1:8477", "new", "UNKNOWN", ""),
        ("web1:8477", "disk", "OK", ""),
        ("web2:8477", "disk", "OK", ""),
        ("web2:8477", "http", "OK", ""),
        ("db1:8477", "old", "DISABLED", ""),
    ]
    http = fleet.rows[1]
    assert (http.last_run, http.exit_code, http.consecutive_failures) == (NOW - 10, 2, 3)
    assert fleet.now == NOW  # Prometheus' clock, not this machine's
    assert not any(r.host.stale for r in fleet.rows)


def test_a_check_caught_running_after_a_failed_run_stays_among_the_failures() -> None:
    # a scrape inside a run sees RUNNING; the reason label still says how the last run failed
    fleet = look([Host("web1:8477", {"flaky": ("RUNNING", "exit-code", 3, 2, 4), "fine": ("RUNNING", "", 0, 2, 0),
                                     "disk": ("OK", "", 0, 30, 0)})])
    assert table(fleet) == [("web1:8477", "flaky", "RUNNING", "exit code 3"), ("web1:8477", "fine", "RUNNING", ""),
                            ("web1:8477", "disk", "OK", "")]
    assert [r.failing for r in fleet.rows] == [True, False, False]
    failed = fleet.document(failed_only=True)
    jsonschema.validate(failed, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [(r["check"], r["status"], r["failureReason"], r["failing"]) for r in failed["rows"]] == [
        ("flaky", "RUNNING", "exit-code", True)]


def test_a_host_whose_scrape_fails_is_stale_with_what_it_last_reported() -> None:
    down = Host("web1:8477", FLEET[0].checks, up=0.0)
    rows = {(r.host.name, r.check): r for r in look([down, FLEET[1]]).rows}
    http, disk = rows[("web1:8477", "http")], rows[("web1:8477", "disk")]
    assert (http.status, http.known, disk.status, disk.known) == ("STALE", "FAILED", "STALE", "OK")
    assert http.reason == "scrape failing (up == 0): host down or bamon's endpoint gone; last known FAILED"
    assert disk.last_run == NOW - 30  # last known values survive the staleness markers
    assert rows[("web2:8477", "http")].status == "OK"
    order = [r.status for r in look([down, FLEET[1]]).rows]
    assert order.index("STALE") < order.index("WARNING")  # failures first: stale outranks all but FAILED


@pytest.mark.parametrize(("host", "why"), [
    (Host("h:1", {"a": ("OK", "", 0, 5, 0)}, up=None), "no longer scraped (not among Prometheus' targets)"),
    # 21 up samples in 5 min: a 15 s interval; the last one 31 s ago is over twice that
    (Host("h:1", {"a": ("OK", "", 0, 5, 0)}, scraped_ago=31), "last scraped 31s ago, over twice its 15s scrape"),
    (Host("h:1", {"a": ("OK", "", 0, 5, 0)}, generated_ago=181), "bamon's metrics were generated 3min 1s ago"),
])
def test_staleness_rules(host: Host, why: str) -> None:
    row, = look([host]).rows
    assert row.status == "STALE" and row.known == "OK" and row.reason.startswith(why), row.reason


def test_just_inside_the_thresholds_is_fresh() -> None:
    row, = look([Host("h:1", {"a": ("OK", "", 0, 5, 0)}, scraped_ago=29, generated_ago=179)]).rows
    assert row.status == "OK" and row.host.stale is None and row.host.interval == 15


def test_stale_after_and_lookback_come_from_the_settings() -> None:
    prometheus = FakePrometheus([Host("h:1", {"a": ("OK", "", 0, 5, 0)}, generated_ago=100)], lookback=600)
    fleet = view.look(Settings(URL, lookback=600, stale_after=60), fetch=prometheus)
    assert fleet.rows[0].status == "STALE"
    assert "last_over_time(bamon_check_up[600s])" in prometheus.asked


def test_hosts_without_the_status_series_are_read_from_bamon_check_up() -> None:
    old = Host("old:1", {"a": ("OK", "", 0, 5, 0), "b": ("FAILED", "exit-code", 2, 5, 1),
                         "c": ("UNKNOWN", "", None, None, 0)}, status_series=False)
    assert [(r.check, r.status, r.reason) for r in look([old]).rows] == [
        ("b", "FAILED", "exit code 2"), ("c", "UNKNOWN", ""), ("a", "OK", "")]


def test_the_host_label_names_hosts() -> None:
    host = Host("10.0.0.5:8477", {"a": ("FAILED", "signal", None, 5, 1)}, labels={"host": "db-7"})
    row, = look([host], Settings(URL, host_label="host")).rows
    assert (row.host.name, row.host.target, row.reason) == ("db-7", ("bamon", "10.0.0.5:8477"), "killed by a signal")


def test_document_matches_its_schema_and_failed_only_keeps_failures_and_stale() -> None:
    fleet = look([*FLEET, Host("gone:1", {"x": ("OK", "", 0, 5, 0)}, up=0.0)])
    full = fleet.document()
    jsonschema.validate(full, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert len(full["rows"]) == 9 and {h["host"] for h in full["hosts"]} == {"db1:8477", "web1:8477", "web2:8477",
                                                                            "gone:1"}
    assert full["time"] == "2027-01-15T08:00:00Z"
    failed = fleet.document(failed_only=True)
    jsonschema.validate(failed, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [(r["host"], r["check"], r["status"]) for r in failed["rows"]] == [
        ("db1:8477", "backup", "FAILED"), ("web1:8477", "http", "FAILED"), ("gone:1", "x", "STALE"),
        ("web2:8477", "nagios", "WARNING")]
    gone = next(h for h in failed["hosts"] if h["host"] == "gone:1")
    assert gone["stale"] and gone["staleReason"].startswith("scrape failing") and gone["checks"] == 1


def test_no_prometheus_configured_is_an_error_with_a_hint() -> None:
    with pytest.raises(BamonError) as caught:
        view.look(Settings(), fetch=FakePrometheus([]))
    assert "fleet.prometheus_url is not set" in caught.value.message and "--prometheus" in caught.value.hint


def fetch_raising(url: str, params: Mapping[str, str]) -> tuple[int, Any]:
    raise ConnectionError("HTTPConnectionPool(host='x', port=9): Max retries exceeded: [Errno 111] Connection refused")


@pytest.mark.parametrize(("fetch", "message"), [
    (fetch_raising, f"cannot reach Prometheus at {URL}: [Errno 111] Connection refused"),
    (lambda url, params: (404, None), f"{URL} did not answer as Prometheus' query API (HTTP 404)"),
    (lambda url, params: (400, {"status": "error", "error": "parse error"}),
     f"Prometheus at {URL} refused the query 'bamon_check_status': parse error"),
])
def test_prometheus_problems_are_one_line_errors(fetch: source.Fetch, message: str) -> None:
    with pytest.raises(BamonError) as caught:
        view.look(Settings(URL), fetch=fetch)
    assert caught.value.message == message and caught.value.hint


def test_cli_table_json_and_errors(cli: Any, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "http_fetch", FakePrometheus([*FLEET, Host("gone:1", {"x": ("OK", "", 0, 5, 0)},
                                                                          up=0.0)]))
    config = write_config(f"fleet: {{prometheus_url: '{URL}'}}\n")
    result: CliResult = cli("--config", str(config), "fleet", "status")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["HOST", "CHECK", "STATUS", "LAST", "RUN", "REASON"]
    assert lines[1].split()[:3] == ["db1:8477", "backup", "FAILED"]
    assert lines[3].split()[:5] == ["gone:1", "x", "STALE", "5s", "ago"] and "last known OK" in lines[3]
    assert lines[-1] == "4 host(s), 9 check(s): 3 failing, 1 host(s) stale"
    failed = cli("--config", str(config), "fleet", "status", "--failed-only", "--json")
    assert [r["status"] for r in json.loads(failed.out)["rows"]] == ["FAILED", "FAILED", "STALE", "WARNING"]
    # --prometheus works where there is no bamon config at all
    bare = cli("--config", str(config.parent / "none.yaml"), "fleet", "status", "--prometheus", URL, "-j")
    assert bare.code == 0 and len(json.loads(bare.out)["rows"]) == 9
    missing = cli("--config", str(config.parent / "none.yaml"), "fleet", "status")
    assert missing.code != 0 and missing.err.startswith("bamon: error: no configuration at")
    unset = cli("--config", str(write_config("scripts: []\n")), "fleet", "status")
    assert unset.code != 0 and "fleet.prometheus_url is not set" in unset.err and "hint:" in unset.err
    bad = cli("--config", str(config), "fleet", "status", "--prometheus", "prometheus:9090")
    assert bad.code != 0 and "is not an http(s):// URL" in bad.err


def test_web_api_serves_the_same_document_422_unconfigured_503_unreachable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient
    from web_support import FeedSource, cheap_hasher, make_app

    from bamon.web import auth as auth_mod

    monkeypatch.setattr(auth_mod, "_hasher", cheap_hasher)
    monkeypatch.setattr(source, "http_fetch", FakePrometheus(FLEET))
    (tmp_path / "config.yaml").write_text(f"fleet: {{prometheus_url: '{URL}'}}\nscripts: []\n")
    app, tokens = make_app(tmp_path, FeedSource())
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/fleet").status_code == 401
        answer = client.get("/api/v1/fleet", headers=viewer)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
        assert document == json.loads(json.dumps(look(FLEET).document()))
        failed = client.get("/api/v1/fleet?failed=1", headers=viewer).json()
        assert [r["status"] for r in failed["rows"]] == ["FAILED", "FAILED", "WARNING"]
        assert "get" in client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/fleet"]
        (tmp_path / "config.yaml").write_text("scripts: []\n")
        unset = client.get("/api/v1/fleet", headers=viewer)
        assert unset.status_code == 422 and "fleet.prometheus_url is not set" in unset.json()["error"]["message"]
        assert unset.json()["error"]["code"] == "not_configured"
        (tmp_path / "config.yaml").write_text("fleet: {prometheus_url: 'http://127.0.0.1:1'}\n")
        monkeypatch.setattr(source, "http_fetch", fetch_raising)
        down = client.get("/api/v1/fleet", headers=viewer)
        assert down.status_code == 503 and down.json()["error"]["message"].startswith("cannot reach Prometheus")
