"""Lists: pagination, ordering, search and allow-listed filters.

A resource declares once what may be asked of its list::

    books = Listing(
        key=Book.id,
        ordering={"name": Book.name, "id": Book.id},
        default_ordering="name",
        search=[Book.name, Book.author],
        filters={"type": Filter(Book.type, BookType)},
    )

    @api_view("rentals.books", query=books, response=Page[BookOut])
    def list_books(request, query):
        return query.page(select(Book))

``?limit=&offset=`` (bounded by ``max_limit``), ``?ordering=name,-id``,
``?search=`` (case-insensitive, any of the search columns) and the named
filters are the only parameters accepted; anything else is a 422 naming it,
so a query string never reaches the ORM unchecked. The page is
``{"count", "next", "previous", "results"}``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..request import Request
from .errors import Invalid

T = TypeVar("T")

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")

# Databases take a 64-bit offset at most; no list is anywhere near this long.
MAX_OFFSET = 2**31 - 1


class Page(BaseModel, Generic[T]):
    """One page of a list: ``results`` and links to the pages beside it (``None`` at the ends)."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]


LOOKUPS = {
    "eq": lambda column, value: column == value,
    "contains": lambda column, value: column.ilike(f"%{_escape_like(value)}%", escape="\\"),
    "gte": lambda column, value: column >= value,
    "lte": lambda column, value: column <= value,
}


@dataclasses.dataclass(frozen=True)
class Filter:
    """One allowed query filter: ``?<name>=<value>`` becomes ``lookup(column, value)``.

    ``column`` may instead be a callable ``value -> clause`` for anything a
    plain column cannot say (a related table, a JSON list).
    """

    column: Any
    type: Any = str
    lookup: str = "eq"
    description: str = ""

    def clause(self, value: Any) -> ColumnElement[bool]:
        """The SQL condition for the value the client gave."""
        if (
            callable(self.column)
            and not isinstance(self.column, ColumnElement)
            and not hasattr(self.column, "__clause_element__")
        ):
            return self.column(value)
        return LOOKUPS[self.lookup](self.column, value)


@dataclasses.dataclass(frozen=True)
class Argument:
    """A query parameter the view reads itself (``query.arguments[name]``), not a
    filter: checked and documented like one, for choices a plain clause cannot
    make, such as whose records to list."""

    type: Any = str
    default: Any = None
    description: str = ""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(term: str, columns: Sequence[Any]) -> ColumnElement[bool]:
    """Rows where any of ``columns`` contains ``term`` (case-insensitive; a callable column makes its own clause)."""
    pattern = f"%{_escape_like(term)}%"
    clauses = [
        col(term) if callable(col) and not hasattr(col, "__clause_element__") else col.ilike(pattern, escape="\\")
        for col in columns
    ]
    return or_(*clauses)


