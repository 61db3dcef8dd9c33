"""What every console page stands on: the view decorator, the menu, static files, error pages.

A console view is a Pyramid view with a Jinja2 template, a permission and the
console's rules:

* anonymous visitors are sent to the login page (``302``, with ``next``);
* a logged-in user lacking the permission gets the 403 page;
* a request that changes something (POST, PUT, PATCH, DELETE) made with the
  session cookie needs the CSRF token (the security policy refuses it
  otherwise), and an anonymous one (the login form) must come from the
  console's own origin;
* answers are ``Cache-Control: no-store``: a page shown after logout through
  the back button would show another person's data.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import venusian
from markupsafe import Markup, escape
from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import OperationalError

from ..api.errors import APIError
from ..auth.policy import CSRF_FIELD, SAFE_METHODS, csrf_failed
from ..db import unavailable_reason
from ..request import Request

log = logging.getLogger(__name__)

AUTHENTICATED = "authenticated"
CONSOLE_PATHS = r"^/console(/|$)"
ERROR_TEMPLATE = "pyramidion:console/templates/error.jinja2"


# -- the menu ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MenuEntry:
    title: str
    route_name: str
    permission: str
    order: int


def add_console_menu(
    config: Any, title: str, route_name: str, permission: str = AUTHENTICATED, order: int = 50
) -> None:
    """A navigation entry to ``route_name``, shown to users who hold ``permission``.

    Entries sort by ``order`` then title; the core's own use 10 (dashboard)
    and 900+ (account and administration pages).
    """
    config.registry.console_menu.append(MenuEntry(title, route_name, permission, order))


class _NoACL:
    """The context menu entries are checked in: permissions alone, whatever page is showing."""


def visible_menu(request: Request) -> list[dict[str, Any]]:
    """The menu entries the user may open, with their URLs and whether they are the current page."""
    if request.identity is None:
        return []
    current = request.matched_route.name if request.matched_route else None
    context = _NoACL()
    entries = sorted(request.registry.console_menu, key=lambda entry: (entry.order, entry.title))
    return [
        {"title": entry.title, "url": request.route_url(entry.route_name), "current": entry.route_name == current}
        for entry in entries
        if _may(request, entry.permission, context)
    ]


def _may(request: Request, permission: str, context: Any) -> bool:
    if permission == NO_PERMISSION_REQUIRED:
        return True
    return bool(request.has_permission(permission, context))


# -- static files ------------------------------------------------------------


def add_console_static(config: Any, spec: str, cache_max_age: int = 3600) -> None:
    """Serve the folder ``spec`` (``"pyramidion_tasks:console/static"``) under ``/console/<plugin>/static/``.

    Templates link its files with ``request.static_url("pyramidion_tasks:console/static/app.js")``.
    """
    # Pyramid prefixes a static view's route but not the URLs it generates,
    # so the full path is given and the prefix set aside for this call.
    prefix = (config.route_prefix or "/console").strip("/")
    saved, config.route_prefix = config.route_prefix, None
    try:
        config.add_static_view(f"{prefix}/static", spec, cache_max_age=cache_max_age)
    finally:
        config.route_prefix = saved


# -- flash messages ------------------------------------------------------------

FLASH_KINDS = ("success", "info", "error")


def flash(request: Request, message: str, kind: str = "success") -> None:
    """Show ``message`` on the next page this browser opens (after a redirect)."""
    if kind not in FLASH_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FLASH_KINDS)}")
    request.session.flash(message, queue=kind)


def _flashes(request: Request) -> list[dict[str, str]]:
    if "pyramidion_flash" not in request.cookies and "session" not in request.__dict__:
        return []  # no flash cookie and no session yet: do not create one
    return [{"kind": kind, "message": message} for kind in FLASH_KINDS for message in request.session.pop_flash(kind)]


# -- the view decorator ----------------------------------------------------------


def login_url(request: Request, next_url: str | None = None) -> str:
    target = next_url if next_url is not None else request.path_qs
    return request.route_url("console.login", _query={"next": target}) if target else request.route_url("console.login")


def safe_next(request: Request, target: str | None) -> str:
    """``target`` when it is a path of this site, else the dashboard: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return request.route_url("console.home")


