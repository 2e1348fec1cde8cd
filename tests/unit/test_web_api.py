"""The web API in-process: every route and role, JSON errors with stable codes, sessions with
CSRF, rate limiting, ETags, pagination, layouts, and writes that go through bamon.manage."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient
from web_support import PASSWORD, FeedSource, cheap_hasher, make_app

from bamon.journal import AUDIT_ID
from bamon.paths import Paths
from bamon.web import auth as auth_mod

CONFIG = """\
scripts:
  - name: web
    command: curl -f http://localhost/
    interval: 30
    tags: [prod]
  - name: disk
    command: df -h /
    interval: 60
"""


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any, sink: Any, runner: Any) -> Iterator[Any]:
    (tmp_path / "config.yaml").write_text(CONFIG)
    monkeypatch.setattr(Paths, "generator_installed", lambda self: True)  # reload = daemon-reload only
    monkeypatch.setattr(auth_mod, "_hasher", cheap_hasher)  # argon2's defaults cost ~60 ms a hash
    source = FeedSource()
    app, tokens = make_app(tmp_path, source)
    with TestClient(app) as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        client.tmp = tmp_path  # type: ignore[attr-defined]
        client.sink = sink  # type: ignore[attr-defined]
        client.runner = runner  # type: ignore[attr-defined]
        client.source = source  # type: ignore[attr-defined]
        yield client


def auth(api: Any, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens[role]}"}


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "hint"}
    code: str = body["error"]["code"]
    return code


# (method, path, body, least role allowed)
ROUTES = [
    ("GET", "/api/v1/scripts", None, "viewer"),
    ("GET", "/api/v1/scripts/web", None, "viewer"),
    ("GET", "/api/v1/status", None, "viewer"),
    ("GET", "/api/v1/scripts/web/history", None, "viewer"),
    ("GET", "/api/v1/analytics", None, "viewer"),
    ("GET", "/api/v1/scripts/web/success-rate", None, "viewer"),
    ("GET", "/api/v1/deliveries", None, "viewer"),
    ("GET", "/api/v1/scripts/web/deliveries", None, "viewer"),
    ("GET", "/api/v1/alerts", None, "viewer"),
    ("GET", "/api/v1/layout", None, "viewer"),
    ("PUT", "/api/v1/layout", {"panels": ["grid"]}, "viewer"),
    ("GET", "/api/v1/tokens", None, "viewer"),
    ("GET", "/api/v1/silences", None, "viewer"),
    ("POST", "/api/v1/silences", {"check": "web", "for": "2h", "reason": "deploy"}, "operator"),
    ("GET", "/api/v1/audit", None, "operator"),
    ("POST", "/api/v1/execute/web", None, "operator"),
    ("POST", "/api/v1/scripts/disk/disable", None, "operator"),
    ("POST", "/api/v1/scripts/disk/enable", None, "operator"),
    ("POST", "/api/v1/scripts", {"name": "new1", "command": "true"}, "admin"),
    ("PUT", "/api/v1/scripts/web", {"command": "curl -f http://localhost:81/", "interval": 30}, "admin"),
    ("DELETE", "/api/v1/scripts/disk", None, "admin"),
    ("GET", "/api/v1/users", None, "admin"),
    ("POST", "/api/v1/users", {"name": "zed", "role": "viewer", "password": "long enough"}, "admin"),
]
RANK = {"viewer": 0, "operator": 1, "admin": 2}


@pytest.mark.parametrize(("method", "path", "body", "least"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_every_route_and_role(api: Any, method: str, path: str, body: Any, least: str) -> None:
    anonymous = api.request(method, path, json=body)
    assert anonymous.status_code == 401 and error_code(anonymous) == "unauthenticated"
    for role in ("viewer", "operator", "admin"):
        response = api.request(method, path, json=body, headers=auth(api, role))
        if RANK[role] < RANK[least]:
            assert response.status_code == 403 and error_code(response) == "forbidden", (role, response.text)
        else:
            assert response.status_code < 300, (role, response.text)
            break  # the first allowed role did the write; later ones would only conflict


def test_wrong_token_is_401(api: Any) -> None:
    response = api.get("/api/v1/status", headers={"Authorization": "Bearer bamon_nope_nothing"})
    assert response.status_code == 401 and error_code(response) == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_status_keeps_the_cli_json_shape(api: Any) -> None:
    scripts = api.get("/api/v1/status", headers=auth(api, "viewer")).json()["scripts"]
    assert [s["name"] for s in scripts] == ["web", "disk"]
    assert scripts[0]["status"] == "UNKNOWN" and scripts[0]["lastExecution"] is None
    assert scripts[0]["unit"] == "bamon-web.service"


def test_add_writes_validates_audits_and_reloads(api: Any) -> None:
    response = api.post("/api/v1/scripts", headers=auth(api, "admin"),
                        json={"name": "api_made", "command": "echo 'hi'", "interval": "5min", "tags": ["x"]})
    assert response.status_code == 201, response.text
    written = yaml.safe_load((api.tmp / "scripts.d" / "api_made.yaml").read_text())
    assert written == {"name": "api_made", "command": "echo 'hi'", "interval": "5min", "tags": ["x"]}
    record = [e for e in api.sink.entries if e.get("MESSAGE_ID") == AUDIT_ID][-1]
    assert record["BAMON_AUDIT_ACTION"] == "add" and record["BAMON_AUDIT_USER"] == "admin"
    assert record["BAMON_AUDIT_VIA"] == "web" and record["BAMON_CHECK"] == "api_made"
    assert ["systemctl", "daemon-reload"] in api.runner.calls
    got = api.get("/api/v1/scripts/api_made", headers=auth(api, "viewer")).json()
    assert got["command"] == "echo 'hi'" and got["interval"] == 300 and got["tags"] == ["x"]


BAD_BODIES = [
    (b"{not json", 400, "invalid_json", "not valid JSON"),
    (b"[1, 2]", 400, "invalid_body", "JSON object"),
    (json.dumps({"command": "true"}).encode(), 400, "invalid_body", "needs a name"),
    (json.dumps({"name": "x", "command": "true", "intervall": 5}).encode(), 422, "invalid", "did you mean"),
    (json.dumps({"name": "x", "command": 5}).encode(), 422, "invalid", "command"),
    (json.dumps({"name": "bad name/..", "command": "true"}).encode(), 422, "invalid", "name"),
    (json.dumps({"name": "x\n", "command": "true"}).encode(), 422, "invalid", "name"),
    (json.dumps({"name": "x", "command": "true", "interval": -5}).encode(), 422, "invalid", "interval"),
    (json.dumps({"name": "web", "command": "true"}).encode(), 409, "conflict", "already exists"),
    (json.dumps({"name": "x", "command": "a" * 1024 * 1024}).encode(), 413, "too_large", "larger"),
]


@pytest.mark.parametrize(("raw", "status", "code", "words"), BAD_BODIES)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(api: Any, raw: bytes, status: int, code: str,
                                                     words: str) -> None:
    before = sorted(p.name for p in api.tmp.rglob("*.yaml"))
    config = (api.tmp / "config.yaml").read_text()
    response = api.post("/api/v1/scripts", content=raw,
                        headers={**auth(api, "admin"), "Content-Type": "application/json"})
    assert (response.status_code, error_code(response)) == (status, code), response.text
    assert words in response.json()["error"]["message"] + response.json()["error"]["hint"]
    assert sorted(p.name for p in api.tmp.rglob("*.yaml")) == before
    assert (api.tmp / "config.yaml").read_text() == config


def test_api_gives_the_same_message_as_the_cli(api: Any, cli: Any) -> None:
    response = api.post("/api/v1/scripts", headers=auth(api, "admin"),
                        json={"name": "same", "command": "true", "interval": "soon"})
    result = cli("--config", str(api.tmp / "config.yaml"), "add", "same", "-c", "true", "-i", "soon")
    assert result.code == 1
    assert f"error: {response.json()['error']['message']}" in result.err
    assert response.json()["error"]["hint"] in result.err


def test_update_replaces_settings_and_keeps_other_entries(api: Any) -> None:
    response = api.put("/api/v1/scripts/web", headers=auth(api, "admin"),
                       json={"command": "curl -f http://localhost:9/", "interval": 10, "severity": "critical"})
    assert response.status_code == 200, response.text
    config = yaml.safe_load((api.tmp / "config.yaml").read_text())
    assert config["scripts"][0] == {"name": "web", "command": "curl -f http://localhost:9/", "interval": 10,
                                    "severity": "critical"}
    assert config["scripts"][1]["name"] == "disk"
    bad = api.put("/api/v1/scripts/web", headers=auth(api, "admin"), json={"command": "x", "interval": "never"})
    assert bad.status_code == 422 and "interval" in bad.json()["error"]["message"]
    assert yaml.safe_load((api.tmp / "config.yaml").read_text()) == config
    renamed = api.put("/api/v1/scripts/web", headers=auth(api, "admin"), json={"name": "other", "command": "x"})
    assert renamed.status_code == 409 and error_code(renamed) == "conflict"


def test_unknown_check_is_404_everywhere(api: Any) -> None:
    for method, path in (("GET", "/api/v1/scripts/nope"), ("PUT", "/api/v1/scripts/nope"),
                         ("DELETE", "/api/v1/scripts/nope"), ("POST", "/api/v1/execute/nope"),
                         ("POST", "/api/v1/scripts/nope/enable"), ("GET", "/api/v1/scripts/nope/history"),
                         ("GET", "/api/v1/nothing-here")):
        response = api.request(method, path, headers=auth(api, "admin"), json={"command": "true"})
        assert response.status_code == 404 and error_code(response) == "not_found", (method, path, response.text)


def test_delete_removes_and_disable_stops_the_timer(api: Any) -> None:
    assert api.post("/api/v1/scripts/disk/disable", headers=auth(api, "operator")).json()["changed"] is True
    assert ["systemctl", "stop", "bamon-disk.timer"] in api.runner.calls
    assert api.post("/api/v1/scripts/disk/disable", headers=auth(api, "operator")).json()["changed"] is False
    assert api.delete("/api/v1/scripts/disk", headers=auth(api, "admin")).status_code == 200
    assert api.get("/api/v1/scripts/disk", headers=auth(api, "admin")).status_code == 404
    assert "disk" not in (api.tmp / "config.yaml").read_text()


def test_execute_starts_the_unit_without_waiting(api: Any) -> None:
    response = api.post("/api/v1/execute/web", headers=auth(api, "operator"))
    assert response.status_code == 202
    assert ["systemctl", "start", "--no-block", "bamon-web.service"] in api.runner.calls
    assert any(e.get("BAMON_AUDIT_ACTION") == "execute" for e in api.sink.entries)


def test_concurrent_writes_to_one_check_all_land_whole(api: Any) -> None:
    results: list[int] = []

    def put(i: int) -> None:
        results.append(api.put("/api/v1/scripts/web", headers=auth(api, "admin"),
                               json={"command": f"echo {i}", "interval": 30 + i}).status_code)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8
    entry = yaml.safe_load((api.tmp / "config.yaml").read_text())["scripts"][0]
    assert entry["command"] == f"echo {entry['interval'] - 30}"


def login(api: Any, user: str, password: str = PASSWORD) -> Any:
    return api.post("/api/v1/session", json={"user": user, "password": password})


def test_session_login_csrf_and_logout(api: Any) -> None:
    assert login(api, "operator", "wrong password").status_code == 401
    ok = login(api, "operator")
    assert ok.status_code == 200 and ok.json()["role"] == "operator"
    assert "httponly" in ok.headers["set-cookie"].lower() and "samesite=strict" in ok.headers["set-cookie"].lower()
    csrf = ok.json()["csrf"]
    assert api.get("/api/v1/status").status_code == 200
    no_csrf = api.post("/api/v1/execute/web")
    assert no_csrf.status_code == 403 and error_code(no_csrf) == "csrf"
    assert api.post("/api/v1/execute/web", headers={"X-CSRF-Token": csrf}).status_code == 202
    assert api.get("/api/v1/session").json()["csrf"] == csrf
    assert api.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert api.get("/api/v1/status").status_code == 401
    actions = [e.get("BAMON_AUDIT_ACTION") for e in api.sink.entries]
    assert "login" in actions and "login-failed" in actions


def test_login_is_rate_limited(api: Any) -> None:
    for _ in range(5):
        assert login(api, "admin", "guess guess").status_code == 401
    blocked = login(api, "admin", PASSWORD)
    assert blocked.status_code == 429 and error_code(blocked) == "rate_limited"
    assert login(api, "viewer").status_code == 200  # another user is not locked out


def test_login_body_is_checked(api: Any) -> None:
    for body in ({"user": "admin"}, {"user": 1, "password": "x"}, {"user": "a", "password": "b", "x": 1}):
        response = api.post("/api/v1/session", json=body)
        assert response.status_code == 400 and error_code(response) == "invalid_body"


def test_etag_and_pagination(api: Any) -> None:
    first = api.get("/api/v1/scripts?limit=1", headers=auth(api, "viewer"))
    assert first.json()["total"] == 2 and [s["name"] for s in first.json()["items"]] == ["web"]
    again = api.get("/api/v1/scripts?limit=1", headers={**auth(api, "viewer"), "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    second = api.get("/api/v1/scripts?limit=1&offset=1", headers=auth(api, "viewer")).json()
    assert [s["name"] for s in second["items"]] == ["disk"]
    assert api.get("/api/v1/scripts?tag=prod", headers=auth(api, "viewer")).json()["total"] == 1
    # %C2%B2 is "²": a digit to str.isdigit(), not to int()
    for query in ("limit=0", "limit=x", "offset=-1", "offset=%C2%B2", "status=GREEN"):
        bad = api.get(f"/api/v1/scripts?{query}", headers=auth(api, "viewer"))
        assert bad.status_code == 400 and error_code(bad) == "invalid_query", query


def test_layout_is_kept_per_user(api: Any) -> None:
    layout = {"panels": ["alerts", "grid"], "hidden": ["audit"]}
    assert api.put("/api/v1/layout", json=layout, headers=auth(api, "viewer")).status_code == 200
    assert api.get("/api/v1/layout", headers=auth(api, "viewer")).json() == layout
    assert api.get("/api/v1/layout", headers=auth(api, "admin")).json() == {"panels": [], "hidden": []}
    for bad_layout in ({"panels": [1]}, {"panels": [f"p{i}" for i in range(33)]}, {"panels": ["x" * 65]}):
        bad = api.put("/api/v1/layout", json=bad_layout, headers=auth(api, "viewer"))
        assert bad.status_code == 400, bad_layout


def test_users_and_tokens(api: Any) -> None:
    created = api.post("/api/v1/tokens", json={"label": "ci"}, headers=auth(api, "viewer"))
    assert created.status_code == 201
    token = created.json()["token"]
    assert api.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    mine = api.get("/api/v1/tokens", headers=auth(api, "viewer")).json()["items"]
    assert {t["user"] for t in mine} == {"viewer"}
    assert api.delete(f"/api/v1/tokens/{created.json()['id']}", headers=auth(api, "viewer")).status_code == 200
    assert api.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.post("/api/v1/users", json={"name": "x", "role": "boss", "password": "long enough"},
                    headers=auth(api, "admin")).status_code == 422
    assert api.delete("/api/v1/users/viewer", headers=auth(api, "admin")).status_code == 200
    assert api.get("/api/v1/status", headers=auth(api, "viewer")).status_code == 401


def test_silences_are_kept_and_audited(api: Any) -> None:
    created = api.post("/api/v1/silences", json={"tag": "prod", "for": "30min", "reason": "maintenance"},
                       headers=auth(api, "operator"))
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["tag"] == "prod" and silence["by"] == "operator"
    listed = api.get("/api/v1/silences", headers=auth(api, "viewer")).json()["items"]
    assert [s["id"] for s in listed] == [silence["id"]]
    for body, code in (({"check": "nope", "for": "1h"}, "not_found"), ({"check": "web", "for": "soon"}, "invalid"),
                       ({"for": "1h"}, "invalid_body"), ({"check": "web", "tag": "x", "for": "1h"}, "invalid_body"),
                       ({"check": "web", "for": True}, "invalid_body")):
        response = api.post("/api/v1/silences", json=body, headers=auth(api, "operator"))
        assert error_code(response) == code, (body, response.text)
    assert api.delete(f"/api/v1/silences/{silence['id']}", headers=auth(api, "operator")).status_code == 200
    assert api.delete(f"/api/v1/silences/{silence['id']}", headers=auth(api, "operator")).status_code == 404
    actions = [e.get("BAMON_AUDIT_ACTION") for e in api.sink.entries if e.get("BAMON_AUDIT_VIA") == "web"]
    assert "silence" in actions and "unsilence" in actions


def test_security_headers(api: Any) -> None:
    for path in ("/", "/api/v1/status"):
        headers = api.get(path, headers=auth(api, "viewer")).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_openapi_lists_the_seed_routes(api: Any) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/scripts"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/scripts/{id}"])
    assert "get" in paths["/api/v1/status"] and "post" in paths["/api/v1/execute/{id}"]
    body = paths["/api/v1/scripts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ScriptInput"}
    assert "command" in doc["components"]["schemas"]["ScriptInput"]["properties"]


def test_events_push_runs_and_refresh_status(api: Any, tmp_path: Path) -> None:
    with api.websocket_connect("/api/v1/events", headers=auth(api, "viewer")) as ws:
        assert ws.receive_json()["type"] == "hello"
        api.source.entries.append({
            "SYSLOG_IDENTIFIER": "bamon-web",
            "MESSAGE": "bamon-run result=exit-code exit_code=exited exit_status=3 start_usec=1700000000000000 "
                       "end_usec=1700000000500000 duration_usec=500000 consecutive_failures=2 invocation=abc"})
        event = ws.receive_json()
        assert event == {"type": "run", "check": "web", "status": "FAILED", "result": "exit-code", "exitCode": 3,
                         "duration": 0.5, "lastExecution": "2023-11-14T22:13:20+00:00", "consecutiveFailures": 2}


def test_events_need_authentication(api: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed, api.websocket_connect("/api/v1/events") as ws:
        ws.receive_json()
    assert closed.value.code == 4401


def test_config_with_web_section_is_valid(write_config: Any) -> None:
    from bamon.config.model import load

    path = write_config(textwrap.dedent("""\
        web: {listen: ["127.0.0.1:18401", "[::1]:18401"], idle_exit: 2min}
        scripts: []
        """))
    config = load(path, path.parent / "scripts.d")
    assert not config.errors and config.web.listen == ("127.0.0.1:18401", "[::1]:18401")
    assert config.web.idle_exit == 120


def test_metrics_are_served_for_prometheus_without_a_session(api: Any) -> None:
    response = api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert 'bamon_check_enabled{check="web"} 1.0' in response.text
    assert 'bamon_check_enabled{check="disk"} 1.0' in response.text
