"""The dashboard in real headless Chromium against bamon.web.service in the container: log in,
watch a failing check turn red without reloading, press "Run now", open the history chart,
rearrange a panel and find it kept after a reload, and reach everything at 375 px.

Screenshots go to test-artifacts/ (not tracked) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nspawn import Container
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from support import bamon
from web_support import PASSWORD, Dashboard, set_up, tear_down

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAG = "/etc/bamon/flappy-fail"  # the check fails while this file exists


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


def test_everything_is_reachable_at_375_px(dash: Dashboard, browser: Any) -> None:
    browser.set_window_size(375, 812)
    browser.get(dash.base + "/#/")
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, '.tile[data-name="steady"]')))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return window.innerWidth")
    assert width <= viewport, f"the page scrolls sideways: {width} > {viewport}"
    for selector in ("#logout", "#customise", "#filter-tag", "#filter-status", '.panel[data-panel="alerts"]',
                     '.panel[data-panel="add"] button[type=submit]'):
        element = browser.find_element(By.CSS_SELECTOR, selector)
        browser.execute_script("arguments[0].scrollIntoView()", element)
        assert element.is_displayed(), selector
    shot(browser, "mobile")
    tile(browser, "steady").click()
    for element_id in ("run-now", "disable", "delete", "history-chart", "output"):
        element = wait(browser).until(ec.presence_of_element_located((By.ID, element_id)))
        browser.execute_script("arguments[0].scrollIntoView()", element)
        assert element.is_displayed(), element_id
    assert browser.execute_script("return document.documentElement.scrollWidth") <= viewport
    shot(browser, "mobile-check")