def same_origin(request: Request) -> bool:
    """Whether an unsafe request came from a page of this site (Origin, else Referer)."""
    origin = request.headers.get("Origin") or request.referer
    if not origin:
        return False
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url


def _checked(view: Callable) -> Callable:
    @functools.wraps(view)
    def console_page(request: Request) -> Any:
        return _console_checks(view, request)

    return console_page


def _console_checks(view: Callable, request: Request) -> Any:
    identity = request.identity
    if request.method not in SAFE_METHODS:
        if identity is None and not same_origin(request):
            raise HTTPForbidden("this form must be sent from the console's own pages")
        # The security policy refuses a missing token on permission checks;
        # a page open to everyone must not skip that.
        if identity is not None and csrf_failed(request, identity):
            raise HTTPForbidden("the CSRF token is missing or wrong; reload the page and try again")
    result = view(request)
    response = result if hasattr(result, "headers") else request.response
    response.headers["Cache-Control"] = "no-store"
    return result


class console_view:
    """Declare a console page; ``config.scan()`` picks it up.

    ::

        @console_view("rentals.console.books", template="pyramidion_rentals:console/templates/books.jinja2",
                      permission="rentals.read")
        def books(request):
            return {"books": list_books(request.db, request.identity)}

    ``request_method`` is ``"GET"`` by default; give ``("GET", "POST")`` for a
    page with a form. The view returns a dict for its template, or a
    Response (a redirect after a successful POST). ``permission`` defaults to
    any logged-in user; :data:`pyramid.security.NO_PERMISSION_REQUIRED`
    makes a page public. ``max_body_size`` (bytes, or a callable of the
    registry) lets the route take bodies larger than ``api.max_body_size``
    (an upload form), as for ``api_view``. Other keywords go to ``config.add_view``.
    """

    def __init__(
        self,
        route_name: str,
        template: str | None = None,
        permission: str = AUTHENTICATED,
        request_method: str | Iterable[str] = "GET",
        max_body_size: int | Callable[[Any], int] | None = None,
        **view_options: Any,
    ) -> None:
        self.route_name = route_name
        self.max_body_size = max_body_size
        self.settings = {
            "renderer": template,
            "permission": permission,
            "request_method": (request_method,) if isinstance(request_method, str) else tuple(request_method),
            **view_options,
        }

    def __call__(self, wrapped: Callable) -> Callable:
        route_name, settings, max_body_size = self.route_name, self.settings, self.max_body_size

        def callback(context: Any, name: str, ob: Any) -> None:
            config = context.config.with_package(info.module)
            if max_body_size is not None:
                config.registry.api_body_limits[route_name] = max_body_size
            config.add_view(_checked(ob), route_name=route_name, **settings)

        info = venusian.attach(wrapped, callback, category="pyramid")
        return wrapped


# -- error pages -----------------------------------------------------------------


def error_page(request: Request, status: int, title: str, message: str) -> Any:
    response = render_to_response(
        ERROR_TEMPLATE, {"status": status, "title": title, "message": message}, request=request
    )
    response.status_int = status
    response.headers["Cache-Control"] = "no-store"
    return response


@forbidden_view_config(path_info=CONSOLE_PATHS)
def forbidden(exc: HTTPForbidden, request: Request) -> Any:
    if request.identity is None and getattr(exc, "result", None) is not None:
        target = login_url(request, request.path_qs if request.method in SAFE_METHODS else "")
        if request.headers.get("HX-Request"):
            # htmx would put the login page inside the fragment: have it load the page instead.
            response = Response(status=401, headers={"HX-Redirect": target})
            response.headers["Cache-Control"] = "no-store"
            return response
        return HTTPFound(target)
    denied = getattr(exc, "result", None)
    message = str(denied) if denied is not None else (exc.detail or "You may not open this page.")
    if message.startswith("requires the permission"):
        message = f"This page {message}, which you do not hold. Ask an administrator if you need it."
    return error_page(request, 403, "Not allowed", message)


