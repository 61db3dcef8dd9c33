"""The client of the external member database, an identity source of the bar.

A service of the app (pyramid_services): found with
``request.find_service(IMemberDatabase)``, so a test may register another.
It only asks the database; what a member means locally (a user and a
wallet) is decided in :mod:`pyramidion_bar.services.members`.

The protocol: ``POST <bar.members.url>`` with ``{"username", "password"}``
and ``Authorization: Bearer <bar.members.token>``. A 200 answer
``{"id", "username", "email"}`` accepts the member; any 4xx rejects them; an
unreachable database or an answer we cannot read counts as "not accepted",
so the core goes on to the local password.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from zope.interface import Interface

log = logging.getLogger(__name__)


class IMemberDatabase(Interface):
    """Marker of the member database client service."""


class Member(BaseModel):
    """A member as the member database describes them."""

    id: str | int
    username: str
    email: str


class MemberDatabase:
    """Asks the member database at ``url`` whether a username and password belong to a member."""

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @classmethod
    def from_settings(cls, settings: Any) -> MemberDatabase:
        """The client for the ``bar.members.*`` settings (:class:`~pyramidion_bar.settings.BarSettings`)."""
        return cls(settings.members_url, settings.members_token, settings.members_timeout)

    def authenticate(self, username: str, password: str) -> Member | None:
        """The member the database accepts for these credentials, or None."""
        if not self.enabled:
            return None
        import requests  # only where a member database is configured (a web process's memory, issue 17)

        try:
            response = requests.post(
                self.url,
                json={"username": username, "password": password},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            log.warning("member database unreachable: %s", exc)
            return None
        if response.status_code != 200:
            if response.status_code >= 500:
                log.warning("member database answered %s", response.status_code)
            return None
        try:
            return Member.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            log.warning("member database sent an answer we cannot read: %s", exc)
            return None
