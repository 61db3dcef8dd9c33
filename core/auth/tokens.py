"""Access tokens: JWTs made and read with pyramid-jwt's codec.

pyramid-jwt is used as a token codec only, under our own Pyramid 2 security
policy (its authentication policy is the deprecated Pyramid 1 shim). The
subject is the user id as a string: PyJWT 2.10 and later refuse a numeric
``sub``. Every token names its issuer, audience and kind (``typ``), and all
three are checked, with the expiry, on the way in; only the configured
algorithm is accepted, so ``alg: none`` and algorithm swaps fail.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import jwt
from pydantic import Field
from pyramid_jwt.policy import JWTAuthenticationPolicy

from ..settings import Section, SettingsError, section


class TokenSettings(Section):
    secret: str = Field(min_length=32)
    algorithm: str = "HS256"
    issuer: str = "pyramidion"
    audience: str = "pyramidion-api"
    access_ttl: int = Field(900, gt=0, description="seconds an access token lives")
    refresh_ttl: int = Field(15 * 86400, gt=0, description="seconds a refresh token lives")
    leeway: int = Field(5, ge=0, description="seconds of clock skew tolerated")


class InvalidToken(Exception):
    """The token is expired, forged, of the wrong kind or otherwise unusable."""


class TokenCodec:
    def __init__(self, config: TokenSettings) -> None:
        if config.algorithm not in ("HS256", "HS384", "HS512"):
            raise SettingsError(f"jwt.algorithm: {config.algorithm!r} is not one of HS256, HS384, HS512")
        self.config = config
        self._jwt = JWTAuthenticationPolicy(
            private_key=config.secret,
            algorithm=config.algorithm,
            expiration=config.access_ttl,
            audience=config.audience,
            leeway=config.leeway,
        )

    def encode(self, subject: str, kind: str, ttl: int | None = None, **claims: Any) -> str:
        return self._jwt.create_token(
            str(subject),
            expiration=dt.timedelta(seconds=ttl or self.config.access_ttl),
            iss=self.config.issuer,
            typ=kind,
            jti=uuid.uuid4().hex,
            **claims,
        )

    def decode(self, token: str, kind: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                self.config.secret,
                algorithms=[self.config.algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "typ"]},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc)) from None
        if claims.get("typ") != kind:
            raise InvalidToken(f"not an {kind} token")
        return claims

    def access_token(self, user_id: int, session_id: str, **claims: Any) -> str:
        return self.encode(str(user_id), "access", sid=session_id, **claims)


def make_codec(settings: dict[str, Any]) -> TokenCodec:
    return TokenCodec(section(settings, "jwt", TokenSettings))


def decode_access_token(registry: Any, token: str) -> dict[str, Any]:
    """Claims of a valid access token; raises :class:`InvalidToken`.

    Checks the signature, expiry, issuer, audience and kind only; whether the
    user is still active and the session not revoked is the caller's check
    (:func:`pyramidion.auth.policy.user_for_access_token`).
    """
    return registry.token_codec.decode(token, "access")
