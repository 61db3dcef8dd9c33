"""The bar's pages in a real Chromium against a real server: a sale on a phone, the revenue chart."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pyramidion.testing.browser import browser_errors, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def text_of(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def find_buyer(driver, server, text):
    driver.get(server("/console/bar/"))
    driver.find_element(By.ID, "bar-buyer-search").send_keys(text, Keys.ENTER)
    # Until the till's script has run (on DOMContentLoaded), the buttons take no taps.
    wait_for(
        driver,
        lambda d: d.find_elements(By.ID, "bar-buyer") and d.execute_script("return document.readyState") == "complete",
        message=f"no buyer found for {text}",
    )


def test_a_wallet_sale_on_a_phone_shows_the_balance_after_it_and_a_refusal_plainly(
    live_server, phone_browser, console_login, bar, screenshot, in_transaction
):
    from pyramidion_bar.models import Card, Product

    bar.staff("keeper")
    ann, _ = bar.member("ann", "10.00")
    sem, _ = bar.member("sem", "1.50")
    in_transaction(lambda db: db.add(Card(card_id="04:A2:2B:1A", holder_id=ann)))
    beer = bar.product("Beer", "2.20")
    in_transaction(lambda db: setattr(db.get(Product, beer), "colour", "#f5c542"))
    phone_browser.get(live_server("/console/login"))
    console_login(phone_browser, "keeper")

    find_buyer(phone_browser, live_server, "04:A2:2B:1A")  # what an NFC reader types
    assert "10.00" in text_of(phone_browser, "#bar-buyer")
    button = phone_browser.find_element(By.CSS_SELECTOR, f"[data-target=quantity-{beer}]")
    # The product's colour, once the button's background transition to it has ended.
    wait_for(
        phone_browser,
        lambda d: button.value_of_css_property("background-color") == "rgba(245, 197, 66, 1)",
        message="the button never took the product's colour",
    )
    button.click()
    button.click()
    assert text_of(phone_browser, "#bar-total") == "4.40"
    screenshot("order", phone_browser)
    phone_browser.find_element(By.CSS_SELECTOR, "button[value=wallet]").click()
    wait_for(phone_browser, lambda d: d.find_elements(By.ID, "bar-balance-after"), message="no sale shown")
    assert text_of(phone_browser, "#bar-balance-after") == "5.60"
    screenshot("sold", phone_browser)
    width = phone_browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= phone_browser.execute_script("return window.innerWidth"), "the till scrolls sideways"

    find_buyer(phone_browser, live_server, "sem")
    phone_browser.find_element(By.CSS_SELECTOR, f"[data-target=quantity-{beer}]").click()
    phone_browser.find_element(By.CSS_SELECTOR, "button[value=wallet]").click()
    refusal = wait_for(phone_browser, lambda d: d.find_elements(By.ID, "bar-refusal"), message="no refusal shown")
    assert refusal[0].is_displayed()
    assert refusal[0].text == "Refused: sem's wallet holds 1.50, this order costs 2.20. Nothing was sold."
    screenshot("refused", phone_browser)
    assert str(bar.balance(sem)) == "1.50"
    assert [e for e in browser_errors(phone_browser) if "(Conflict)" not in e] == []


def test_the_revenue_chart_is_drawn(live_server, browser, console_login, bar, app, screenshot):
    manager = bar.staff("manager")
    holder, _ = bar.member("ann", "20.00")
    drinks = app.post_json("/api/bar/categories", {"name": "Drinks"}, headers=manager).json["id"]
    beer = app.post_json(
        "/api/bar/products", {"name": "Beer", "price": "2.20", "category_ids": [drinks]}, headers=manager
    ).json["id"]
    crisps = bar.product("Crisps", "1.00")
    for method, product, quantity in (("wallet", beer, 3), ("cash", beer, 1), ("pin", crisps, 2)):
        body = {"payment_method": method, "lines": [{"product_id": product, "quantity": quantity}]}
        if method == "wallet":
            body["holder_id"] = holder
        app.post_json("/api/bar/purchases", body, headers=manager, status=201)

    browser.get(live_server("/console/login"))
    console_login(browser, "manager")
    browser.get(live_server("/console/bar/revenue"))
    segments = wait_for(
        browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#bar-chart-category rect.bar-segment"), message="no chart"
    )
    assert len(segments) == 2  # Drinks and uncategorised, one day
    assert all(segment.size["height"] > 10 and segment.size["width"] > 10 for segment in segments)
    methods = browser.find_elements(By.CSS_SELECTOR, "#bar-chart-method rect.bar-segment")
    assert sorted(
        m.find_element(By.TAG_NAME, "title").get_attribute("textContent").split(": ")[1] for m in methods
    ) == [
        "2.00",
        "2.20",
        "6.60",
    ]
    assert "Download as .xlsx" in text_of(browser, "main")
    screenshot("revenue")
    browser.execute_script("document.getElementById('bar-chart-category').scrollIntoView()")
    screenshot("revenue-charts")
    assert browser_errors(browser) == []


def test_counts_wallets_and_events_fit_a_phone(live_server, phone_browser, console_login, bar, app, screenshot):
    manager = bar.staff("manager")
    ann, _ = bar.member("ann", "12.00")
    app.post_json(
        "/api/bar/reports",
        {"action": "open", "cash": "100.00", "flow_meter_1": "10", "flow_meter_2": "3"},
        headers=manager,
        status=201,
    )
    app.post_json(
        "/api/bar/reports",
        {"action": "middle", "cash": "99.50", "flow_meter_1": "11.5", "flow_meter_2": "3"},
        headers=manager,
        status=201,
    )
    event = {"id": bar.event(max_participants=20)}
    phone_browser.get(live_server("/console/login"))
    console_login(phone_browser, "manager")

    pages = {
        "counts": ("/console/bar/counts", "tr.bar-middle"),
        "wallets": (f"/console/bar/wallets?holder={ann}", "#bar-wallet-balance"),
        "event": (f"/console/bar/events/{event['id']}", "#bar-charge-report"),
    }
    for name, (path, shown) in pages.items():
        phone_browser.get(live_server(path))
        wait_for(phone_browser, lambda d, shown=shown: d.find_elements(By.CSS_SELECTOR, shown), message=name)
        screenshot(name, phone_browser)
        width = phone_browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= phone_browser.execute_script("return window.innerWidth"), f"{name} scrolls sideways"
    assert "-0.50" in text_of(phone_browser.get(live_server("/console/bar/counts")) or phone_browser, "tr.bar-middle")
    assert browser_errors(phone_browser) == []
