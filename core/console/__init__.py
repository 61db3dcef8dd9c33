"""The console: the platform's web face at ``/console/``, with pages from every plugin.

Pages are rendered on the server with Jinja2 (pyramid_jinja2), updated in
place with htmx, styled with Pico CSS; live pages join the WAMP router with
Autobahn|JS. ``README.md`` in this folder is the plugin author's guide.

What a plugin uses (``from pyramidion.console import ...``):

* :class:`console_view`: the view decorator (template, permission, methods);
* :class:`Form` and :data:`FORM_ERRORS`: a form checked by the API's pydantic
  schema, with the API's messages beside each field;
* :func:`flash`: a message shown on the next page;
* :func:`logged_in`: the identity of a page that requires a login;
  :func:`error_page`: an HTML error page;
* the directives ``config.add_console_menu(...)`` and
  ``config.add_console_static(...)``, in the plugin's ``pyramidion_console``
  hook.

The console is optional (``console.enabled = false``): without it the API is
served as before and the session cookie is not accepted.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pyramid.session import SignedCookieSessionFactory

from ..auth.policy import SessionCookie, logged_in
from ..settings import Section, SettingsError, section
from .forms import FORM_ERRORS, Form
from .framework import (
    AUTHENTICATED,
    MenuEntry,
    console_view,
    error_page,
    flash,
    visible_menu,
)

__all__ = [
    "AUTHENTICATED",
    "FORM_ERRORS",
    "ConsoleSettings",
    "Form",
    "MenuEntry",
    "console_view",
    "error_page",
    "flash",
    "includeme",
    "logged_in",
    "visible_menu",
]

# Paths under /console/ the core's own pages take: no plugin may be named so.
RESERVED_NAMES = frozenset({"login", "logout", "users", "groups", "api-keys", "password", "ticket", "static"})


class ConsoleSettings(Section):
    enabled: bool = True
    session_max_age: int = Field(12 * 3600, gt=0, description="seconds a console login lasts")
    cookie_secure: str = Field(
        "auto", pattern="^(auto|true|false)$", description="auto: Secure when the request came over https"
    )
    ticket_ttl: int = Field(60, gt=0, le=3600, description="seconds a live page's WAMP ticket is valid for joining")


def console_settings(settings: dict[str, Any]) -> ConsoleSettings:
    return section(settings, "console", ConsoleSettings)


def _secure(value: str) -> bool | str:
    return {"true": True, "false": False}.get(value, "auto")


def includeme(config: Any) -> None:
    """Set up the console, then let every plugin add its pages under ``/console/<name>``.

    Included by :func:`pyramidion.make_config` after the plugins' API routes.
    Does nothing when ``console.enabled`` is false.
    """
    settings = console_settings(config.get_settings())
    if not settings.enabled:
        return
    registry = config.registry
    registry.console_settings = settings
    secret = str(config.get_settings()["jwt.secret"])
    registry.session_cookie = SessionCookie(
        secret, max_age=settings.session_max_age, secure=_secure(settings.cookie_secure)
    )
    # Pyramid's session holds only flash messages between a POST and the page it redirects to.
    config.set_session_factory(
        SignedCookieSessionFactory(
            secret + ":console flash",
            cookie_name="pyramidion_flash",
            httponly=True,
            samesite="Lax",
            secure=settings.cookie_secure == "true",
        )
    )
    config.include("pyramid_jinja2")
    config.include(".framework")
    config.include(".pages")
    with_console_hook = registry.pm.hook.pyramidion_console.get_hookimpls()
    for impl in with_console_hook:
        if impl.plugin_name in RESERVED_NAMES:
            raise SettingsError(f"plugin {impl.plugin_name!r}: /console/{impl.plugin_name} is a page of the core")
        config.include(impl.function, route_prefix=f"/console/{impl.plugin_name}")
