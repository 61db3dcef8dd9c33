"""Short-lived WAMP tickets for the console's live pages.

A browser holds no access token, only the console's session cookie, so a live
page asks ``POST /console/ticket`` for a ticket: a JWT of its own kind
(``typ`` ``wamp-ticket``, so it opens nothing on the HTTP API), naming the
console session and valid for ``console.ticket_ttl`` seconds (60 by default),
long enough to join. The router's authenticator accepts it as a user's
ticket: the user's own rights, and only while the console session lasts.
"""

from __future__ import annotations

from typing import Any

from ..auth.policy import Identity, user_for_token
from ..request import Request

TICKET_KIND = "wamp-ticket"


def console_ticket(request: Request, identity: Identity, ttl: int) -> str:
    """A ticket for ``identity``, a console session's."""
    return request.registry.token_codec.encode(
        str(identity.user.id), TICKET_KIND, ttl=ttl, sid=identity.session_id, username=identity.user.username
    )


def user_for_ticket(request: Request, ticket: str) -> Any:
    """The active user of a valid console ticket whose session is not revoked, else None."""
    return user_for_token(request, ticket, TICKET_KIND)
