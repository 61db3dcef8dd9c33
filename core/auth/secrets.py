"""Digests of random, long secrets: API keys, refresh tokens, a plugin's device secrets.

Such a secret has enough entropy that a slow password hash buys nothing: a
SHA-256 digest is stored, and compared in constant time. Passwords, which
people choose, go through ``registry.passwords`` (argon2) instead.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["hash_secret", "secret_matches"]


def hash_secret(secret: str) -> str:
    """The hexadecimal SHA-256 digest stored for ``secret``."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str | None) -> bool:
    """Whether ``secret`` is the one ``digest`` was made from, in constant time.

    ``digest`` may be ``None`` (no such record): the comparison still runs,
    so a caller that looked a record up learns nothing from the time taken.
    """
    expected = digest if digest is not None else hash_secret("")
    return hmac.compare_digest(hash_secret(secret), expected) and digest is not None
