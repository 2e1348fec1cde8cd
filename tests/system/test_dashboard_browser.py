"""The dashboard in real headless Chromium against bamon.web.service in the container: log in,
watch a failing check turn red without reloading, press "Run now", open the history chart,
rearrange a panel (buttons, and drag and drop) and find it kept after a reload, see a real
alert's deliveries (delivered to a local HTTP receiver, refused, queued and retried by the
outbox), read the success-rate chart against the API, see the Fleet page read from a real
Prometheus, and reach everything at 375 px.

Screenshots go to test-artifacts/ (not tracked) for a human to look at. The alert receiver
listens on a port of 18700-18749.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promstack
import pytest
from alert_receiver import Receiver, free_port
from nspawn import Container, wait_for
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from support import append_config, bamon
from web_support import PASSWORD, Dashboard, active, set_up, tear_down

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAG = "/etc/bamon/flappy-fail"  # the check fails while this file exists
RECEIVER_PORTS = range(18700, 18750)


@pytest.fixture(scope="module")
def dash(container: Container) -> Iterator[Dashboard]:
    board = set_up(container, idle_exit=60)
    bamon(container, "add", "flappy", "-c", f"test ! -e {FLAG} && echo fine", "-i", "2s", "--tag", "demo")
    bamon(container, "add", "steady", "-c", "echo steady", "-i", "1h", "--tag", "prod")
    yield board
    bamon(container, "remove", "-f", "flappy")
    bamon(container, "remove", "-f", "steady")
    tear_down(board)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: Any, timeout: float = 20) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.1)


def click(driver: Any, css: str) -> None:
    """Click the element, finding it again if a live re-render replaced it meanwhile."""
    WebDriverWait(driver, 20, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)


def reachable(driver: Any, css: str) -> None:
    """Scroll the element into view and require it displayed; a live re-render may replace it
    between the two steps, so a stale handle means "find it again", not a failure."""
    def shown(d: Any) -> bool:
        element = d.find_element(By.CSS_SELECTOR, css)
        d.execute_script("arguments[0].scrollIntoView()", element)
        return bool(element.is_displayed())
    try:
        WebDriverWait(driver, 20, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(shown)
    except TimeoutException:
        raise AssertionError(f"{css} cannot be brought into view") from None


def tile(driver: Any, name: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f'.tile[data-name="{name}"]')


def tile_status(driver: Any, name: str) -> str | None:
    status: str | None = driver.execute_script(
        "const t = document.querySelector(`.tile[data-name='${arguments[0]}']`); return t && t.dataset.status", name)
    return status


def shot(driver: Any, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"dashboard-{name}.png"))


def log_in(driver: Any, dash: Dashboard, user: str = "admin") -> None:
    driver.get(dash.base + "/")
    wait(driver).until(ec.visibility_of_element_located((By.ID, "login-user"))).send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, '.tile[data-name="flappy"]')))


def home(driver: Any, dash: Dashboard) -> None:
    """The dashboard, logged in (when a test runs on its own, nobody logged in before it)."""
    driver.get(dash.base + "/#/")
    shown = wait(driver).until(lambda d: (d.find_element(By.ID, "login").is_displayed() and "login")
                               or (d.find_element(By.ID, "dashboard").is_displayed() and "dashboard"))
    if shown == "login":
        log_in(driver, dash)


def panel_order(driver: Any) -> list[str]:
    # one script call: the grid re-renders on every live event, so element handles go stale
    order: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('#dashboard > .panel')].map((p) => p.dataset.panel)")
    return order


def test_login_and_a_check_turns_red_live(dash: Dashboard, browser: Any) -> None:
    log_in(browser, dash)
    wait(browser).until(lambda d: tile_status(d, "flappy") == "OK")
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
    shot(browser, "green")
    browser.execute_script("window.__notReloaded = true")
    dash.box.run(["touch", FLAG])
    try:
        wait(browser, 30).until(lambda d: tile_status(d, "flappy") == "FAILED")
        assert browser.execute_script("return window.__notReloaded") is True  # live, not reloaded
        shot(browser, "red")
        silence = '.panel[data-panel="alerts"] button.silence[data-check="flappy"]'
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, silence)))
        # the panel is rebuilt on live events: click through the page, not a kept handle
        browser.execute_script("document.querySelector(arguments[0]).click()", silence)
        wait(browser).until(ec.text_to_be_present_in_element((By.ID, "silences"), "flappy"))
        silenced = dash.box.run(["bamon", "silence", "list", "--json"]).stdout
        assert '"check": "flappy"' in silenced and '"by": "admin"' in silenced
    finally:
        dash.box.run(["rm", "-f", FLAG])


def test_run_now_and_history_chart(dash: Dashboard, browser: Any) -> None:
    tile(browser, "steady").click()
    run_now = wait(browser).until(ec.element_to_be_clickable((By.ID, "run-now")))
    run_now.click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "toast"), "steady started"))
    audit = dash.box.run(["journalctl", "--no-pager", "-o", "cat", "MESSAGE_ID=f84e75758ce842fcaa04acb843d014d6"])
    assert "bamon execute steady by admin via web" in audit.stdout
    browser.get(dash.base + "/#/check/steady")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#history-chart svg rect"))
    assert "Success rate: 100.0 %" in browser.find_element(By.ID, "history-chart").text
    assert not browser.find_element(By.ID, "dashboard").is_displayed()  # the check's page alone
    shot(browser, "check")


def test_rearranged_panel_is_kept_after_reload(dash: Dashboard, browser: Any) -> None:
    browser.get(dash.base + "/#/")
    wait(browser).until(lambda d: panel_order(d)[:1] == ["grid"])
    before = panel_order(browser)
    click(browser, '.panel[data-panel="grid"] .move-down')
    wait(browser).until(lambda d: panel_order(d) == [before[1], "grid", *before[2:]])
    browser.refresh()
    wait(browser).until(lambda d: len(panel_order(d)) == len(before))
    assert panel_order(browser) == [before[1], "grid", *before[2:]]
    click(browser, f'.panel[data-panel="{before[1]}"] .move-down')  # put it back
    wait(browser).until(lambda d: panel_order(d) == before)
    # the page shows a move at once and saves it after: let the save land before the next test
    # writes a layout of its own (a late save once overwrote it, on a loaded host)
    wait_saved(dash, before)


def drag(driver: Any, handle: Any, target: Any) -> None:
    """Press on the handle, move a little (the drag starts), move onto the target, let go: the
    pauses give a loaded browser time to start the drag before the pointer moves on. The
    page's drag events are kept in window.__drags for the failure message."""
    driver.execute_script(
        "window.__drags = []; if (!window.__dragLog) { window.__dragLog = true; for (const t of "
        "['dragstart', 'dragenter', 'drop', 'dragend']) document.addEventListener(t, (e) => window.__drags.push("
        "`${t}:${e.target.closest ? (e.target.closest('.panel') || e.target).dataset.panel : e.target.nodeName}`),"
        " true); }")
    ActionChains(driver).click_and_hold(handle).pause(0.3).move_by_offset(5, 5).pause(0.3).move_to_element(target) \
        .pause(0.3).move_by_offset(0, 5).pause(0.3).release().perform()


