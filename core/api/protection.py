"""What every request and response goes through: bounded, well-formed bodies and protective headers.

One tween, outermost, so its answers come before any transaction, identity
check or view:

* **Bounded bodies.** A body larger than ``api.max_body_size`` (default
  1 MiB) is a 413 before it is read: by its ``Content-Length``, or, for a
  body without one (chunked), by reading at most the limit. A view that takes
  larger bodies (an upload) says so with ``api_view(..., max_body_size=N)``
  (an int, or a callable ``registry -> int`` for a limit from the settings);
  the limit belongs to its route.
* **Well-formed forms.** A form body (``application/x-www-form-urlencoded``,
  ``multipart/form-data``) is parsed here, once: a malformed one (no boundary,
  truncated, an unknown charset) is a 400 for every endpoint, anonymous ones
  included, and never reaches code that would trip over it.
* **One rule for trailing slashes.** A path no route matches, whose twin
  with or without a trailing slash does match one, is answered as that twin
  (``/api/robots/`` as ``/api/robots``, ``/console`` as ``/console/``), for
  every method, so no plugin needs ``inherit_slash`` tricks and every path a
  README shows works either way.
* **Headers.** ``X-Content-Type-Options: nosniff`` on every response;
  ``Cache-Control: no-store`` on every JSON or HTML response that does not set
  its own (tokens, secrets and personal data are never cached: RFC 6749 5.1);
  on HTML pages a Content-Security-Policy (``default-src 'self'``, no inline
  script, ``frame-ancestors 'none'``, the router's WebSocket in
  ``connect-src``); ``Strict-Transport-Security`` when
  ``security.hsts_max_age`` is set (production).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from pydantic import Field
from pyramid.interfaces import IRoutesMapper
from pyramid.tweens import INGRESS

from ..request import Request
from ..settings import Section, section
from .errors import error_response

log = logging.getLogger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NO_STORE_TYPES = ("application/json", "text/html")


class APISettings(Section):
    max_body_size: int = Field(1024 * 1024, gt=0, description="bytes a request body may have")


class SecuritySettings(Section):
    hsts_max_age: int = Field(0, ge=0, description="seconds of Strict-Transport-Security; 0: no header")
    hsts_include_subdomains: bool = False
    csp_connect_src: str = Field("", description="more sources pages may connect to, space separated")


def content_security_policy(websocket_urls: list[str], extra_connect: str = "") -> str:
    """The policy of HTML pages: own assets only, no inline script, never framed."""
    connect = " ".join(["'self'", *websocket_urls, *extra_connect.split()])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Swagger UI and htmx set style attributes; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _websocket_urls(registry: Any) -> list[str]:
    """Where pages join the router: its public URL when one is set, and its own address."""
    config = registry.realtime.config
    urls = [getattr(config, "public_url", "") or "", config.websocket_url]
    return list(dict.fromkeys(url for url in urls if url))


class BodyTooLarge(Exception):
    pass


def route_body_limit(registry: Any, request: Request, default: int) -> int:
    """The body limit of the route ``request`` goes to: its own (``max_body_size``) or ``default``."""
    limits = registry.api_body_limits
    if not limits:
        return default
    mapper = registry.queryUtility(IRoutesMapper)
    matched = mapper(request) if mapper is not None else {}
    route = matched.get("route") if matched else None
    limit = limits.get(route.name) if route is not None else None
    if limit is None:
        return default
    return limit(registry) if callable(limit) else limit


def _read_at_most(stream: Any, limit: int) -> bytes:
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise BodyTooLarge()
    return b"".join(chunks)


def _has_unsized_body(request: Request) -> bool:
    environ = request.environ
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or bool(
        environ.get("wsgi.input_terminated")
        and request.content_length is None
        and request.method not in ("GET", "HEAD")
    )


def check_body(request: Request, default_limit: int) -> Any:
    """A 413 or 400 response for a body too large or malformed, or None when it may go on."""
    registry = request.registry
    length = request.content_length
    if length is not None and length > default_limit:
        limit = route_body_limit(registry, request, default_limit)
        if length > limit:
            return error_response(413, f"the request body may have at most {limit} bytes")
    elif length is None and _has_unsized_body(request):
        limit = route_body_limit(registry, request, default_limit)
        try:
            body = _read_at_most(request.body_file_raw, limit)
        except BodyTooLarge:
            return error_response(413, f"the request body may have at most {limit} bytes")
        request.environ.pop("HTTP_TRANSFER_ENCODING", None)
        request.environ["wsgi.input"] = io.BytesIO(body)
        request.environ["CONTENT_LENGTH"] = str(len(body))
    if request.content_type in FORM_TYPES and request.method not in ("GET", "HEAD"):
        try:
            request.POST  # noqa: B018 (parsed once here; webob keeps it for the view)
        except Exception as exc:  # whatever webob or the multipart parser trips over
            log.info("malformed %s body on %s %s: %s", request.content_type, request.method, request.path, exc)
            return error_response(400, f"malformed {request.content_type} body")
    return None


SLASH_TWIN = "pyramidion.slash_twin"  # set on the subrequest answering for a path's twin


def slash_twin(request: Request) -> str | None:
    """The path with its trailing slash toggled, when a route matches that and not the path itself."""
    path = request.path_info
    if path in ("", "/") or request.environ.get(SLASH_TWIN):
        return None
    twin = path[:-1] if path.endswith("/") else path + "/"
    mapper = request.registry.queryUtility(IRoutesMapper)
    if mapper is None:
        return None
    for route in mapper.get_routes():
        if route.match(twin) is not None and route.match(path) is None:
            return twin
    return None


def _answer_as_twin(request: Request, twin: str) -> Any:
    subrequest = request.copy()
    subrequest.path_info = twin
    subrequest.environ[SLASH_TWIN] = True
    return request.invoke_subrequest(subrequest, use_tweens=True)


def protection_tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    limits = section(registry.settings, "api", APISettings)
    security = section(registry.settings, "security", SecuritySettings)
    policy = content_security_policy(_websocket_urls(registry), security.csp_connect_src)
    hsts = None
    if security.hsts_max_age:
        hsts = f"max-age={security.hsts_max_age}" + ("; includeSubDomains" if security.hsts_include_subdomains else "")

    def protection_tween(request: Request) -> Any:
        response = check_body(request, limits.max_body_size) or handler(request)
        if response.status_int == 404 and getattr(request, "matched_route", None) is None:
            twin = slash_twin(request)
            if twin is not None:
                response = _answer_as_twin(request, twin)
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if response.content_type in NO_STORE_TYPES and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if response.content_type == "text/html":
            headers.setdefault("Content-Security-Policy", policy)
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Referrer-Policy", "same-origin")
        if hsts is not None:
            headers["Strict-Transport-Security"] = hsts
        return response

    return protection_tween


def includeme(config: Any) -> None:
    config.registry.api_body_limits = {}
    config.add_tween("pyramidion.api.protection.protection_tween_factory", under=INGRESS)
