"""Identity: users, groups, permissions, tokens, API keys and the security policy.

What plugins use (the rest of this package is the core's own):

* :class:`User`, :class:`Group`: the core's tables, for foreign keys and queries;
* :func:`display_name`: how a user is shown, from the names of a row read without the ORM;
* :class:`UserRef`: a user nested in a plugin's responses;
* :class:`Identity`: ``request.identity``, the user calling and how;
* :func:`user_permissions`: the permissions a user holds through groups;
* :func:`hash_secret`, :func:`secret_matches`: digests of random, long secrets;
* :class:`Throttle`, :class:`TooManyAttempts`: slowing down guessing of a credential;
* :func:`users_by_username`: active users named by username (case and Unicode form ignored).
"""

from __future__ import annotations

from typing import Any

from .models import Group, User, display_name
from .policy import AUTHENTICATED, Identity, SecurityPolicy, logged_in, user_permissions
from .schemas import UserRef
from .secrets import hash_secret, secret_matches
from .service import users_by_username
from .throttle import Throttle, TooManyAttempts
from .tokens import InvalidToken, decode_access_token, make_codec

__all__ = [
    "AUTHENTICATED",
    "Group",
    "Identity",
    "logged_in",
    "InvalidToken",
    "SecurityPolicy",
    "Throttle",
    "TooManyAttempts",
    "User",
    "UserRef",
    "decode_access_token",
    "display_name",
    "hash_secret",
    "secret_matches",
    "user_permissions",
    "users_by_username",
]


def includeme(config: Any) -> None:
    config.registry.token_codec = make_codec(config.get_settings())
    config.set_security_policy(SecurityPolicy())
    config.include(".service")
    config.include(".views")
