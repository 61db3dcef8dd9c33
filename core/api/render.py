"""JSON rendering with orjson: the renderer named ``json``, and the API views' own bodies.

Timestamps in UTC end in ``Z``, as the documented :data:`~pyramidion.api.Timestamp`
and pydantic's own output do, whether a value went through a response model or not.
"""

from __future__ import annotations

import decimal
from hashlib import blake2b
from typing import Any

import orjson
from pydantic import BaseModel
from pyramid.response import Response

_OPTIONS = orjson.OPT_UTC_Z


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def _json_type(response: Response) -> None:
    # Only when the view left the type alone: a view may answer another type.
    if response.content_type == response.default_content_type:
        response.content_type = "application/json"
        response.charset = None


def json_response(request: Any, value: Any) -> Response:
    """``request.response`` with ``value`` as its JSON body."""
    response = request.response
    _json_type(response)
    response.body = dumps(value)
    return response


class OrjsonRenderer:
    def __init__(self, info: Any) -> None:
        pass

    def __call__(self, value: Any, system: dict[str, Any]) -> bytes:
        request = system.get("request")
        if request is not None:
            _json_type(request.response)
        return dumps(value)


def entity_tag(request: Any, body: bytes) -> str:
    """A weak ETag of ``body`` as ``request``'s caller gets it: any change of
    the body changes it, and two users never share one (the caller's id keys the hash)."""
    caller = request.authenticated_userid or ""
    return blake2b(body, digest_size=16, key=caller.encode()).hexdigest()


def answer_conditionally(request: Any, response: Response) -> Response:
    """Give a GET's JSON ``response`` its ETag; answer a 304 without a body when
    the client's ``If-None-Match`` names it (it has this body already)."""
    tag = entity_tag(request, response.body)
    response.headers["ETag"] = f'W/"{tag}"'
    if "HTTP_IF_NONE_MATCH" in request.environ and tag in request.if_none_match:  # weak comparison, as for GET
        response.status_int = 304
        response.body = b""
        response.content_length = None  # a 304 has no body, and no length or type of one
        response.content_type = None
        # The caching rule the 200 would carry (the protection tween's default for JSON).
        response.headers.setdefault("Cache-Control", "no-store")
    return response
