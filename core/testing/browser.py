"""The console's test kit: a pytest plugin (entry point ``pyramidion_console``).

WebTest, for every page's status, redirects, permissions and CSRF:

* ``console_session(user_or_username, password="password123")``: logs the
  ``app`` fixture's TestApp in through the login form (its cookie jar keeps
  the session) and returns the session's CSRF token, for forms
  (``csrf_token`` field) and other unsafe requests (``X-CSRF-Token`` header).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
TEST_PASSWORD = "password123"  # make_user's default


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
