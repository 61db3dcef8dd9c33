"""The jobs pages in a real browser, against a live server, a real worker and a real router."""

from __future__ import annotations

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from pyramidion.testing.browser import browser_errors, wait_for
from pyramidion_jobs.demo import add_demo_data

pytestmark = pytest.mark.browser

DEMO_HOSTS = ["router-1", "router-2", "switch-1"]


def host_rows(driver):
    return {row.get_attribute("data-host"): row.text for row in driver.find_elements(By.CSS_SELECTOR, "tr[data-host]")}


def test_netadmin_launches_hello_world_and_watches_each_hosts_result_arrive_without_reloading(
    make_live_server, browser, phone_browser, console_login, screenshot, registry, in_transaction
):
    in_transaction(lambda db: add_demo_data(db, registry))
    server = make_live_server(worker=True, realtime=True)
    browser.get(server("/console/"))
    console_login(browser, "netadmin", "netadmin-password")
    browser.find_element(By.LINK_TEXT, "Jobs").click()
    browser.find_element(By.LINK_TEXT, "hello_world").click()
    Select(browser.find_element(By.NAME, "inventory_id")).select_by_visible_text("Example")
    screenshot("launch-form")
    # A few seconds ahead, so the page is open and following before the worker starts: what
    # it shows next arrives over WAMP, not with the page.
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%S")
    browser.find_element(By.TAG_NAME, "summary").click()
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.NAME, "scheduled_at"), start)
    browser.find_element(By.CSS_SELECTOR, "button[value=launch]").click()

    wait_for(browser, lambda d: d.find_elements(By.ID, "run-live"), message="the run's page did not open")
    # Read through wait_for: the live page may redraw the summary while it is read (a stale element).
    wait_for(
        browser,
        lambda d: "scheduled" in d.find_element(By.CSS_SELECTOR, ".run-summary").text,
        message="the run's summary does not say it is scheduled",
    )
    assert host_rows(browser) == {}
    browser.execute_script("window.jobsPageNeverReloaded = true")
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-run-live") == "on")
    screenshot("run-waiting")

    wait_for(
        browser,
        lambda d: sorted(host_rows(d)) == DEMO_HOSTS,
        timeout=40,
        message="the hosts' results did not arrive",
    )
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-run-status") == "finished")
    rows = host_rows(browser)
    for host in DEMO_HOSTS:
        assert "finished" in rows[host] and f"Hello from {host}" in rows[host]
    assert browser.execute_script("return window.jobsPageNeverReloaded") is True
    assert "This run has ended" in browser.find_element(By.ID, "run-connection").text
    screenshot("run-finished")
    assert browser_errors(browser) == []

    phone_browser.get(browser.current_url)
    console_login(phone_browser, "netadmin", "netadmin-password")
    phone_browser.get(browser.current_url)
    wait_for(phone_browser, lambda d: sorted(host_rows(d)) == DEMO_HOSTS)
    overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert phone_browser.execute_script(overflow) <= 0, "the run's page is wider than the phone"
    screenshot("run-phone", phone_browser)
    phone_browser.get(server("/console/jobs/templates/ping"))
    assert phone_browser.execute_script(overflow) <= 0, "the launch form is wider than the phone"
    screenshot("launch-form-phone", phone_browser)


def test_every_jobs_page_fits_a_phone(live_server, phone_browser, console_login, screenshot, app, login, make_user):
    headers = login(make_user("root", superuser=True))
    inventory = app.post_json(
        "/api/jobs/inventories/import",
        {
            "name": "lab",
            "hosts": "".join(f"edge-router-{i}: {{hostname: 10.0.0.{i}, platform: ios}}\n" for i in range(4)),
        },
        headers=headers,
    ).json["inventory"]["id"]
    preset = app.post_json(
        "/api/jobs/presets",
        {
            "name": "Ping the gateway",
            "template": "ping",
            "inventory_id": inventory,
            "variables": {"target": "10.0.0.254"},
        },
        headers=headers,
    ).json["id"]
    app.post_json(
        "/api/jobs/schedules",
        {"name": "Weekday mornings", "preset_id": preset, "cron": "0 6 * * 1-5", "timezone": "Europe/Zurich"},
        headers=headers,
    )
    run = app.post_json(
        "/api/jobs/runs", {"template": "say", "inventory_id": inventory, "variables": {"text": "hi"}}, headers=headers
    ).json["id"]
    phone_browser.get(live_server("/console/"))
    console_login(phone_browser, "root")
    overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    for name, path in [
        ("templates", "/console/jobs/"),
        ("launch-ping", "/console/jobs/templates/ping"),
        ("runs", "/console/jobs/runs"),
        ("run", f"/console/jobs/runs/{run}"),
        ("inventories", "/console/jobs/inventories"),
        ("inventory", f"/console/jobs/inventories/{inventory}"),
        ("host", f"/console/jobs/inventories/{inventory}/hosts/edge-router-1"),
        ("presets", "/console/jobs/presets"),
        ("schedules", "/console/jobs/schedules"),
        ("runner", "/console/jobs/configuration"),
    ]:
        phone_browser.get(live_server(path))
        assert phone_browser.find_elements(By.TAG_NAME, "h1"), name
        screenshot(f"{name}-phone", phone_browser)
        assert phone_browser.execute_script(overflow) <= 0, f"{path} is wider than a phone"