@notfound_view_config(path_info=CONSOLE_PATHS)
def not_found(exc: HTTPNotFound, request: Request) -> Any:
    # A view's own "no such book" says more; Pyramid's default detail is only the path.
    raised_by_view = request.matched_route is not None and isinstance(exc.detail, str) and exc.detail
    message = exc.detail if raised_by_view else "There is no such page."
    return error_page(request, 404, "Not found", message[:1].upper() + message[1:])


@exception_view_config(APIError, path_info=CONSOLE_PATHS)
def api_error(exc: APIError, request: Request) -> Any:
    # A service refused what a page asked outside of a form (a button): say why.
    return error_page(request, exc.status, "Could not do that", exc.message[:1].upper() + exc.message[1:])


@exception_view_config(OperationalError, path_info=CONSOLE_PATHS)
def database_unavailable(exc: OperationalError, request: Request) -> Any:
    log.error("database error on %s %s: %s", request.method, request.path, exc.orig)
    reason = unavailable_reason(exc)
    message = reason[:1].upper() + reason[1:] + "."
    try:
        return error_page(request, 503, "Database unavailable", message)
    except OperationalError:
        # The page's header shows who is logged in, which takes the database
        # again: without it, the bare page, still saying what is wrong.
        body = Markup("<!doctype html><title>Database unavailable</title><h1>Database unavailable</h1><p>{}</p>")
        response = Response(body.format(message), status=503, content_type="text/html")
        response.headers["Cache-Control"] = "no-store"
        return response


@exception_view_config(Exception, path_info=CONSOLE_PATHS)
def unexpected(exc: Exception, request: Request) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_page(request, 500, "Something went wrong", "The platform logged what happened. Try again later.")


# -- template globals --------------------------------------------------------------


def _csrf_token(request: Request) -> str:
    identity = request.identity
    if identity is None or identity.session_id is None or identity.via != "cookie":
        return ""
    return request.registry.session_cookie.csrf_token(identity.session_id)


class ConsoleRequest:
    """``request.console``: what the base template reads."""

    def __init__(self, request: Request) -> None:
        self.request = request

    @functools.cached_property
    def csrf_token(self) -> str:
        return _csrf_token(self.request)

    def csrf_input(self) -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(self.csrf_token))

    @functools.cached_property
    def menu(self) -> list[dict[str, Any]]:
        return visible_menu(self.request)

    def flashes(self) -> list[dict[str, str]]:
        return _flashes(self.request)

    @property
    def title(self) -> str:
        return self.request.registry.settings.get("pyramidion.title", "Pyramidion")

    @property
    def version(self) -> str:
        return self.request.registry.pyramidion_version

    def login_url(self) -> str:
        return login_url(self.request)


def _from_context(name: str) -> Callable[..., Any]:
    from jinja2 import pass_context

    @pass_context
    def call(context: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(context["request"].console, name)(*args, **kwargs)

    return call


def _setup_templates(config: Any) -> None:
    def register() -> None:
        env = config.get_jinja2_environment()
        env.autoescape = True  # whatever the settings say: a page must never echo markup
        env.globals["csrf_input"] = _from_context("csrf_input")

    # After pyramid_jinja2's own actions made the environment.
    config.action(None, register, order=2)


def includeme(config: Any) -> None:
    config.registry.console_menu = []
    config.add_directive("add_console_menu", add_console_menu)
    config.add_directive("add_console_static", add_console_static)
    config.add_request_method(ConsoleRequest, "console", reify=True)
    config.add_static_view("console/static", "pyramidion:console/static", cache_max_age=3600)
    _setup_templates(config)
    config.scan(__name__)
