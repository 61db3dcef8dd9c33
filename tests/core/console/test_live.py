"""Live pages: a short-lived ticket for the console session, the router's origin check, the user's own rights."""

from __future__ import annotations

import socket

import console_sample
import pytest
from autobahn.wamp.exception import ApplicationError
from selenium.webdriver.common.by import By

from pyramidion.realtime import user_topic
from pyramidion.realtime.commands import server_origins
from pyramidion.realtime.router import DEFAULT_ORIGINS, router_config
from pyramidion.realtime.settings import realtime_settings
from pyramidion.testing.browser import browser_errors, wait_for, webtest_console_login


def mint(app, token):
    return app.post("/console/ticket", headers={"X-CSRF-Token": token}).json


def test_a_ticket_needs_the_session_and_its_csrf_token(app, make_user, login):
    user = make_user("ann")
    app.post("/console/ticket", status=302)  # anonymous: to the login
    token = webtest_console_login(app, "ann")
    app.post("/console/ticket", status=403)  # no CSRF token
    grant = mint(app, token)
    assert grant["realm"] == "pyramidion" and grant["expires_in"] == 60
    assert grant["url"].endswith("/ws")
    assert app.get("/console/ticket", expect_errors=True).status_int == 404  # a POST only
    # A token's holder has no use for a console ticket.
    app.reset()
    app.post("/console/ticket", headers=login(user), status=403)


def test_a_ticket_opens_nothing_on_the_http_api(app, make_user):
    make_user("ann")
    grant = mint(app, webtest_console_login(app, "ann"))
    app.reset()
    app.get("/api/auth/me", headers={"Authorization": f"Bearer {grant['ticket']}"}, status=401)


def test_the_browser_url_is_a_setting(make_app, make_user):
    app = make_app(realtime__public_url="wss://example.org/ws")
    make_user("ann")
    assert mint(app, webtest_console_login(app, "ann"))["url"] == "wss://example.org/ws"


def test_the_router_accepts_the_configured_origins_only():
    config = realtime_settings({"jwt.secret": "x" * 40, "realtime.allowed_origins": "https://example.org"})
    options = router_config(config, ["user"])["workers"][0]["transports"][0]["paths"]["ws"]["options"]
    assert options["allowed_origins"] == ["https://example.org"] and options["allow_null_origin"] is False
    default = realtime_settings({"jwt.secret": "x" * 40})
    options = router_config(default, ["user"])["workers"][0]["transports"][0]["paths"]["ws"]["options"]
    assert options["allowed_origins"] == list(DEFAULT_ORIGINS)


def test_the_default_origin_is_the_web_servers_own(tmp_path):
    ini = tmp_path / "site.ini"
    ini.write_text(
        "[app:main]\nuse = egg:pyramidion\n\n[server:main]\nuse = egg:waitress#main\nlisten = 0.0.0.0:7000\n"
    )
    assert server_origins(str(ini)) == ["http://127.0.0.1:7000", "http://localhost:7000"]
    ini.write_text("[app:main]\nuse = egg:pyramidion\n\n[server:main]\nhost = console.example.org\nport = 80\n")
    assert server_origins(str(ini)) == ["http://console.example.org:80"]


def handshake(router, origin):
    """The status line the router answers a WebSocket upgrade from a page of ``origin``."""
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {router.config.host}:{router.config.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: wamp.2.json\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((router.config.host, router.config.port), timeout=10) as conn:
        conn.sendall(request.encode())
        return conn.recv(4096).decode(errors="replace").splitlines()[0]


@pytest.mark.router
def test_the_router_refuses_a_page_of_another_site(router):
    assert " 101 " in handshake(router, DEFAULT_ORIGINS[0])
    assert " 101 " not in handshake(router, "https://evil.example")


@pytest.mark.router
def test_a_console_ticket_joins_with_the_users_own_rights(app, make_user, start_backend, wamp_client):
    ann = make_user("ann")
    bob = make_user("bob")
    start_backend()
    client = wamp_client(mint(app, webtest_console_login(app, "ann"))["ticket"])
    assert client.details.authid == f"user:{ann.id}" and client.details.authrole == "user"
    client.subscribe(user_topic("sample", ann.id, "news"))
    # What bob's topics carry is bob's: ann cannot subscribe, as she cannot read it over the API.
    with pytest.raises(ApplicationError) as refused:
        client.subscribe(user_topic("sample", bob.id, "news"))
    assert refused.value.error == "wamp.error.not_authorized"


@pytest.mark.router
def test_after_logout_the_ticket_joins_no_more(app, make_user, start_backend, wamp_client):
    make_user("ann")
    start_backend()
    token = webtest_console_login(app, "ann")
    ticket = mint(app, token)["ticket"]
    app.post("/console/logout", {"csrf_token": token}, status=303)
    with pytest.raises(Exception) as refused:
        wamp_client(ticket)
    assert "invalid_ticket" in str(refused.value)


@pytest.mark.router
@pytest.mark.browser
def test_a_live_page_receives_events_and_is_refused_others(
    make_live_server, browser, console_login, make_user, screenshot
):
    ann = make_user("ann")
    console_sample.NOTES.clear()
    server = make_live_server(extra_plugins=[("sample", console_sample)], realtime=True)
    browser.get(server("/console/login"))
    console_login(browser, "ann")
    browser.get(server("/console/sample/live"))
    wait_for(browser, lambda d: d.find_element(By.ID, "mine-state").text == "subscribed", message="no live join")
    assert wait_for(browser, lambda d: d.find_element(By.ID, "theirs-state").text.startswith("refused"))
    server.registry.realtime.publish(user_topic("sample", ann.id, "news"), "the news of the day")
    wait_for(browser, lambda d: "the news of the day" in d.find_element(By.ID, "news").text)
    screenshot("live")
    # Ann's right to read goes away: the backend ends her subscription, her page stays joined.
    server.backend.session.unsubscribe(user_topic("sample", ann.id, "news"), f"user:{ann.id}", "no longer shared")
    wait_for(browser, lambda d: d.find_element(By.ID, "mine-state").text.startswith("removed"))
    assert browser.find_element(By.ID, "live-state").text.startswith("joined")
    assert browser_errors(browser) == []