def wait_saved(dash: Dashboard, panels: list[str]) -> None:
    """Until the server holds the layout the page saves after a move (its PUT may still be on its
    way when the page already shows the move)."""
    def saved() -> bool:
        status, layout = dash.call("GET", "/api/v1/layout")  # the admin's token: the same user
        return status == 200 and layout["panels"][:len(panels)] == panels
    try:
        wait_for(saved, 30, 0.2, "the page's save")
    except TimeoutError:
        raise AssertionError(f"saved layout {dash.call('GET', '/api/v1/layout')}, wanted {panels} first") from None


def wait_order(driver: Any, want: list[str]) -> None:
    try:
        wait(driver, 60).until(lambda d: panel_order(d) == want)
    except TimeoutException:
        raise AssertionError(f"panels {panel_order(driver)}, wanted {want}; drag events "
                             f"{driver.execute_script('return window.__drags')}") from None


def test_dragged_panel_is_kept_after_reload(dash: Dashboard, browser: Any) -> None:
    # (reloads wait up to a minute: on a host loaded by other work, a reload was seen to take 20 s)
    home(browser, dash)
    wait(browser).until(lambda d: panel_order(d)[:1] == ["grid"])
    before = panel_order(browser)
    # the deliveries panel second: beside the checks in the first row, where no live change of
    # another panel's height can move it while the pointer is on its way
    start = ["grid", "deliveries", *[p for p in before if p not in ("grid", "deliveries")]]
    assert dash.call("PUT", "/api/v1/layout", {"panels": start})[0] == 200
    browser.refresh()
    wait_order(browser, start)
    # a real HTML5 drag (mouse down on the title bar, move, release) onto the first panel
    handle = browser.find_element(By.CSS_SELECTOR, '.panel[data-panel="deliveries"] > h2')
    assert handle.get_attribute("draggable") == "true"
    drag(browser, handle, browser.find_element(By.CSS_SELECTOR, '.panel[data-panel="grid"]'))
    moved = ["deliveries", "grid", *start[2:]]
    wait_order(browser, moved)
    shot(browser, "dragged")
    wait_saved(dash, moved)
    browser.refresh()
    wait(browser, 60).until(lambda d: len(panel_order(d)) == len(before))
    assert panel_order(browser) == moved
    # the keyboard way back: focus the ↓ button and press Enter
    browser.find_element(By.CSS_SELECTOR, '.panel[data-panel="deliveries"] .move-down').send_keys(Keys.ENTER)
    wait(browser, 60).until(lambda d: panel_order(d) == start)
    # and a drag downwards: the checks onto the deliveries put the checks after them
    handle = browser.find_element(By.CSS_SELECTOR, '.panel[data-panel="grid"] > h2')
    drag(browser, handle, browser.find_element(By.CSS_SELECTOR, '.panel[data-panel="deliveries"]'))
    wait_order(browser, moved)
    wait_saved(dash, moved)  # then the page's own save cannot land after the one below
    # as it was, for the tests after this one
    assert dash.call("PUT", "/api/v1/layout", {"panels": before})[0] == 200


