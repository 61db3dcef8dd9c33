"""Bases of request and response bodies, so every plugin validates the same way.

* :class:`In`: a request body. Unknown fields are a 422, never silently dropped.
* :class:`Patch`: a partial update. A field the client leaves out stays as it
  is; ``null`` clears a field whose type admits ``None`` and is a 422 on any
  other; :meth:`Patch.changes` gives only what the client sent.
* :class:`Out`: a response body, read from ORM objects' attributes.

::

    class BookIn(In):
        title: str = Field(min_length=1, max_length=200)
        note: str | None = None

    class BookPatch(Patch):
        title: str = Field(min_length=1, max_length=200)   # null: 422
        note: str | None                                   # null: cleared

    for name, value in body.changes().items():
        setattr(book, name, value)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["In", "Out", "Patch"]


class In(BaseModel):
    """A request body: unknown fields are refused (422) rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body, validated from an ORM object's attributes."""

    model_config = ConfigDict(from_attributes=True)


def _drop_default(schema: dict[str, Any]) -> None:
    # The ``None`` a Patch field falls back to is not a value the client may
    # send (unless the type admits it): the document must not offer it.
    schema.pop("default", None)


class Patch(In):
    """A partial update: absent means unchanged; ``null`` only where the type admits ``None``.

    Declare each field with its real type (and constraints); every field
    becomes optional. Read what to change from :meth:`changes`, never from
    the attributes: an absent field reads as ``None`` there.
    """

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for field in cls.model_fields.values():
            # Absent leaves the stored value alone, so no field is required
            # and none has a default of its own that could overwrite it.
            field.default = None
            field.default_factory = None
            if field.json_schema_extra is None:
                field.json_schema_extra = _drop_default
        cls.model_rebuild(force=True)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by name, with their validated values (``None`` to clear)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name in self.model_fields_set}
