"""``POST /console/ticket``: what a live page needs to join the WAMP router (see ``pyramidion-live.js``)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden

from ...auth.policy import logged_in
from ...realtime.tickets import console_ticket
from ...request import Request
from ..framework import console_view


@console_view("console.ticket", renderer="json", request_method="POST")
def ticket(request: Request) -> dict[str, Any]:
    """A ticket for this console session, good for ``console.ticket_ttl`` seconds, and where to join.

    A POST (so the CSRF token is required: another site cannot mint one) and
    only for the session cookie: a token or an API key has tickets of its own.
    """
    identity = logged_in(request)
    if identity.via != "cookie":
        raise HTTPForbidden("tickets are for console sessions; use your access token as the ticket")
    config = request.registry.realtime.config
    ttl = request.registry.console_settings.ticket_ttl
    return {
        "ticket": console_ticket(request, identity, ttl),
        "url": config.browser_url,
        "realm": config.realm,
        "expires_in": ttl,
    }
