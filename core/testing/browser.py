"""The console's test kit: a pytest plugin (entry point ``pyramidion_console``).

WebTest, for every page's status, redirects, permissions and CSRF:

* ``console_session(user_or_username, password="password123")``: logs the
  ``app`` fixture's TestApp in through the login form (its cookie jar keeps
  the session) and returns the session's CSRF token, for forms
  (``csrf_token`` field) and other unsafe requests (``X-CSRF-Token`` header);
  :func:`webtest_console_login` does the same for any TestApp.

A real browser against a real server:

* ``live_server``: the platform served over HTTP by waitress in a thread, over
  the test database, tasks run at once in process. ``make_live_server(extra_plugins=(),
  worker=False, realtime=False, threads=4, **settings)`` for another one
  (``threads``: requests it serves at once): ``worker=True``
  runs a real Huey consumer on a queue file of its own (so the dashboard sees
  a heartbeat and tasks run as in production); ``realtime=True`` points it at
  the test router (the ``router`` fixture), lets the router accept pages from
  the server's origin (:func:`allow_origin`, a restart) and starts the backend
  session.
  Settings are given as ``console__session_max_age="60"`` (``__`` for dots).
* ``browser``: Selenium 4 driving Debian's Chromium headless at 1280x900, with a
  fresh profile; ``phone_browser``: the same at 390x844 (a phone).
  ``make_browser(width, height)`` for another size. Without Chromium and
  chromedriver the test is skipped, but with ``CI=true`` it fails.
* ``console_login(browser, username, password)``: logs that browser in
  through the login form of the server it is on (or ``live_server``).
* ``screenshot(name, driver=None)``: saves ``<test>-<name>.png`` in the
  folder ``$PYRAMIDION_SCREENSHOTS`` (default ``var/screenshots`` under the
  rootdir), printed at the end of the run. Look at them.
* ``browser_errors(driver)``: what the page logged as errors (failed scripts,
  Content-Security-Policy violations); assert it is empty.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
TEST_PASSWORD = "password123"  # make_user's default
CHROMIUM = os.environ.get("PYRAMIDION_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PYRAMIDION_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP = (1280, 900)
PHONE = (390, 844)
HEADLESS_MIN_WIDTH = 500
WAIT = 20.0  # seconds a browser wait may take on a loaded machine


# -- WebTest -------------------------------------------------------------------


def csrf_token_of(page: Any) -> str:
    """The CSRF token a console page carries (its ``<meta name="csrf-token">``)."""
    match = CSRF_META.search(page.text)
    assert match, "not a console page: no csrf-token meta element"
    return match.group(1)


def webtest_console_login(app: Any, username: str, password: str = TEST_PASSWORD) -> str:
    """Log ``app`` (a WebTest TestApp) in to the console; returns the CSRF token."""
    response = app.post(
        "/console/login",
        {"username": username, "password": password},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_int == 303, f"console login of {username} failed: {response.status}"
    return csrf_token_of(app.get("/console/"))


@pytest.fixture
def console_session(app: Any) -> Callable[..., str]:
    """``console_session(user, password="password123")``: ``app`` logged in; returns the CSRF token."""

    def log_in(user: Any, password: str = TEST_PASSWORD) -> str:
        return webtest_console_login(app, getattr(user, "username", user), password)

    return log_in


# -- a live server -------------------------------------------------------------


class LiveServer:
    """A WSGI app served by waitress on a free loopback port, in a thread."""

    def __init__(self, wsgi_app: Any, registry: Any, threads: int = 4) -> None:
        from waitress.server import create_server

        self.registry = registry
        self._server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=threads)
        self.port = self._server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name=f"live-server-{self.port}", daemon=True)
        self._thread.start()
        self.workers: list[Any] = []
        self.backend: Any = None  # the realtime backend session's runner, with realtime=True

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of ``path``."""
        return self.url + path

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:
            # stop() closes the sockets under the loop's select(): expected then, a failure otherwise.
            if not self._stopping:
                raise

    def stop(self) -> None:
        """Stop the worker (if any), close every connection, wait for the server's thread."""
        self._stopping = True
        for consumer in self.workers:
            consumer.stop(graceful=True)
        server = self._server
        # waitress serves until its socket map is empty: close every channel.
        while server._map:
            for channel in list(server._map.values()):
                channel.handle_close()
        server.task_dispatcher.shutdown()
        self._thread.join(WAIT)
        self.registry.db_engine.dispose()


def allow_origin(router: Any, origin: str) -> None:
    """Let pages from ``origin`` open the test router's WebSocket (it restarts: its origins are configuration).

    The router accepts the console's origins only; a live server's port is
    known only once it listens.
    """
    from pyramidion.realtime.router import CONFIG_FILE, write_node_config

    path = router.node_dir / CONFIG_FILE
    node = json.loads(path.read_text())
    options = node["workers"][0]["transports"][0]["paths"]["ws"]["options"]
    if origin in options["allowed_origins"]:
        return
    options["allowed_origins"] = [*options["allowed_origins"], origin]
    write_node_config(router.node_dir, node)
    router.restart()


def _start_worker(registry: Any) -> Any:
    """A Huey consumer in threads of this process, periodic tasks included (the heartbeat)."""
    consumer = registry.huey.create_consumer(workers=2, worker_type="thread", periodic=True, initial_delay=0.1)
    consumer.start()  # not run(): that installs signal handlers, which only the main thread may
    return consumer


