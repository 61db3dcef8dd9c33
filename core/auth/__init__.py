"""Identity: users, groups, permissions, tokens, API keys and the security policy."""

from __future__ import annotations

from typing import Any

from .policy import AUTHENTICATED, Identity, SecurityPolicy
from .schemas import UserRef
from .tokens import InvalidToken, decode_access_token, make_codec

__all__ = ["AUTHENTICATED", "Identity", "InvalidToken", "SecurityPolicy", "UserRef", "decode_access_token"]


def includeme(config: Any) -> None:
    config.registry.token_codec = make_codec(config.get_settings())
    config.set_security_policy(SecurityPolicy())
    config.include(".service")
    config.include(".views")
