"""The console and the API explorer in a real Chromium, against a real server."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pyramidion.testing.browser import browser_errors, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def text_of(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def test_log_in_see_the_dashboard_and_log_out(make_live_server, browser, console_login, make_user, screenshot):
    server = make_live_server(worker=True)
    make_user("ann")
    browser.get(server("/console/"))
    wait_for(browser, lambda d: "/console/login" in d.current_url)
    screenshot("login")
    browser.find_element(By.ID, "field-username").send_keys("ann")
    browser.find_element(By.ID, "field-password").send_keys("wrong password", Keys.ENTER)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".form-errors"))
    assert "Wrong username or password." in text_of(browser, ".form-errors")
    screenshot("login-refused")
    assert [error for error in browser_errors(browser) if "(Unprocessable Entity)" not in error] == []

    console_login(browser, "ann")
    assert browser.current_url == server("/console/")
    assert text_of(browser, "h1") == "Dashboard"
    status = {
        card.find_element(By.TAG_NAME, "h3").text: card.text
        for card in browser.find_elements(By.CSS_SELECTOR, ".status")
    }
    assert "OK" in status["Database"]
    assert "pending" in status["Queue"]
    # The worker beats as it starts; the page shows it once the beat is recorded.
    wait_for(
        browser,
        lambda d: d.refresh() or "alive" in text_of(d, ".status-grid"),
        message="the dashboard never showed the worker alive",
    )
    screenshot("dashboard")
    assert browser_errors(browser) == []

    browser.find_element(By.CSS_SELECTOR, ".console-logout button").click()
    wait_for(browser, lambda d: "/console/login" in d.current_url)
    assert "You are logged out." in text_of(browser, ".console-flashes")
    browser.get(server("/console/"))
    assert "/console/login" in browser.current_url


def test_the_dashboard_on_a_phone(live_server, phone_browser, console_login, make_user, screenshot):
    make_user("ann")
    phone_browser.get(live_server("/console/login"))
    console_login(phone_browser, "ann")
    width = phone_browser.execute_script("return document.documentElement.scrollWidth")
    viewport = phone_browser.execute_script("return window.innerWidth")
    assert width <= viewport, "the page scrolls sideways on a phone"
    screenshot("dashboard-phone", phone_browser)


def test_the_api_explorer_lists_operations_and_authorizes_with_a_token(
    live_server, browser, make_user, login, screenshot
):
    user = make_user("ann")
    token = login(user)["Authorization"].removeprefix("Bearer ")
    browser.get(live_server("/api/docs"))
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"), message="Swagger UI did not render")
    assert "Unable to render this definition" not in browser.page_source

    def listed(driver):
        return {element.text for element in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}

    wait_for(browser, lambda d: {"/api/", "/api/health"} <= listed(d), message="the first operations are not listed")
    # Swagger UI renders further tags as the page scrolls; its filter finds one by tag.
    search = browser.find_element(By.CSS_SELECTOR, ".operation-filter-input")
    search.send_keys("users")
    wait_for(browser, lambda d: "/api/users" in listed(d), message="the filter did not find /api/users")
    search.clear()
    search.send_keys("auth")
    wait_for(browser, lambda d: "/api/auth/me" in listed(d), message="the filter did not find /api/auth/me")
    screenshot("docs")

    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
    field = wait_for(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, ".modal-ux input[type=text], .modal-ux input[type=password]")
    )
    field.send_keys(token)
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .auth-btn-wrapper .authorize").click()
    screenshot("docs-authorized")
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .btn-done").click()

    me = browser.find_element(By.XPATH, "//div[contains(@class, 'opblock-get')][.//*[@data-path='/api/auth/me']]")
    me.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_for(browser, lambda d: me.find_elements(By.CSS_SELECTOR, ".try-out__btn")).pop().click()
    wait_for(browser, lambda d: me.find_elements(By.CSS_SELECTOR, ".execute")).pop().click()
    status = wait_for(
        browser, lambda d: me.find_elements(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status")
    )
    assert status[0].text.strip().startswith("200")
    assert '"username": "ann"' in me.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    screenshot("docs-try-it-out")
    assert browser_errors(browser) == []


def no_sideways_scroll(driver):
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_an_administrator_manages_users_on_a_360_px_phone(
    live_server, make_browser, console_login, make_user, db, screenshot
):
    make_user("boss", permissions=["auth.admin"])
    for name in ("carol", "dave"):
        make_user(name, email=f"{name}.with.a.rather.long.address@example.com")
    phone = make_browser(360, 740)
    phone.get(live_server("/console/login"))
    console_login(phone, "boss")
    phone.get(live_server("/console/users"))
    assert no_sideways_scroll(phone), "the users page scrolls sideways at 360 px"
    screenshot("users-phone", phone)

    phone.find_element(By.LINK_TEXT, "New user").click()
    phone.find_element(By.ID, "field-username").send_keys("erin")
    phone.find_element(By.ID, "field-email").send_keys("erin@example.com")
    phone.find_element(By.ID, "field-password").send_keys("short")
    phone.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    error = wait_for(phone, lambda d: d.find_elements(By.ID, "field-password-error"))[0]
    assert error.is_displayed() and error.text
    # The keyboard lands on the field to fix.
    assert phone.switch_to.active_element.get_attribute("id") == "field-password"
    screenshot("user-new-refused-phone", phone)
    phone.switch_to.active_element.send_keys("a-long-passphrase", Keys.ENTER)
    wait_for(phone, lambda d: "User erin created." in d.page_source)
    assert no_sideways_scroll(phone)
    screenshot("user-created-phone", phone)


def test_account_pages_on_a_desktop(live_server, browser, console_login, make_user, screenshot):
    make_user("boss", permissions=["auth.admin"])
    browser.get(live_server("/console/login"))
    console_login(browser, "boss")
    for path, name in (
        ("/console/users", "users"),
        ("/console/groups", "groups"),
        ("/console/api-keys", "api-keys"),
        ("/console/password", "password"),
    ):
        browser.get(live_server(path))
        assert text_of(browser, "h1")
        screenshot(name)
    browser.get(live_server("/console/api-keys"))
    browser.find_element(By.ID, "field-name").send_keys("backup script")
    browser.find_element(By.CSS_SELECTOR, "main form:last-of-type button[type=submit]").click()
    key = wait_for(browser, lambda d: d.find_elements(By.ID, "created-key"))[0]
    assert "." in key.get_attribute("value")
    screenshot("api-key-created")
    # Keyboard: the skip link is the first stop and leads to the content.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to content"
    screenshot("skip-link-focused")
    assert browser_errors(browser) == []


def test_htmx_sends_the_csrf_token_by_itself(make_live_server, browser, console_login, make_user, screenshot):
    import console_sample

    make_user("ann")
    server = make_live_server(extra_plugins=[("sample", console_sample)])
    browser.get(server("/console/login"))
    console_login(browser, "ann")
    browser.get(server("/console/sample/"))
    browser.find_element(By.XPATH, "//button[text()='Ping']").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "pong").text == "pong for ann", message="htmx got no answer")
    assert browser_errors(browser) == []
