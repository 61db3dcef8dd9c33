"""API views: schemas declared on the view, validated on the way in and out.

::

    @api_view(route_name="rentals.books", request_method="POST",
              body=BookIn, response=BookOut, status=201, permission="rentals.manage")
    def create_book(request, body: BookIn):
        ...
        return book            # an ORM object, rendered through BookOut

The decorator is a venusian one like ``view_config``: ``config.scan()`` finds
it. The same settings work imperatively with ``config.add_api_view(fn, ...)``.

* ``body``: a pydantic model for the JSON body (or a form body with
  ``form=True``); the view gets it as ``body``. Malformed JSON is a 400, a
  body that fails the model a 422 naming every field.
* ``query``: a pydantic model for the query string, given as ``query``;
  a :class:`~pyramidion.api.listing.Listing` here makes a paginated list.
* ``response``: the model the result is rendered through (``from_attributes``
  so ORM objects work); ``list[Model]`` for a bare list. Fields not in the
  model never leave, whatever the view returned.
* ``validate_response=False``: the view builds its answer itself from its own
  rows, as plain data already shaped like ``response`` (dicts, lists, str,
  numbers, dates, UTC datetimes, enums, ``Decimal``); it is serialized as it
  is and ``response`` only documents it. For the hottest reads, where
  validating trusted rows would cost more than reading them.
* ``status``: the success status; 204 renders no body.
* ``responses``: other statuses the view answers, ``{409: "Name taken"}``,
  for the document (401/403/404/422 are added where they apply).
* ``content_type``: the success answer is not JSON but this type (a file),
  or a list of the types it may be (an attachment is served as it was stored).
* ``upload``: the request is ``multipart/form-data`` with a file in this
  field, which the view reads from ``request.POST``.
* ``max_body_size``: the largest body the route takes, in bytes, when it is
  not ``api.max_body_size`` (an upload's limit): an int, or a callable
  ``registry -> int`` reading a setting. Larger bodies are a 413 before they
  are read (see :mod:`pyramidion.api.protection`).

A GET answered with JSON carries a weak ``ETag`` of its body (keyed by the
caller), and a request whose ``If-None-Match`` names it gets a 304 without a
body (:func:`~pyramidion.api.render.answer_conditionally`).

Every API view is recorded for ``/api/openapi.json``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import orjson
import venusian
from pydantic import BaseModel, TypeAdapter, ValidationError
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response

from ..request import Request
from .errors import RequestValidationError
from .listing import Listing
from .render import answer_conditionally, json_response

# The view works for any logged-in user; see pyramidion.auth.policy.
AUTHENTICATED = "authenticated"


@dataclasses.dataclass
class Operation:
    """What the OpenAPI document says of one view."""

    route_name: str
    method: str
    view: Callable
    body: type[BaseModel] | None
    query: Any
    response: Any
    status: int
    permission: str | None
    form: bool
    tags: list[str]
    summary: str
    description: str
    responses: dict[int, str]
    content_type: str | list[str] | None
    upload: str | None
    validate_response: bool = True


def _parse_body(request: Request, model: type[BaseModel], form: bool) -> BaseModel:
    content_type = request.content_type or ""
    if form and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data: Any = dict(request.POST.items())
    else:
        raw = request.body
        if not raw:
            data = {}
        else:
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise HTTPBadRequest(f"malformed JSON body: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc, "body") from None


def _parse_query(request: Request, query: Any) -> Any:
    if isinstance(query, Listing):
        return query.parse(request)
    try:
        return query.model_validate(request.GET.mixed())
    except ValidationError as exc:
        raise RequestValidationError(exc, "query") from None


def _renderer(op: Operation) -> Callable[[Any], Any]:
    """What turns the view's result into the data of the JSON body."""
    if op.response is None or not op.validate_response:
        return lambda result: result
    adapter = TypeAdapter(op.response)

    def render(result: Any) -> Any:
        return adapter.dump_python(adapter.validate_python(result, from_attributes=True), mode="json", by_alias=True)

    return render


def _wrap(view: Callable, op: Operation) -> Callable:
    wanted = set(inspect.signature(view).parameters)
    render = _renderer(op)
    conditional = op.method == "GET"

    @functools.wraps(view)
    def api_view_wrapper(context: Any, request: Request) -> Any:
        kwargs: dict[str, Any] = {}
        if op.body is not None:
            kwargs["body"] = _parse_body(request, op.body, op.form)
        if op.query is not None:
            kwargs["query"] = _parse_query(request, op.query)
        if "context" in wanted:
            kwargs["context"] = context
        request.response.status_int = op.status  # a view may still set another
        result = view(request, **{k: v for k, v in kwargs.items() if k in wanted})
        if isinstance(result, Response):  # an answer of its own (an error returned so the transaction commits)
            return result
        if op.status == 204:
            request.response.status_int = 204
            request.response.content_type = None
            return request.response
        response = json_response(request, render(result))
        if conditional and response.status_int == 200:
            return answer_conditionally(request, response)
        return response

    return api_view_wrapper


def add_api_view(
    config: Any,
    view: Callable,
    route_name: str,
    request_method: str = "GET",
    body: type[BaseModel] | None = None,
    query: Any = None,
    response: Any = None,
    status: int = 200,
    permission: str | None = AUTHENTICATED,
    form: bool = False,
    tags: list[str] | None = None,
    responses: dict[int, str] | None = None,
    content_type: str | list[str] | None = None,
    upload: str | None = None,
    max_body_size: int | Callable[[Any], int] | None = None,
    validate_response: bool = True,
    **view_options: Any,
) -> None:
    """Register ``view`` as an API view; see the module documentation."""
    doc = inspect.getdoc(view) or ""
    summary, _, description = doc.partition("\n\n")
    method = request_method.upper()
    op = Operation(
        route_name=route_name,
        method=method,
        view=view,
        body=body,
        query=query,
        response=response,
        status=status,
        permission=permission,
        form=form,
        tags=tags or [route_name.split(".")[0]],
        summary=summary.replace("\n", " "),
        description=description,
        responses=responses or {},
        content_type=content_type,
        upload=upload,
        validate_response=validate_response,
    )
    config.registry.api_operations.append(op)
    if max_body_size is not None:
        config.registry.api_body_limits[route_name] = max_body_size
    config.registry.api_methods.setdefault(route_name, set()).add(method)
    config.add_view(
        _wrap(view, op),
        route_name=route_name,
        request_method=method,
        permission=permission,
        renderer="json",
        **view_options,
    )


class api_view:
    """Decorator form of :func:`add_api_view`, picked up by ``config.scan()``."""

    def __init__(self, route_name: str, **settings: Any) -> None:
        self.route_name = route_name
        self.settings = settings

    def __call__(self, wrapped: Callable) -> Callable:
        settings = self.settings
        route_name = self.route_name

        def callback(context: Any, name: str, ob: Any) -> None:
            context.config.with_package(info.module).add_api_view(ob, route_name, **settings)

        info = venusian.attach(wrapped, callback, category="pyramid")
        return wrapped
