"""A plugin for the identity cache's tests, loaded in the test's process and in another web process.

Its ``/api/auth/me`` addition reads a table the shared revision does not watch
(a new login changes nothing a cached identity holds), so only the kept
answer's own rules make a change show.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pyramidion import hookimpl
from pyramidion.auth.models import Session


class Logins:
    @hookimpl
    def pyramidion_me(self, request: Any, user: Any) -> dict[str, Any]:
        count = request.db.scalar(select(func.count()).select_from(Session).where(Session.user_id == user.id))
        return {"logins": count}
