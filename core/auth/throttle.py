"""Slowing down guessing: refused attempts counted per name and per address.

Logins and a plugin's own credentials (a robot's serial and secret) are
throttled the same way: each refusal is a row in ``auth_failed_attempt``
(so every web process sees it), and once a name or an address has
``max_failures`` refusals within ``window`` seconds, further attempts are
refused outright, even with the right credentials: a guesser must not learn
when the limit was hit.

::

    throttle = Throttle("robots.token", max_failures=10, window=300)
    throttle.check(request.db, serial, request.client_addr)     # TooManyAttempts
    ...
    throttle.record(request.db, serial, request.client_addr)    # the caller commits it
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select

from ..db import utcnow
from .models import FailedAttempt


class TooManyAttempts(Exception):
    """The limit is reached; ``retry_after`` seconds until it surely lifts."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many refused attempts; try again later")
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class Throttle:
    scope: str
    max_failures: int
    window: int  # seconds

    def check(self, db: Any, name: str, address: str | None) -> None:
        """Raise :class:`TooManyAttempts` once ``name`` or ``address`` reached the limit."""
        since = utcnow() - dt.timedelta(seconds=self.window)
        address = address or "unknown"
        # Two separate counts: one guesser trying many names from one address,
        # and many addresses trying one name, each hit the limit on their own.
        by_name, by_address = db.execute(
            select(
                func.count().filter(FailedAttempt.name == name),
                func.count().filter(FailedAttempt.address == address),
            ).where(
                FailedAttempt.scope == self.scope,
                FailedAttempt.at >= since,
                (FailedAttempt.name == name) | (FailedAttempt.address == address),
            )
        ).one()
        if max(by_name, by_address) >= self.max_failures:
            raise TooManyAttempts(self.window)

    def record(self, db: Any, name: str, address: str | None) -> None:
        """Count a refusal; refusals older than the window are dropped as we go."""
        db.add(FailedAttempt(scope=self.scope, name=name, address=address or "unknown"))
        horizon = utcnow() - dt.timedelta(seconds=self.window)
        db.execute(delete(FailedAttempt).where(FailedAttempt.scope == self.scope, FailedAttempt.at < horizon))
