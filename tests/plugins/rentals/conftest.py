"""Fixtures for the rentals tests: a librarian (staff), a reader, books."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def librarian(make_user: Callable[..., Any]) -> Any:
    return make_user("librarian", permissions=["rentals.manage"])


@pytest.fixture
def reader(make_user: Callable[..., Any]) -> Any:
    return make_user("reader")


@pytest.fixture
def as_librarian(login: Callable[[Any], dict[str, str]], librarian: Any) -> dict[str, str]:
    return login(librarian)


@pytest.fixture
def as_reader(login: Callable[[Any], dict[str, str]], reader: Any) -> dict[str, str]:
    return login(reader)


@pytest.fixture
def add_book(app: Any, as_librarian: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Add a book through the API as staff; returns its JSON. Author and description are required:
    a test that does not care gets placeholders."""

    def add(name: str, type: str = "regular", **fields: Any) -> dict[str, Any]:
        book = {"name": name, "type": type, "author": f"author of {name}", "description": f"about {name}", **fields}
        return app.post_json("/api/rentals/v1/books", book, headers=as_librarian, status=201).json

    return add
