"""Forms checked by the API's own schemas, with the API's messages beside each field.

::

    form = Form(request, BookIn)
    if form.submitted:
        try:
            book = create_book(request.db, request.identity, form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"{book.title} added")
            return HTTPSeeOther(request.route_url("rentals.console.books"))
    return {"form": form}

and in the template, with the macros of ``pyramidion:console/templates/forms.jinja2``::

    {{ forms.field(form, "title", "Title", required=True) }}

A failed form answers 422 and dooms the request's transaction, so whatever
the service wrote before it refused is rolled back: bad input changes nothing.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..api.errors import APIError, RequestValidationError
from ..auth.policy import CSRF_FIELD
from ..request import Request

#: What :meth:`Form.fail` turns into messages: catch these around validate-and-call.
FORM_ERRORS = (ValidationError, APIError, RequestValidationError)

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def _clean(message: str) -> str:
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message[:1].upper() + message[1:]


def _kind(annotation: Any) -> str:
    """``"bool"``, ``"list"`` or ``"value"``: how a form sends a field of this type."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # Optional[X]: look at X
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
    if annotation is bool:
        return "bool"
    if typing.get_origin(annotation) in (list, set, tuple, frozenset):
        return "list"
    return "value"


class Form:
    """What a form was sent and what was wrong with it.

    ``schema`` is the API's pydantic model; fields are read from the form by
    name. An empty text input counts as not sent (so a field's default
    applies, or "Field required" shows); a checkbox for a ``bool`` field is
    ``True`` when ticked and ``False`` otherwise; a ``list`` field takes every
    value of its name (a multiple select, repeated checkboxes, or one text
    input of values separated by commas or new lines). ``initial`` fills the
    form before it is sent (an edit page).
    """

    def __init__(self, request: Request, schema: type[BaseModel] | None = None, initial: dict[str, Any] | None = None):
        self.request = request
        self.schema = schema
        self.errors: dict[str, list[str]] = {}
        self.messages: list[str] = []  # about the whole form, not one field
        self._values: dict[str, Any] = dict(initial or {})
        if self.submitted:
            self._values = self._read()

    def reset(self, initial: dict[str, Any] | None = None) -> None:
        """Start over with ``initial``: a blank form under what was just created."""
        self._values = dict(initial or {})
        self.errors.clear()
        self.messages.clear()

    @property
    def submitted(self) -> bool:
        return self.request.method == "POST"

    def _fields(self) -> dict[str, str]:
        if self.schema is None:
            return {name: "value" for name in self.request.POST if name != CSRF_FIELD}
        return {name: _kind(field.annotation) for name, field in self.schema.model_fields.items()}

    def _read(self) -> dict[str, Any]:
        post = self.request.POST
        values: dict[str, Any] = {}
        for name, kind in self._fields().items():
            if kind == "bool":
                values[name] = name in post
            elif kind == "list":
                items: list[str] = []
                for raw in post.getall(name):
                    items += [part.strip() for part in str(raw).replace(",", "\n").splitlines() if part.strip()]
                if name in post or f"{name}.sent" in post:
                    values[name] = items
            elif name in post and str(post[name]).strip() != "":
                values[name] = post[name]
        return values

    def values(self) -> dict[str, Any]:
        """What was sent (or the initial values), as the schema's fields."""
        return dict(self._values)

    def value(self, name: str, default: Any = "") -> Any:
        value = self._values.get(name, default)
        return "" if value is None else value

    def validate(self) -> Any:
        """The schema's model of what was sent; raises :class:`pydantic.ValidationError`."""
        if self.schema is None:
            raise TypeError("this form has no schema to validate with")
        return self.schema.model_validate(self.values())

    def fail(self, exc: BaseException | str, status: int | None = None, doom: bool = True) -> None:
        """Record why the form was refused; the answer becomes a 4xx and the transaction is doomed.

        ``exc`` is a pydantic ``ValidationError``, the API's ``APIError`` (``Invalid``,
        ``Conflict``: their ``details`` name the fields), or a message. ``doom=False``
        keeps what the request wrote (a failed attempt a throttle must count).
        """
        if isinstance(exc, ValidationError):
            for error in exc.errors(include_url=False, include_context=False, include_input=False):
                self._add(str(error["loc"][0]) if error["loc"] else "", error["msg"])
            status = status or 422
        elif isinstance(exc, RequestValidationError):
            for detail in exc.details:
                self._add(str(detail.get("field", "")).split(".")[0], detail["message"])
            status = status or 422
        elif isinstance(exc, APIError):
            named = [d for d in exc.details if isinstance(d, dict) and d.get("field")]
            for detail in named:
                self._add(str(detail["field"]).split(".")[0], detail.get("message") or exc.message)
            if not named:
                self.messages.append(_clean(exc.message))
            status = status or exc.status
        else:
            self.messages.append(_clean(str(exc)))
            status = status or 422
        self.request.response.status_int = status
        if doom:
            self.request.tm.doom()

    def _add(self, field: str, message: str) -> None:
        if field and (self.schema is None or field in self.schema.model_fields):
            self.errors.setdefault(field, []).append(_clean(message))
        else:
            self.messages.append(_clean(f"{field}: {message}" if field else message))

    @property
    def ok(self) -> bool:
        return not self.errors and not self.messages

    def error(self, name: str) -> str:
        """The messages about field ``name``, joined, or an empty string."""
        return " ".join(self.errors.get(name, ()))

    def invalid(self, names: Iterable[str]) -> bool:
        return any(name in self.errors for name in names)