class Listing:
    """A paginated, ordered, searchable, filterable list: the ``query=`` of an :func:`api_view`.

    The view gets the parsed :class:`ListQuery` and answers ``query.page(select(...))``.
    """

    def __init__(
        self,
        *,
        key: Any,
        ordering: dict[str, Any],
        default_ordering: str,
        search: Sequence[Any] = (),
        filters: dict[str, Filter] | None = None,
        arguments: dict[str, Argument] | None = None,
        default_limit: int = 25,
        max_limit: int = 100,
    ) -> None:
        self.key = key
        self.ordering = ordering
        self.default_ordering = default_ordering
        self.search = list(search)
        self.filters = filters or {}
        self.arguments = arguments or {}
        self.default_limit = default_limit
        self.max_limit = max_limit
        self._adapters = {name: TypeAdapter(f.type) for name, f in self._parameters().items()}
        self._accepted = frozenset(self.parameters)
        # The same few orderings come back request after request.
        self.order_by = functools.lru_cache(maxsize=64)(self._ordering)
        self._statements: dict[tuple[Select, str], Select] = {}

    def _parameters(self) -> dict[str, Filter | Argument]:
        return {**self.filters, **self.arguments}

    @property
    def parameters(self) -> list[str]:
        """The query parameters this list accepts; any other is a 422."""
        names = ["limit", "offset", "ordering"]
        if self.search:
            names.append("search")
        return names + list(self.filters) + list(self.arguments)

    def parse(self, request: Request) -> ListQuery:
        """The checked query of ``request`` (a 422 names every bad parameter)."""
        params = request.GET
        unknown = sorted(set(params) - self._accepted)
        if unknown:
            raise Invalid(
                f"unknown query parameter(s): {', '.join(unknown)}",
                [{"field": name, "location": "query", "message": "not a parameter of this list"} for name in unknown],
            )
        limit = self._int(params, "limit", self.default_limit, 1, self.max_limit)
        offset = self._int(params, "offset", 0, 0, MAX_OFFSET)
        ordering = params.get("ordering", self.default_ordering)
        order = self.order_by(ordering)
        clauses = []
        search = (params.get("search") or "").strip()
        if search and self.search:
            clauses.append(search_clause(search, self.search))
        for name, spec in self.filters.items():
            if name in params:
                clauses.append(spec.clause(self._value(params, name)))
        arguments = {
            name: self._value(params, name) if name in params else spec.default for name, spec in self.arguments.items()
        }
        return ListQuery(request, self, limit, offset, ordering, order, clauses, arguments)

    def _value(self, params: Any, name: str) -> Any:
        try:
            return self._adapters[name].validate_strings(params[name])
        except ValidationError as exc:
            raise Invalid.field(name, exc.errors()[0]["msg"], "query") from None

    @staticmethod
    def _int(params: Any, name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        # Only what the document promises: ASCII digits (int() would also take "1_0", " 5", "５").
        if not _WHOLE_NUMBER.fullmatch(raw):
            raise Invalid.field(name, "must be a whole number", "query")
        value = int(raw)
        if not low <= value <= high:
            raise Invalid.field(name, f"must be between {low} and {high}", "query")
        return value

    def _ordering(self, text: str) -> tuple[Any, ...]:
        order = []
        for part in (p.strip() for p in text.split(",")):
            name = part.lstrip("-")
            if name not in self.ordering:
                raise Invalid.field(
                    "ordering", f"cannot order by {name!r}; choose from {', '.join(sorted(self.ordering))}", "query"
                )
            column = self.ordering[name]
            order.append(column.desc() if part.startswith("-") else column.asc())
        order.append(self.key.asc())  # a stable order, so pages never overlap
        return tuple(order)

    def built_once(self, key: tuple[Select, str], build: Callable[[], Select]) -> Select:
        """The statement ``build()`` makes for ``key``, made on first use and then reused:
        SQLAlchemy derives a statement's cache key once per statement object,
        and deriving it costs as much as running the query."""
        statement = self._statements.get(key)
        if statement is None:
            if len(self._statements) >= 64:  # statements made per request would pile up
                self._statements.clear()
            statement = self._statements[key] = build()
        return statement

    def openapi_parameters(self) -> list[dict[str, Any]]:
        """The parameters as the OpenAPI document describes them."""
        params = [
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            },
            {
                "name": "offset",
                "in": "query",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            },
            {
                "name": "ordering",
                "in": "query",
                "description": f"comma-separated, '-' for descending; fields: {', '.join(sorted(self.ordering))}",
                "schema": {
                    "type": "string",
                    "default": self.default_ordering,
                    "pattern": _ordering_pattern(self.ordering),
                },
            },
        ]
        if self.search:
            params.append({"name": "search", "in": "query", "schema": {"type": "string"}})
        for name, spec in self._parameters().items():
            schema = self._adapters[name].json_schema()
            if isinstance(spec, Argument) and spec.default is not None:
                schema = {**schema, "default": spec.default}
            params.append({"name": name, "in": "query", "description": spec.description, "schema": schema})
        return params


def _ordering_pattern(fields: dict[str, Any]) -> str:
    one = "-?(" + "|".join(sorted(fields)) + ")"
    return f"^{one}(,{one})*$"


