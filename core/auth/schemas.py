"""Schemas of identity that plugins reuse in their own responses."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class UserRef(BaseModel):
    """A user as other records mention one: creator, performer, renter, owner.

    ``display_name`` is the user's first and last name, or the username when
    they gave neither (``pyramidion.auth.User.display_name``).
    """

    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
