"""The API toolkit: JSON rendering, errors, schema-checked views, lists, OpenAPI.

What plugins use (``docs/plugin-api.md`` is the full reference):

* views: :func:`api_view` (or ``config.add_api_view``), :data:`AUTHENTICATED`;
* bodies: the bases :class:`In`, :class:`Patch` (one PATCH rule) and :class:`Out`;
* lists: :class:`Listing` with :class:`Filter`, :class:`Argument`, :class:`Page`; a
  view's ``query`` is a :class:`ListQuery`;
* fields: :data:`Money` (:func:`money`), :data:`Timestamp`, :data:`TimeZoneName`;
* rows: :func:`get_or_404`, :func:`ensure_unique`;
* errors: :class:`APIError`, :class:`Invalid`, :class:`Conflict`, and for a view
  that answers an error itself, :func:`error_response` with :func:`validation_details`.
"""

from __future__ import annotations

from typing import Any

from .errors import APIError, Conflict, Invalid, ensure_unique, error_response, validation_details
from .listing import Argument, Filter, Listing, ListQuery, Page
from .lookup import get_or_404
from .schemas import In, Out, Patch
from .types import Money, Timestamp, TimeZoneName, money
from .views import AUTHENTICATED, add_api_view, api_view

__all__ = [
    "AUTHENTICATED",
    "APIError",
    "Argument",
    "Conflict",
    "Filter",
    "In",
    "Invalid",
    "ListQuery",
    "Listing",
    "Money",
    "Out",
    "Page",
    "Patch",
    "TimeZoneName",
    "Timestamp",
    "add_api_view",
    "api_view",
    "ensure_unique",
    "error_response",
    "get_or_404",
    "money",
    "validation_details",
]


def includeme(config: Any) -> None:
    from .render import OrjsonRenderer

    config.registry.api_operations = []
    config.registry.api_methods = {}
    config.add_renderer("json", OrjsonRenderer)
    config.add_directive("add_api_view", add_api_view)
    config.include(".errors")
    config.include(".protection")
    config.include(".openapi")
    config.include(".platform")
