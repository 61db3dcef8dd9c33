"""The robots' console in Chromium: a ``pyramidion robot-sim`` robot's moves reach the fleet and its trail live.

A live server over the test database, a real router with the backend
session, the simulator as a subprocess, and a headless Chromium logged in as
the robot's owner. Nothing is reloaded: the pages change because events
arrive over WAMP.
"""

from __future__ import annotations

import pytest
import requests
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from pyramidion.testing import TIMEOUT
from pyramidion.testing.browser import browser_errors, wait_for

pytestmark = [pytest.mark.router, pytest.mark.slow, pytest.mark.browser]

WAIT = TIMEOUT * 1.5  # a browser, a router, a backend and a simulator share two busy cores


def text_of(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text.strip()


def live(driver) -> None:
    """Wait until the page has subscribed to its robots' status topics."""
    try:
        wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-robots-live") == "on", WAIT)
    except TimeoutException:
        state = text_of(driver, "[data-live-state]")
        pytest.fail(f"the page did not go live ({state}); the browser said: {browser_errors(driver)}")


def mark_page(driver) -> None:
    """Tag the loaded document: a reload would lose the tag."""
    driver.execute_script("document.documentElement.dataset.sameDocument = 'yes'")


def still_same_page(driver) -> bool:
    return driver.execute_script("return document.documentElement.dataset.sameDocument") == "yes"


def trail_points(driver) -> list[str]:
    return driver.find_element(By.CSS_SELECTOR, "svg[data-trail] polyline").get_attribute("points").split()


def test_a_simulated_robots_moves_reach_the_fleet_and_its_trail_live(
    make_live_server, browser, phone_browser, console_login, screenshot, register_robot, operator, start_sim, login
):
    server = make_live_server(realtime=True)
    robot = register_robot("UR-LIVE", name="Live rover")
    row = f"tr[data-robot-id='{robot['id']}']"
    browser.get(server("/console/robots/"))
    console_login(browser, "operator")
    browser.get(server("/console/robots/"))
    live(browser)
    mark_page(browser)
    assert text_of(browser, f"{row} [data-connection]") == "disconnected"
    assert text_of(browser, f"{row} [data-position]") == "none yet"

    sim = start_sim(server.url, robot, "--rate", "10")
    # The robot drives once told to: the positions it sends then change.
    wait_for(browser, lambda d: text_of(d, f"{row} [data-connection]") == "connected", WAIT,
             f"the fleet never showed the robot connected; the simulator said:\n{sim.output()}")  # fmt: skip
    wait_for(browser, lambda d: text_of(d, f"{row} [data-position]") != "none yet", WAIT, "no position arrived")
    command = server(f"/api/robots/{robot['id']}/commands")
    sent = requests.post(command, json={"command": "auto"}, headers=login(operator), timeout=10)
    assert sent.status_code == 201, sent.text
    first = text_of(browser, f"{row} [data-position]")
    wait_for(browser, lambda d: text_of(d, f"{row} [data-position]") not in (first, "none yet")
             and "auto" in text_of(d, f"{row} [data-position]"), WAIT, "the fleet's position did not move")  # fmt: skip
    assert still_same_page(browser)
    screenshot("fleet")

    # On a phone the same fleet, live, with connection and position in view without scrolling sideways.
    phone_browser.get(server("/console/robots/"))
    console_login(phone_browser, "operator")
    phone_browser.get(server("/console/robots/"))
    live(phone_browser)
    wait_for(phone_browser, lambda d: text_of(d, f"{row} [data-connection]") == "connected", WAIT, "not on the phone")
    for cell in ("[data-connection]", "[data-position]"):
        right = phone_browser.execute_script(
            "return arguments[0].getBoundingClientRect().right",
            phone_browser.find_element(By.CSS_SELECTOR, f"{row} {cell}"),
        )
        assert right <= phone_browser.execute_script("return window.innerWidth"), cell
    screenshot("fleet-phone", phone_browser)

    browser.find_element(By.LINK_TEXT, "UR-LIVE").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "svg[data-trail]"), WAIT, "no robot page")
    live(browser)
    mark_page(browser)
    drawn = len(trail_points(browser))
    wait_for(browser, lambda d: len(trail_points(d)) >= drawn + 5, WAIT, "the trail did not grow live")
    assert text_of(browser, "[data-connection]") == "connected"

    # A command button: its status arrives as the robot reports, without a reload after the POST's redirect.
    browser.find_element(By.CSS_SELECTOR, ".command-buttons button[aria-label^='Send the command idle']").click()
    wait_for(browser, lambda d: "Command idle sent" in d.page_source, WAIT, "the command was not sent")
    live(browser)
    wait_for(browser, lambda d: text_of(d, "table[data-commands] tbody tr:first-child [data-command-status]")
             == "acknowledged", WAIT, f"the command's status never arrived; the simulator said:\n{sim.output()}")  # fmt: skip
    mark_page(browser)
    drawn = len(trail_points(browser))
    wait_for(browser, lambda d: len(trail_points(d)) >= drawn + 3, WAIT, "the trail stopped growing")
    assert still_same_page(browser)
    assert len(set(trail_points(browser))) > 3  # it drove: the trail is a line, not a dot
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.CSS_SELECTOR, "#trail-title"))
    screenshot("robot")
    assert browser_errors(browser) == []

    sim.stop()
    wait_for(browser, lambda d: text_of(d, "[data-connection]") == "disconnected", WAIT, "never shown disconnected")
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot("robot-disconnected")