@pytest.fixture(scope="module")
def alerting(dash: Dashboard) -> Iterator[Receiver]:
    """Three webhook channels: one the receiver accepts, one it refuses for good (410), one
    where nothing listens (queued in the outbox and retried); one named rule sends to all."""
    receiver = Receiver(RECEIVER_PORTS, answers={"/reject": 410})
    nowhere = free_port(RECEIVER_PORTS)
    alerts = {"channels": [{"name": "hook", "type": "webhook", "url": receiver.url("/hook")},
                           {"name": "reject", "type": "webhook", "url": receiver.url("/reject")},
                           {"name": "down", "type": "webhook", "url": f"http://127.0.0.1:{nowhere}/down"}],
              # only the alarm: other checks of the shared container may fail meanwhile (a loaded host)
              "rules": [{"name": "page-ops", "condition": "status == 'FAILED'", "tags": ["pager"]}]}
    # one line of YAML (JSON is YAML), taken out again with sed
    dash.box.run(["bash", "-c", f"cat >> /etc/bamon/config.yaml <<'EOF'\nalerts: {json.dumps(alerts)}\nEOF"])
    bamon(dash.box, "config", "validate")
    bamon(dash.box, "add", "alarm", "-c", "echo disk on fire; exit 3", "-i", "1h", "--tag", "pager")
    try:
        yield receiver
    finally:
        bamon(dash.box, "remove", "-f", "alarm")
        dash.box.run("sed -i '/^alerts: /d' /etc/bamon/config.yaml")
        # the drain drops what waits for a channel that is gone: the shared container's outbox ends empty
        dash.box.run(["systemctl", "start", "bamon.outbox.service"], check=False)
        receiver.close()


def deliveries_shown(driver: Any, css: str) -> dict[str, dict[str, str]]:
    """{channel: the item's data and text} of the alarm's deliveries in the list `css`."""
    found: dict[str, dict[str, str]] = driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll(arguments[0] + ' li.delivery[data-check=alarm]')]"
        ".map((li) => [li.dataset.channel, {...li.dataset, text: li.textContent}]))", css)
    return found


