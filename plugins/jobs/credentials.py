"""Credentials at rest: Fernet encryption with the key from ``jobs.credentials_key``.

The setting holds one or more Fernet keys (whitespace or comma separated):
the first encrypts, all decrypt, so a key is rotated by putting the new one
first. Without the setting the key is derived from ``jwt.secret``, which
every deployment has: changing ``jwt.secret`` then makes stored credentials
unreadable, so production should set ``jobs.credentials_key`` of its own
(``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from pyramidion.settings import SettingsError, as_list


class CredentialError(Exception):
    """Stored credentials cannot be decrypted (the key changed)."""


def derived_key(secret: str) -> bytes:
    digest = hashlib.sha256(b"pyramidion.jobs.credentials\0" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


class Cipher:
    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Cipher:
        keys = as_list(settings.get("jobs.credentials_key"))
        if not keys:
            secret = settings.get("jwt.secret")
            if not secret:
                raise SettingsError("jobs.credentials_key: not set, and there is no jwt.secret to derive it from")
            return cls([derived_key(secret)])
        try:
            return cls([key.encode() for key in keys])
        except ValueError:
            raise SettingsError(
                "jobs.credentials_key: each key must be a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    def encrypt(self, value: Any) -> str | None:
        """A token for ``value`` (anything JSON can hold); ``None`` stays ``None``."""
        if value is None:
            return None
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def decrypt(self, token: str | None, ttl: int | None = None) -> Any:
        if token is None:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode(), ttl=ttl))
        except InvalidToken:
            raise CredentialError("stored credentials cannot be decrypted with jobs.credentials_key") from None
