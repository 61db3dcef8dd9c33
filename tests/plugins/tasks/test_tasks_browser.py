"""The task tracker's console in a real Chromium: a performer found by name, a comment, the list; on a phone too."""

from __future__ import annotations

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pyramidion.testing.browser import browser_errors, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_live_server, tasks_settings):
    return make_live_server(**tasks_settings)


@pytest.fixture
def people(make_user, db):
    """alice, and Bob Novak whom she will find by his last name."""
    alice, bob = make_user("alice"), make_user("bob")
    make_user("boris")
    bob.first_name, bob.last_name = "Bob", "Novak"
    db.commit()
    return alice, bob


def _into_view(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)


def _set_date(driver, element, day: dt.date) -> None:
    # A date input's typing order follows the browser's locale; its value is ISO whatever the locale.
    driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", element, day.isoformat()
    )


def test_create_with_a_performer_found_by_name_comment_and_see_it_listed(
    server, people, browser, console_login, screenshot, mailbox
):
    console_login(browser, "alice")
    browser.get(server("/console/tasks/"))
    browser.find_element(By.LINK_TEXT, "New task").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "field-name"))
    browser.find_element(By.ID, "field-name").send_keys("Fix the roof")
    browser.find_element(By.ID, "field-specification").send_keys("It leaks above the kitchen.")
    _set_date(browser, browser.find_element(By.ID, "field-due_date"), dt.date.today() + dt.timedelta(days=7))

    performers = browser.find_element(By.ID, "field-performer_usernames")
    performers.send_keys("Nov")
    suggestion = wait_for(
        browser,
        lambda d: [
            o for o in d.find_elements(By.CSS_SELECTOR, "#performer-suggestions [role=option]") if o.is_displayed()
        ],
        message="no suggestion from the user directory",
    )
    assert [option.text.split("\n") for option in suggestion] == [["Bob Novak", "bob"]]
    assert performers.get_attribute("aria-expanded") == "true"
    _into_view(browser, performers)
    screenshot("new-task-suggestions", browser)
    suggestion[0].click()
    assert performers.get_attribute("value") == "bob, "
    assert browser.find_element(By.ID, "performer-suggestions").get_attribute("hidden") is not None

    browser.find_element(By.CSS_SELECTOR, "form.tasks-form button[type=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "main h1") and "Fix the roof" in d.title)
    assert "Bob Novak" in browser.find_element(By.CSS_SELECTOR, ".tasks-facts").text
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    assert mailbox.recipients() == [["bob@example.com"]]

    browser.find_element(By.ID, "field-text").send_keys("The ladder is in the shed.")
    browser.find_element(By.XPATH, "//button[text()='Add comment']").click()
    comment = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.tasks-comment"))
    assert "The ladder is in the shed." in comment[0].text and "alice" in comment[0].text
    screenshot("task-page", browser)
    _into_view(browser, comment[0])
    screenshot("task-page-comments", browser)

    browser.find_element(By.LINK_TEXT, "← My tasks").click()
    row = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table.tasks-table tbody tr"))
    assert len(row) == 1 and "Fix the roof" in row[0].text and "Bob Novak" in row[0].text
    screenshot("list", browser)
    assert browser_errors(browser) == []


def test_keyboard_choice_and_the_pages_on_a_phone(
    server, people, create_task, login, phone_browser, console_login, screenshot
):
    alice, bob = people
    task = create_task(login(alice), [bob], name="Order paint for the whole fence, two coats")
    console_login(phone_browser, "alice")
    phone_browser.get(server(f"/console/tasks/{task['id']}/edit"))
    performers = phone_browser.find_element(By.ID, "field-performer_usernames")
    performers.send_keys(", bor")
    wait_for(
        phone_browser,
        lambda d: [
            o for o in d.find_elements(By.CSS_SELECTOR, "#performer-suggestions [role=option]") if o.is_displayed()
        ],
    )
    _into_view(phone_browser, performers)
    screenshot("phone-edit-suggestions", phone_browser)
    performers.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    assert performers.get_attribute("value") == "bob, boris, "
    phone_browser.find_element(By.CSS_SELECTOR, "form.tasks-form button[type=submit]").click()
    wait_for(phone_browser, lambda d: "/edit" not in d.current_url)
    assert "Boris" in phone_browser.find_element(By.CSS_SELECTOR, ".tasks-facts").text or "boris" in (
        phone_browser.find_element(By.CSS_SELECTOR, ".tasks-facts").text
    )
    screenshot("phone-task", phone_browser)

    for path, name in [("/console/tasks/", "phone-list"), ("/console/tasks/new", "phone-new")]:
        phone_browser.get(server(path))
        wait_for(phone_browser, lambda d: d.find_elements(By.CSS_SELECTOR, "main h1"))
        # Nothing wider than the phone: no sideways scrolling of the page itself.
        assert phone_browser.execute_script("return document.documentElement.scrollWidth") <= 390
        screenshot(name, phone_browser)
    assert browser_errors(phone_browser) == []