class ListQuery:
    """A parsed list request; ``page(stmt)`` (ORM entities) or ``rows(stmt)`` (Core columns) runs it."""

    def __init__(
        self,
        request: Request,
        listing: Listing,
        limit: int,
        offset: int,
        ordering: str,
        order: tuple[Any, ...],
        clauses: list[Any],
        arguments: dict[str, Any],
    ) -> None:
        self.request = request
        self.listing = listing
        self.limit = limit
        self.offset = offset
        self.ordering = ordering
        self.order = order
        self.clauses = clauses
        self.arguments = arguments

    def filter(self, stmt: Select) -> Select:
        """``stmt`` narrowed by the search and filters the client asked for (no ordering, no paging)."""
        return stmt.where(and_(*self.clauses)) if self.clauses else stmt

    def page(self, stmt: Select, transform: Callable[[list[Any]], list[Any]] | None = None) -> dict[str, Any]:
        """Count and fetch one page of ``stmt`` (a ``select`` of ORM entities).

        The total comes with the rows as a scalar subquery, as in :meth:`rows`,
        so a page is one query; unlike a window count (``count(*) OVER ()``) it
        leaves the database free to stop reading at the page's last row, and
        it counts a DISTINCT statement after duplicates are removed. A count of
        its own runs only for a page past the end, which has no row to carry it.
        ``transform`` turns the page's entities into its results.
        """
        stmt = self.filter(stmt)
        paged = stmt.order_by(*self.order).limit(self.limit).offset(self.offset)
        total = self._counting(stmt).correlate(None).scalar_subquery()
        counted = self.request.db.execute(paged.add_columns(total)).unique().all()
        rows = [row[0] for row in counted]
        count = counted[0][-1] if counted else self._count_past_end(stmt, {})
        return self._answer(count, transform(rows) if transform is not None else rows)

    def rows(
        self,
        stmt: Select,
        transform: Callable[[list[dict[str, Any]]], list[Any]] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Count and fetch one page of ``stmt``, a Core ``select`` of columns: each
        row a dict by column name (label), no ORM object in the way.

        For the lists read most. ``stmt`` is built once (at import) with
        ``bindparam()`` for what varies per request (the caller), their values
        in ``params``: a page with no search or filter then runs a statement
        made once per ordering, paged by bound parameters. One query: the
        total comes as a scalar subquery beside the rows, which the database
        counts once and which, unlike a window count, leaves it free to stop
        reading at the page's last row. ``transform`` turns the rows into the
        results (nesting, one more query for the page's related rows). With
        ``api_view(..., validate_response=False)`` they go straight into the body.
        """
        if self.clauses:  # the client's search and filter values are in this statement
            counted = self._counted(self.filter(stmt))
        else:
            counted = self.listing.built_once((stmt, self.ordering), lambda: self._counted(stmt))
        values = {**(params or {}), "page_limit": self.limit, "page_offset": self.offset}
        result = self.request.db.execute(counted, values)
        names, fetched = list(result.keys())[:-1], result.all()  # zip() below leaves the count out
        count = fetched[0][-1] if fetched else self._count_past_end(self.filter(stmt), values)
        found = [dict(zip(names, row, strict=False)) for row in fetched]
        return self._answer(count, transform(found) if transform is not None else found)

    def _counted(self, stmt: Select) -> Select:
        """The page of ``stmt`` with its total beside each row.

        The page's keys are chosen first, ordering and paging the key alone,
        then only their rows are read: the database sorts keys, not whole rows.
        """
        keys = (
            stmt.with_only_columns(self.listing.key, maintain_column_froms=True)
            .order_by(*self.order)
            .limit(bindparam("page_limit"))
            .offset(bindparam("page_offset"))
            .correlate(None)
        )
        page = stmt.where(self.listing.key.in_(keys.scalar_subquery())).order_by(*self.order)
        return page.add_columns(self._counting(stmt).correlate(None).scalar_subquery())

    def _count_past_end(self, stmt: Select, values: dict[str, Any]) -> int:
        # A page with no row: the list is empty, or the offset is past its end.
        return self._count(stmt, values) if self.offset else 0

    @staticmethod
    def _counting(stmt: Select) -> Select:
        # Over a subquery, so DISTINCT and GROUP BY count what the list shows.
        return select(func.count()).select_from(stmt.order_by(None).subquery())

    def _count(self, stmt: Select, values: dict[str, Any]) -> int:
        return self.request.db.scalar(self._counting(stmt), values) or 0

    def _answer(self, count: int, rows: list[Any]) -> dict[str, Any]:
        return {
            "count": count,
            "next": self._link(self.offset + self.limit) if self.offset + self.limit < count else None,
            "previous": self._link(max(self.offset - self.limit, 0)) if self.offset > 0 else None,
            "results": rows,
        }

    def _link(self, offset: int) -> str:
        params = [(k, v) for k, v in self.request.GET.items() if k not in ("limit", "offset")]
        params += [("limit", str(self.limit)), ("offset", str(offset))]
        return f"{self.request.path_url}?{urlencode(params)}"