def test_alert_deliveries_delivered_refused_queued_and_retried(dash: Dashboard, browser: Any,
                                                              alerting: Receiver) -> None:
    browser.set_window_size(1280, 900)
    home(browser, dash)
    wait(browser).until(ec.presence_of_element_located((By.ID, "deliveries")))
    assert dash.call("POST", "/api/v1/execute/alarm", role="operator")[0] == 202
    # the notifier (OnFailure=) sends a real alert; the panel fills from the live feed, no reload
    browser.execute_script("window.__notReloaded = true")
    wait(browser, 60).until(lambda d: len(deliveries_shown(d, "#deliveries")) == 3)
    assert browser.execute_script("return window.__notReloaded") is True
    (received,) = [r for r in alerting.at("/hook") if r.body["check"] == "alarm"]
    assert received.body["check"] == "alarm" and received.body["rule"] == "page-ops"
    assert [r.body["check"] for r in alerting.at("/reject")] == ["alarm"]
    shown = deliveries_shown(browser, "#deliveries")
    assert {c: s["outcome"] for c, s in shown.items()} == {"hook": "delivered", "reject": "failed", "down": "queued"}
    assert shown["hook"]["alert"] == received.body["id"] and "rule page-ops" in shown["hook"]["text"]
    assert "HTTP 202" in shown["hook"]["text"] and "HTTP 410" in shown["reject"]["text"]
    shot(browser, "deliveries")
    # the check's own page lists them too; the outbox retries "down" after its backoff (15 s)
    browser.get(dash.base + "/#/check/alarm")
    wait(browser).until(lambda d: len(deliveries_shown(d, "#check-deliveries")) == 3)
    wait(browser, 90).until(lambda d: int(deliveries_shown(d, "#check-deliveries")["down"]["retries"]) >= 1)
    down = deliveries_shown(browser, "#check-deliveries")["down"]
    assert down["outcome"] == "queued" and "retried" in down["text"] and "next try" in down["text"]
    api = {d["channel"]: d for d in dash.call("GET", "/api/v1/scripts/alarm/deliveries", role="viewer")[1]["items"]}
    assert api["down"]["retries"] >= 1 and api["down"]["nextTry"] and api["reject"]["answer"] == "permanent"
    browser.execute_script("document.getElementById('check-deliveries').scrollIntoView()")
    shot(browser, "check-deliveries")
    timing(browser, "deliveries")


