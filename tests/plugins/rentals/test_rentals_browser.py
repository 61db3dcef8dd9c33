"""The rentals console in a real Chromium against a live server: a librarian's round, a reader on a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from pyramidion.db import utcnow
from pyramidion.testing.browser import browser_errors, wait_for
from pyramidion_rentals.models import Book, BookType, Rental

pytestmark = pytest.mark.browser


@pytest.fixture
def library(db, make_user):
    """Staff, a reader with a rental from two days ago, and three books."""
    librarian = make_user("librarian", permissions=["rentals.manage"])
    reader = make_user("reader")
    books = [
        Book(name="Dune", author="Frank Herbert", description="Spice, sand and politics.", type=BookType.fiction),
        Book(name="Emma", author="Jane Austen", description="Matchmaking in Highbury.", type=BookType.novel),
        Book(name="SICP", author="Abelson, Sussman", description="The wizard book.", type=BookType.regular),
    ]
    db.add_all(books)
    db.flush()
    rented_at = utcnow() - dt.timedelta(days=2, hours=1)
    db.add(Rental(book=books[2], user=reader, book_type=books[2].type, rented_at=rented_at))
    db.commit()
    return {"librarian": librarian, "reader": reader, "books": {book.name: book.id for book in books}}


def texts(driver, selector: str) -> list[str]:
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, selector)]


def rentals_menu(driver) -> list[str]:
    """The console menu's entries that lead to the rentals pages."""
    links = driver.find_elements(By.CSS_SELECTOR, "nav.console-nav a")
    return [link.text for link in links if "/console/rentals/" in link.get_attribute("href")]


def balances(driver) -> list[str]:
    return texts(driver, ".rentals-balance .rentals-amount")


def flashes(driver) -> list[str]:
    return texts(driver, ".console-flashes .flash")


def submit(driver, form_selector: str) -> None:
    """Press the submit button of a form and wait for the next page."""
    old_main = driver.find_element(By.ID, "main")
    driver.find_element(By.CSS_SELECTOR, f"{form_selector} button[type=submit]").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "main") != old_main, message="the form did not answer")


def fits_a_phone(driver) -> bool:
    """Whether the page itself needs no sideways scrolling at 390 px."""
    return driver.execute_script("return document.documentElement.scrollWidth") <= 390


def test_a_librarian_rents_a_book_for_a_reader_returns_it_and_sees_the_balances(
    live_server, browser, phone_browser, console_login, screenshot, library
):
    console_login(browser, "librarian")
    browser.get(live_server("/console/rentals/"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Books"
    assert rentals_menu(browser) == ["Books", "My rentals", "All rentals"]
    screenshot("books")

    # Record a rental of Emma for the reader, from now.
    browser.find_element(By.LINK_TEXT, "All rentals").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "All rentals")
    record = "form[action$='/console/rentals/rentals']"
    Select(browser.find_element(By.ID, "field-book_id")).select_by_visible_text("Emma")
    Select(browser.find_element(By.ID, "field-user_id")).select_by_visible_text("reader")
    submit(browser, record)
    assert flashes(browser) == ["Emma recorded as rented to reader"]
    rows = browser.find_elements(By.CSS_SELECTOR, "main tbody tr")
    assert [row.find_element(By.TAG_NAME, "strong").text for row in rows] == ["Emma", "SICP"]
    assert "Out" in rows[0].text
    screenshot("recorded")

    # Return it from the list.
    rows[0].find_element(By.CSS_SELECTOR, "button[aria-label='Return Emma for reader']").click()
    wait_for(browser, lambda d: flashes(d) == ["Emma returned"], message="no confirmation of the return")
    assert browser.find_elements(By.CSS_SELECTOR, "button[aria-label='Return Emma for reader']") == []

    # The reader's balances, under each pricing version: SICP 3 days, Emma 1 day.
    browser.find_element(By.LINK_TEXT, "reader").click()
    wait_for(browser, lambda d: "Balance of reader" in d.find_element(By.ID, "main").text)
    assert balances(browser) == ["4.00", "6.00", "8.00"]
    screenshot("balances")

    # Back to the books: Emma is on the shelf again.
    browser.find_element(By.LINK_TEXT, "Books").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Books")
    assert browser.find_elements(By.CSS_SELECTOR, "button[aria-label='Rent Emma']")
    assert browser_errors(browser) == []

    # The same list on the librarian's phone: every column in view, as cards.
    console_login(phone_browser, "librarian")
    phone_browser.get(live_server(f"/console/rentals/rentals?user_id={library['reader'].id}"))
    assert balances(phone_browser) == ["4.00", "6.00", "8.00"]
    assert fits_a_phone(phone_browser)
    assert phone_browser.find_element(
        By.CSS_SELECTOR, "a[aria-label='Void the rental of SICP to reader']"
    ).is_displayed()
    screenshot("phone", phone_browser)
    assert browser_errors(phone_browser) == []


def test_a_librarian_corrects_and_voids_a_rental(live_server, browser, console_login, screenshot, library):
    console_login(browser, "librarian")
    browser.get(live_server("/console/rentals/rentals"))
    browser.find_element(By.CSS_SELECTOR, "a[aria-label='Edit the rental of SICP to reader']").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Rental of SICP to reader")

    # A return before the rental began: the API's message beside the field.
    returned = browser.find_element(By.ID, "field-returned_at")
    browser.execute_script("arguments[0].value = arguments[1]", returned, "2020-01-01T00:00:00")
    submit(browser, "main form")
    assert browser.find_element(By.ID, "field-returned_at-error").text == "Cannot be before the rental began"
    assert [error for error in browser_errors(browser) if "status of 422" not in error] == []
    screenshot("refused")

    browser.find_element(By.LINK_TEXT, "Void this rental…").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text.startswith("Void the rental of SICP"))
    browser.find_element(By.ID, "field-reason").send_keys("recorded twice")
    screenshot("void")
    submit(browser, "main form")
    assert flashes(browser) == ["Rental of SICP to reader voided"]
    assert "No rental matches." in browser.find_element(By.ID, "main").text
    assert browser_errors(browser) == []


def test_a_reader_on_a_phone_rents_and_sees_their_balances(
    live_server, phone_browser, console_login, screenshot, library
):
    console_login(phone_browser, "reader")
    phone_browser.get(live_server("/console/rentals/"))
    assert rentals_menu(phone_browser) == ["Books", "My rentals"]
    assert fits_a_phone(phone_browser)
    screenshot("books", phone_browser)
    phone_browser.find_element(By.CSS_SELECTOR, "button[aria-label='Rent Dune']").click()
    wait_for(phone_browser, lambda d: flashes(d) == ["You rented Dune"], message="no confirmation of the rental")
    assert phone_browser.find_element(By.TAG_NAME, "h1").text == "My rentals"
    # SICP for 3 days and Dune (fiction) for 1.
    assert balances(phone_browser) == ["4.00", "7.50", "6.50"]
    assert fits_a_phone(phone_browser)
    assert phone_browser.find_element(By.CSS_SELECTOR, "button[aria-label='Return Dune']").is_displayed()
    screenshot("mine", phone_browser)
    assert browser_errors(phone_browser) == []
