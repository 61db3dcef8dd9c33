"""Robot secrets and the short-lived tokens a robot joins the router with.

Secrets and tokens are long random strings, so a SHA-256 of each is what the
database keeps (a slow password hash would buy nothing here). A token is good
for one join within ``robots.token_ttl`` seconds; the session it opens then
lives on. Refused token requests are stored and counted per serial and per
address, so guessing is slowed in every web process alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import delete, select, update

from pyramidion.auth.throttle import Throttle
from pyramidion.db import utcnow

from .models import JoinToken, Robot
from .settings import RobotsSettings

SECRET_BYTES = 32


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """A fresh secret and the hash to store.

    Hexadecimal: a URL-safe secret may begin with "-", which a command line
    (``robot-sim --secret ...``) takes for an option.
    """
    secret = secrets.token_hex(SECRET_BYTES)
    return secret, digest(secret)


def rotate_secret(db: Any, robot: Robot) -> str:
    """Give ``robot`` a new secret (returned, shown once); its unused tokens stop working."""
    secret, robot.secret_hash = new_secret()
    robot.secret_changed_at = utcnow()
    db.execute(delete(JoinToken).where(JoinToken.robot_id == robot.id, JoinToken.used_at.is_(None)))
    return secret


class WrongCredentials(Exception):
    """Serial or secret wrong; deliberately not saying which."""


def issue_token(db: Any, config: RobotsSettings, serial: str, secret: str, address: str) -> tuple[str, Robot]:
    """A join token for the robot ``serial`` if ``secret`` is its secret.

    Raises :class:`~pyramidion.auth.throttle.TooManyAttempts` once the serial
    or the address reached the limit of refused requests in the window,
    :class:`WrongCredentials` for a wrong serial or secret, recording the
    refusal (the caller commits it).
    """
    throttle = Throttle("robots.token", config.token_max_failures, config.token_failure_window)
    throttle.check(db, serial, address)
    robot = db.scalar(select(Robot).where(Robot.serial == serial))
    # Compared even for an unknown serial, so timing does not tell serials apart.
    if not hmac.compare_digest(robot.secret_hash if robot else digest(""), digest(secret)) or robot is None:
        throttle.record(db, serial, address)
        raise WrongCredentials()
    token = secrets.token_urlsafe(SECRET_BYTES)
    db.add(
        JoinToken(
            robot_id=robot.id, token_hash=digest(token), expires_at=utcnow() + dt.timedelta(seconds=config.token_ttl)
        )
    )
    return token, robot


def redeem_token(db: Any, token: str) -> Robot | None:
    """The robot of an unused, unexpired ``token``, which is spent by this call.

    A conditional update: of two joins racing with one token, exactly one wins.
    """
    now = utcnow()
    robot_id = db.scalar(
        update(JoinToken)
        .where(JoinToken.token_hash == digest(token), JoinToken.used_at.is_(None), JoinToken.expires_at > now)
        .values(used_at=now)
        .returning(JoinToken.robot_id)
    )
    return db.get(Robot, robot_id) if robot_id is not None else None
