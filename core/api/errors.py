"""Every error leaves as ``{"error": {"status", "message", "details"}}``.

Views raise :class:`APIError` (or its kin :class:`Conflict`, :class:`Invalid`)
for the failures they know of; the exception views here turn those, Pyramid's
HTTP exceptions, validation errors and anything unexpected into that body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from pyramid.exceptions import PredicateMismatch
from pyramid.httpexceptions import HTTPException
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InternalError, OperationalError

from ..db import READ_ONLY_SQLSTATE, unavailable_reason
from ..request import Request
from .render import dumps

log = logging.getLogger(__name__)


class APIError(Exception):
    status = 400

    def __init__(self, message: str, details: Iterable[Any] = (), status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        if status is not None:
            self.status = status


class Invalid(APIError):
    """422: the input is well-formed but wrong; name each field in ``details``."""

    status = 422

    @classmethod
    def field(cls, field: str, message: str, location: str = "body") -> Invalid:
        return cls(f"{field}: {message}", [{"field": field, "location": location, "message": message}])


class Conflict(APIError):
    """409: the input clashes with what is stored (a duplicate unique value, a book out on loan)."""

    status = 409


def ensure_unique(db: Any, column: Any, value: Any, *where: Any, exclude: Any = None, field: str | None = None) -> None:
    """Raise :class:`Conflict` (409) when a row other than ``exclude`` (the
    primary key of the row being changed) holds ``value`` in ``column``.

    ``where`` narrows the rows that count (names unique per inventory, say).
    The database's unique constraint still backs it: a race between this
    check and the insert is the 409 of :func:`integrity_error`.
    """
    key = column.parent.primary_key[0]
    query = select(key).where(column == value, *where)
    if exclude is not None:
        query = query.where(key != exclude)
    if db.scalar(query.limit(1)) is not None:
        name = field or column.key
        raise Conflict(
            f"{name} {value!r} is already taken", [{"field": name, "location": "body", "message": "already taken"}]
        )


def error_response(
    status: int, message: str, details: Iterable[Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error answer in the API's shape, for a view that answers rather than raises."""
    body = {"error": {"status": status, "message": message, "details": list(details or ())}}
    response = Response(body=dumps(body), status=status, content_type="application/json", charset=None)
    if headers:
        response.headers.update(headers)
    return response


def validation_details(exc: ValidationError, location: str = "body") -> list[dict[str, Any]]:
    """A pydantic error as the API's ``details``: one ``{field, location, message, type}`` per problem."""
    return [
        {
            "field": ".".join(str(part) for part in err["loc"]) or location,
            "location": location,
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


class RequestValidationError(Exception):
    """Raised by the API view wrapper when a body, query or path fails its schema."""

    def __init__(self, error: ValidationError, location: str) -> None:
        self.details = validation_details(error, location)
        fields = ", ".join(d["field"] for d in self.details)
        super().__init__(f"invalid {location}: {fields}")


@exception_view_config(APIError)
def api_error(exc: APIError, request: Request) -> Response:
    return error_response(exc.status, exc.message, exc.details)


@exception_view_config(RequestValidationError)
def request_invalid(exc: RequestValidationError, request: Request) -> Response:
    return error_response(422, str(exc), exc.details)


@exception_view_config(IntegrityError)
def integrity_error(exc: IntegrityError, request: Request) -> Response:
    # Views check the uniqueness they know of; this catches the race between
    # their check and the insert, so a duplicate is never a 500. pyramid_tm
    # aborts the transaction because an exception view answered.
    return error_response(409, "conflicts with an existing record")


@exception_view_config(DataError)
@exception_view_config(OverflowError)
def out_of_range(exc: Exception, request: Request) -> Response:
    # A value the database cannot store (an id of 30 digits, a string longer
    # than its column on PostgreSQL) is bad input, not a server fault.
    log.warning("value out of range on %s %s: %s", request.method, request.path, exc)
    return error_response(422, "a value is out of range")


@exception_view_config(json.JSONDecodeError)  # orjson's is one too
@exception_view_config(UnicodeDecodeError)
def malformed_input(exc: Exception, request: Request) -> Response:
    # A body or query a view decoded itself (``request.json_body``, a
    # query string that is not UTF-8): the client's mistake, not ours.
    log.info("malformed input on %s %s: %s", request.method, request.path, exc)
    return error_response(400, "malformed request: the body or query could not be decoded")


@forbidden_view_config()
def forbidden(exc: HTTPException, request: Request) -> Response:
    # Pyramid's permission check attaches its verdict as ``result``; an
    # HTTPForbidden a view raises itself ("registration is closed") has none
    # and stays a 403 even for anonymous callers.
    denied = getattr(exc, "result", None)
    if denied is not None and request.authenticated_userid is None:
        return error_response(401, "authentication required", headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if denied is not None:
        message = str(denied)
    else:
        message = exc.detail if isinstance(exc.detail, str) and exc.detail else "permission denied"
    return error_response(403, message)


@notfound_view_config()
def not_found(exc: HTTPException, request: Request) -> Response:
    route = request.matched_route
    if isinstance(exc, PredicateMismatch) and route is not None:
        allowed = request.registry.api_methods.get(route.name)
        if allowed and request.method not in allowed:
            return error_response(
                405, f"method {request.method} not allowed", headers={"Allow": ", ".join(sorted(allowed))}
            )
    return error_response(404, exc.detail if isinstance(exc.detail, str) and exc.detail else "not found")


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request: Request) -> Response:
    if exc.code is not None and exc.code < 400:
        return exc
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else exc.title.lower()
    headers = {
        k: v for k, v in exc.headers.items() if k.lower() in {"allow", "www-authenticate", "retry-after", "location"}
    }
    return error_response(exc.code or 500, message, headers=headers)


@exception_view_config(OperationalError)
def database_unavailable(exc: DBAPIError, request: Request) -> Response:
    # Down, gone or read-only: the platform cannot serve this now, and says which.
    log.error("database error on %s %s: %s", request.method, request.path, exc.orig)
    return error_response(503, unavailable_reason(exc), headers={"Retry-After": "5"})


@exception_view_config(InternalError)
def database_internal(exc: InternalError, request: Request) -> Response:
    # PostgreSQL files a write refused by a read-only server under InternalError.
    if getattr(exc.orig, "sqlstate", None) == READ_ONLY_SQLSTATE:
        return database_unavailable(exc, request)
    return unexpected(exc, request)


@exception_view_config(Exception)
def unexpected(exc: Exception, request: Request) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal server error")


def includeme(config: Any) -> None:
    config.scan(__name__)
