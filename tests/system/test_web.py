"""The dashboard's service in a real systemd: off until enabled, started by its socket on the
first request, exits when idle, reports real check state, writes through the root helper so
that an API change shows up in `systemctl list-timers` and the audit trail."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from nspawn import Container
from support import bamon, unit_exists
from web_support import Dashboard, active, set_up, tear_down

AUDIT_ID = "f84e75758ce842fcaa04acb843d014d6"


@pytest.fixture(scope="module")
def dash(container: Container) -> Iterator[Dashboard]:
    assert container.run(["systemctl", "is-enabled", "bamon.web.socket"], check=False).stdout.strip() == "disabled"
    board = set_up(container)
    yield board
    tear_down(board)


def wait_idle(dash: Dashboard) -> None:
    dash.box.wait_for(lambda: active(dash.box, "bamon.web.service") == "inactive", 30, 0.5, "the idle exit")


def test_socket_starts_the_service_and_idle_exit_stops_it(dash: Dashboard) -> None:
    box = dash.box
    wait_idle(dash)
    assert active(box, "bamon.web.socket") == "active"
    assert not box.run("pgrep -f bamon-web", check=False).stdout.strip()  # nothing resident
    status, body = dash.call("GET", "/api/v1/status", role="viewer")
    assert status == 200 and "scripts" in body
    assert active(box, "bamon.web.service") == "active"
    wait_idle(dash)  # web.idle_exit is 4 s here
    assert active(box, "bamon.web.socket") == "active"
    assert dash.call("GET", "/api/v1/status", role="viewer")[0] == 200  # and back on the next request
    status, body = dash.call("GET", "/api/v1/status", role="viewer", base=f"http://[::1]:{dash.port}")
    assert status == 200  # the IPv6 address of web.listen


def test_api_reports_real_check_state(dash: Dashboard) -> None:
    bamon(dash.box, "add", "web_broken", "-c", "echo broken-output; exit 3", "-i", "1h")
    dash.box.run(["systemctl", "start", "bamon-web_broken.service"], check=False)

    def failed() -> dict[str, object] | None:
        status, body = dash.call("GET", "/api/v1/scripts/web_broken", role="viewer")
        return body if status == 200 and body["status"] == "FAILED" and body["output"] else None

    check = dash.box.wait_for(failed, 30, 0.5, "web_broken to be FAILED in the API")
    assert check["exitCode"] == 3 and check["output"] == "broken-output"
    status, runs = dash.call("GET", "/api/v1/scripts/web_broken/history", role="viewer")
    assert status == 200 and runs["items"][0]["exitCode"] == 3
    status, alerts = dash.call("GET", "/api/v1/alerts", role="viewer")
    assert "web_broken" in [a["name"] for a in alerts["items"]]
    bamon(dash.box, "remove", "-f", "web_broken")


def test_api_write_shows_in_list_timers_and_audit(dash: Dashboard) -> None:
    box = dash.box
    status, body = dash.call("POST", "/api/v1/scripts", {"name": "from_api", "command": "echo hi", "interval": "1h"})
    assert status == 201, body
    assert "bamon-from_api.timer" in box.run("systemctl list-timers --all --no-pager --plain 'bamon-*'").stdout
    assert box.run("stat -c %U /etc/bamon/scripts.d/from_api.yaml").stdout.strip() == "root"
    audit = box.run(["journalctl", "-o", "json", "--no-pager", f"MESSAGE_ID={AUDIT_ID}", "BAMON_CHECK=from_api"])
    records = [json.loads(line) for line in audit.stdout.splitlines()]
    assert records and records[-1]["BAMON_AUDIT_USER"] == "admin" and records[-1]["BAMON_AUDIT_VIA"] == "web"
    assert dash.call("POST", "/api/v1/scripts/from_api/disable", role="operator")[0] == 200
    assert not unit_exists(box, "bamon-from_api.timer")
    assert dash.call("POST", "/api/v1/execute/from_api", role="operator")[0] == 202
    status, body = dash.call("PUT", "/api/v1/scripts/from_api", {"command": "x", "interval": "never"})
    assert status == 422 and body["error"]["code"] == "invalid" and "interval" in body["error"]["message"]
    assert dash.call("DELETE", "/api/v1/scripts/from_api", role="operator")[0] == 403
    assert dash.call("DELETE", "/api/v1/scripts/from_api")[0] == 200
    assert not unit_exists(box, "bamon-from_api.service")


def test_silences_through_the_helper(dash: Dashboard) -> None:
    status, silence = dash.call("POST", "/api/v1/silences", {"tag": "prod", "for": "1h", "reason": "deploy"},
                                role="operator")
    assert status == 201, silence
    assert silence["id"] in dash.box.run(["bamon", "silence", "list"]).stdout
    status, listed = dash.call("GET", "/api/v1/silences", role="viewer")
    # other tests of the shared container may have left silences of their own
    assert status == 200 and silence["id"] in [s["id"] for s in listed["items"]]
    assert dash.call("DELETE", f"/api/v1/silences/{silence['id']}", role="viewer")[0] == 403
    assert dash.call("DELETE", f"/api/v1/silences/{silence['id']}", role="operator")[0] == 200
    assert silence["id"] not in dash.box.run(["bamon", "silence", "list"]).stdout


def test_roles_hold_against_the_real_service(dash: Dashboard) -> None:
    assert dash.call("GET", "/api/v1/status", role=None)[0] == 401
    assert dash.call("POST", "/api/v1/scripts", {"name": "nope", "command": "true"}, role="viewer")[0] == 403
    assert dash.call("GET", "/api/v1/users", role="operator")[0] == 403
    assert dash.call("GET", "/api/v1/users")[0] == 200


def test_the_write_helper_serves_only_the_web_service(dash: Dashboard) -> None:
    out = dash.box.run(["python3", "-c", (
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/bamon.web-manage.sock');"
        "s.sendall(b'{\"op\": \"remove\", \"name\": \"disk_root\", \"data\": {}, \"user\": \"x\"}\\n');"
        "s.shutdown(socket.SHUT_WR); print(s.recv(4096).decode())")]).stdout
    assert json.loads(out)["error"]["code"] == "forbidden"
    assert unit_exists(dash.box, "bamon-disk_root.service")


def test_service_runs_unprivileged_and_hardened(dash: Dashboard) -> None:
    box = dash.box
    dash.call("GET", "/api/v1/status", role="viewer")
    user = box.run(["systemctl", "show", "-p", "User", "--value", "bamon.web.service"]).stdout.strip()
    pid = box.run(["systemctl", "show", "-p", "MainPID", "--value", "bamon.web.service"]).stdout.strip()
    assert user == "bamon-web" and box.run(["ps", "-o", "user=", "-p", pid]).stdout.strip() == "bamon-web"
    report = box.run(["systemd-analyze", "security", "--no-pager", "bamon.web.service"], check=False).stdout
    exposure = float(re.search(r"Overall exposure level for bamon\.web\.service: ([0-9.]+)", report).group(1))
    print(f"systemd-analyze security bamon.web.service: {exposure}")
    assert exposure <= 2.5, report
    # the root helper, offline (an instance exists only during a write)
    helper = box.run(["systemd-analyze", "security", "--no-pager", "--offline=yes",
                      "/lib/systemd/system/bamon.web-manage@.service"], check=False).stdout
    found = re.search(r"Overall exposure level for bamon\.web-manage@\S*\.service: ([0-9.]+)", helper)
    print(f"systemd-analyze security --offline bamon.web-manage@.service: {found and found.group(1)}")
    assert found and float(found.group(1)) <= 3.0, helper