@pytest.fixture
def make_live_server(
    request: pytest.FixtureRequest, base_settings: dict[str, Any], _config: Any, tmp_path: Path
) -> Iterator[Callable[..., LiveServer]]:
    """``make_live_server(extra_plugins=(), worker=False, realtime=False, threads=4, **settings)``; see the module."""
    from pyramidion import make_config

    servers: list[LiveServer] = []

    def start(
        extra_plugins: tuple = (), worker: bool = False, realtime: bool = False, threads: int = 4, **overrides: Any
    ) -> LiveServer:
        settings = dict(base_settings)
        if worker:
            settings["huey.url"] = f"sqlite:///{tmp_path / f'huey-{uuid.uuid4().hex[:6]}.db'}"
        if realtime:
            settings.update(request.getfixturevalue("router").overrides)
        settings.update({key.replace("__", "."): value for key, value in overrides.items()})
        config = make_config(settings, extra_plugins)
        server = LiveServer(config.make_wsgi_app(), config.registry, threads)
        servers.append(server)
        if worker:
            # The worker builds its own app, as `pyramidion worker` does, on the same queue.
            worker_registry = make_config(dict(settings), extra_plugins).registry
            server.workers.append(_start_worker(worker_registry))
        if realtime:
            allow_origin(request.getfixturevalue("router"), server.url)
            server.backend = request.getfixturevalue("start_backend")(extra_plugins)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    """The platform over HTTP on a free port (``live_server.url``, ``live_server("/console/")``)."""
    return make_live_server()


# -- a browser -----------------------------------------------------------------


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing: apt-get install chromium chromium-driver"
    return None


def _require_browser() -> None:
    missing = _browser_missing()
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {missing}", pytrace=False)
    pytest.skip(missing)


def _chromium(width: int, height: int, profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={max(width, HEADLESS_MIN_WIDTH)},{height}")
    if width < HEADLESS_MIN_WIDTH:
        # Chromium's windows are at least 500 px wide: a phone's viewport is emulated.
        metrics = {"width": width, "height": height, "pixelRatio": 1}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture
def make_browser(tmp_path: Path) -> Iterator[Callable[[int, int], Any]]:
    """``make_browser(width, height)``: a fresh headless Chromium of that window size."""
    _require_browser()
    drivers: list[Any] = []

    def make(width: int = DESKTOP[0], height: int = DESKTOP[1]) -> Any:
        profile = tmp_path / f"chromium-profile-{len(drivers)}"
        drivers.append(_chromium(width, height, profile))
        return drivers[-1]

    yield make
    for driver in drivers:
        driver.quit()
    for index in range(len(drivers)):
        shutil.rmtree(tmp_path / f"chromium-profile-{index}", ignore_errors=True)


@pytest.fixture
def browser(make_browser: Callable[[int, int], Any]) -> Any:
    """Headless Chromium, 1280x900."""
    return make_browser(*DESKTOP)


@pytest.fixture
def phone_browser(make_browser: Callable[[int, int], Any]) -> Any:
    """Headless Chromium, 390x844, the size of a phone."""
    return make_browser(*PHONE)


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout: float = WAIT, message: str = "") -> Any:
    """Wait (bounded) until ``condition(driver)`` is truthy; returns its value.

    An element missing, or replaced while the condition reads it (htmx swaps
    and live pages redraw parts of the page), counts as "not yet".
    """
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition, message)


def browser_login(driver: Any, base_url: str, username: str, password: str = TEST_PASSWORD) -> None:
    """Log ``driver`` in through the console's login form at ``base_url``."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/console/login")
    driver.find_element(By.ID, "field-username").send_keys(username)
    driver.find_element(By.ID, "field-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(
        driver,
        lambda d: "/console/login" not in d.current_url or d.find_elements(By.CSS_SELECTOR, ".form-errors"),
        message="the login form did not answer",
    )
    errors = driver.find_elements(By.CSS_SELECTOR, ".form-errors")
    assert not errors, f"console login of {username} failed: {errors[0].text}"


@pytest.fixture
def console_login(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``console_login(browser, username, password="password123")`` on the server the browser is on."""

    def log_in(driver: Any, username: str, password: str = TEST_PASSWORD) -> None:
        current = driver.current_url or ""
        match = re.match(r"^(https?://[^/]+)", current)
        base_url = match.group(1) if match else request.getfixturevalue("live_server").url
        browser_login(driver, base_url, username, password)

    return log_in


def browser_errors(driver: Any) -> list[str]:
    """Errors the page logged since the last call: failed loads, script errors, CSP violations."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


# -- screenshots ---------------------------------------------------------------


def screenshot_folder(config: pytest.Config) -> Path:
    """Where screenshots go: ``$PYRAMIDION_SCREENSHOTS``, else ``var/screenshots`` under the rootdir."""
    folder = os.environ.get("PYRAMIDION_SCREENSHOTS")
    return Path(folder) if folder else Path(config.rootpath) / "var" / "screenshots"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(name, driver=None)``: a PNG of the page (default: the ``browser`` fixture's)."""
    folder = screenshot_folder(request.config)
    test = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")

    def take(name: str, driver: Any = None) -> Path:
        driver = driver or request.getfixturevalue("browser")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{test}-{name}.png"
        assert driver.save_screenshot(str(path)), f"could not save {path}"
        return path

    return take


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``browser`` marker; note when the run began (to count its screenshots)."""
    config.addinivalue_line("markers", "browser: drives a real Chromium against a live server")
    config._pyramidion_run_started = time.time()  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print where this run's screenshots are."""
    folder = screenshot_folder(config)
    started = getattr(config, "_pyramidion_run_started", 0)
    if not folder.is_dir():
        return
    taken = [path for path in folder.glob("*.png") if path.stat().st_mtime >= started]
    if taken:
        terminalreporter.write_line(f"screenshots: {len(taken)} saved in {folder}")