def chart_bars(driver: Any) -> list[tuple[str, float, int]]:
    bars: list[list[Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#success-chart svg rect')]"
        ".map((r) => [r.dataset.start, Number(r.dataset.rate), Number(r.dataset.runs)])")
    return [(start, rate, runs) for start, rate, runs in bars]


def timing(driver: Any, what: str) -> None:
    """Print how long the page and its API reads took in the browser (pytest -s shows it)."""
    figures = driver.execute_script(
        "const nav = performance.getEntriesByType('navigation')[0];"
        "return [nav ? nav.loadEventEnd - nav.startTime : null, performance.getEntriesByType('resource')"
        ".filter((r) => r.name.includes('/api/v1/')).map((r) => [new URL(r.name).pathname, r.duration])]")
    slowest: dict[str, float] = {}
    for path, took in figures[1]:
        slowest[path] = max(took, slowest.get(path, 0.0))
    print(f"\n{what}: page load {figures[0]:.0f} ms; slowest answer per route: "
          + ", ".join(f"{p} {d:.0f} ms" for p, d in sorted(slowest.items())))


def test_success_rate_chart_matches_the_api(dash: Dashboard, browser: Any) -> None:
    # some failures among flappy's runs (every 2 s), then hold it still so the API and the page agree
    dash.box.run(["touch", FLAG])
    try:
        dash.box.wait_for(lambda: dash.call("GET", "/api/v1/scripts/flappy")[1]["consecutiveFailures"] >= 2 or None,
                          30, 0.5, "two failed runs of flappy")
    finally:
        dash.box.run(["rm", "-f", FLAG])
    dash.box.wait_for(lambda: dash.call("GET", "/api/v1/scripts/flappy")[1]["status"] == "OK" or None,
                      30, 0.5, "flappy OK again")
    bamon(dash.box, "disable", "flappy")
    # a run started just before its timer stopped still lands: wait for the unit to be done
    dash.box.wait_for(lambda: active(dash.box, "bamon-flappy.service") not in ("active", "activating") or None,
                      30, 0.5, "flappy's last run")
    time.sleep(1)  # …and for its record to be in the journal
    try:
        home(browser, dash)
        browser.get(dash.base + "/#/check/flappy")
        for span in ("24h", "1h"):
            if span != "24h":
                Select(wait(browser).until(ec.element_to_be_clickable((By.ID, "success-window")))).select_by_value(span)
            api = dash.call("GET", f"/api/v1/scripts/flappy/success-rate?window={span}", role="viewer")[1]
            want = [(b["start"], b["successRate"], b["runs"]) for b in api["buckets"]]
            assert api["runs"] >= 3 and any(rate < 1 for _, rate, _ in want), api
            try:
                wait(browser).until(lambda d: chart_bars(d) == want)  # noqa: B023 - waited for here and now
            except TimeoutException:
                raise AssertionError(f"{span}: the chart shows {chart_bars(browser)}, the API {want}") from None
            summary = browser.find_element(By.ID, "success-summary").text
            assert f"{100 * api['successRate']:.1f} % of {api['runs']} runs" in summary, (summary, api)
        browser.execute_script("document.getElementById('success-chart').scrollIntoView()")
        shot(browser, "success-rate")
        timing(browser, "check page")
    finally:
        bamon(dash.box, "enable", "flappy")


def test_fleet_page_shows_every_host_check_from_prometheus_failures_first(dash: Dashboard, browser: Any,
                                                                         tmp_path: Path) -> None:
    """A real Prometheus (on the host) scrapes the web service's /metrics; fleet.prometheus_url
    points the dashboard's Fleet page at it."""
    port = promstack.free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: bamon\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{dash.port}']}}]\n")
    append_config(dash.box, f'fleet: {{prometheus_url: "http://127.0.0.1:{port}"}}\n')
    dash.box.run(["touch", FLAG])
    try:
        with promstack.server("prometheus", [
                f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}"], port, tmp_path, "/-/ready"):
            home(browser, dash)
            click(browser, "#fleet-link")

            def rows(driver: Any) -> list[list[str]] | None:
                driver.execute_script("showFleet()")  # ask again now rather than in 15 s
                found: list[list[str]] = driver.execute_script(
                    "return [...document.querySelectorAll('table.fleet tbody tr')]"
                    ".map((r) => [r.dataset.check, r.dataset.status, r.dataset.host])")
                return found if ["flappy", "FAILED"] in [r[:2] for r in found] else None

            found = WebDriverWait(browser, 40, poll_frequency=1).until(rows)
            assert found[0][1] == "FAILED", found  # failures first
            assert ["steady", "OK"] in [r[:2] for r in found] and {r[2] for r in found} == {f"127.0.0.1:{dash.port}"}
            assert "1 host(s)" in browser.find_element(By.ID, "fleet-summary").text
            shot(browser, "fleet")
    finally:
        dash.box.run(["bash", "-c", "rm -f " + FLAG + "; sed -i '/^fleet: /d' /etc/bamon/config.yaml"])


def test_everything_is_reachable_at_375_px(dash: Dashboard, browser: Any) -> None:
    browser.set_window_size(375, 812)
    home(browser, dash)
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, '.tile[data-name="steady"]')))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return window.innerWidth")
    assert width <= viewport, f"the page scrolls sideways: {width} > {viewport}"
    for selector in ("#logout", "#customise", "#filter-tag", "#filter-status", '.panel[data-panel="alerts"]',
                     "#deliveries", '.panel[data-panel="add"] button[type=submit]'):
        reachable(browser, selector)
    shot(browser, "mobile")
    tile(browser, "steady").click()
    for element_id in ("run-now", "disable", "delete", "history-chart", "success-window", "check-deliveries", "output"):
        reachable(browser, f"#{element_id}")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= viewport
    shot(browser, "mobile-check")
