"""The API toolkit: JSON rendering, errors, schema-checked views, lists, OpenAPI.

Plugins use :func:`api_view` (or ``config.add_api_view``), :class:`Listing`
with :class:`Page`, the field types :data:`Money` and :data:`Timestamp`, and
the errors :class:`APIError`, :class:`Invalid`, :class:`Conflict`.
"""

from __future__ import annotations

from typing import Any

from .errors import APIError, Conflict, Invalid, ensure_unique
from .listing import Argument, Filter, Listing, Page
from .types import Money, Timestamp, TimeZoneName, money
from .views import AUTHENTICATED, add_api_view, api_view

__all__ = [
    "AUTHENTICATED",
    "APIError",
    "Argument",
    "Conflict",
    "Filter",
    "Invalid",
    "Listing",
    "Money",
    "Page",
    "TimeZoneName",
    "Timestamp",
    "add_api_view",
    "api_view",
    "ensure_unique",
    "money",
]


def includeme(config: Any) -> None:
    from .render import OrjsonRenderer

    config.registry.api_operations = []
    config.registry.api_methods = {}
    config.add_renderer("json", OrjsonRenderer)
    config.add_directive("add_api_view", add_api_view)
    config.include(".errors")
    config.include(".openapi")
    config.include(".platform")
