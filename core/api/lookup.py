"""Fetching one row by its key for a view, or answering 404."""

from __future__ import annotations

from typing import Any, TypeVar

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import inspect

__all__ = ["get_or_404"]

T = TypeVar("T")


def get_or_404(db: Any, model: type[T], id: Any, *options: Any, what: str | None = None) -> T:
    """The row of ``model`` with primary key ``id``, or a 404 ``"no such <what>"``.

    ``id`` may come straight from the URL (``request.matchdict["id"]``): a
    value that is not a key of the right type ("abc" for an integer key) is
    a 404 like a missing row. ``options`` are loader options
    (``selectinload(Book.loans)``); ``what`` names the thing in the message
    and defaults to the class name in lower case.
    """
    key = _as_key(model, id)
    row = db.get(model, key, options=options) if key is not None else None
    if row is None:
        raise HTTPNotFound(f"no such {what or model.__name__.lower()}")
    return row


def _as_key(model: type, id: Any) -> Any:
    columns: tuple[Any, ...] = tuple(inspect(model).primary_key)
    if len(columns) != 1:
        return id  # a composite key is passed as given (a tuple or dict)
    try:
        python_type = columns[0].type.python_type
    except NotImplementedError:
        return id
    if isinstance(id, python_type):
        return id
    try:
        return python_type(id)
    except (TypeError, ValueError):
        return None
