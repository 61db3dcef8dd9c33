"""One name, one person: how usernames and emails are compared.

A username is stored as typed (after NFKC normalization, so a fullwidth
``ａｄｍｉｎ`` is stored as ``admin``) and compared by its *key*: NFKC, case
folding, NFKC again (Unicode's "compatibility caseless match"). New usernames
must be made of the documented alphabet, :data:`USERNAME_ALPHABET`; a name
outside it (an accent, a look-alike letter from another script) is refused
rather than risk two people whose names only differ there.

An email address is compared by its case-folded form: ``ADMIN@EXAMPLE.COM``
and ``admin@example.com`` are one address.
"""

from __future__ import annotations

import re
import unicodedata

USERNAME_ALPHABET = "ASCII letters and digits, '.', '_' and '-', starting with a letter or a digit"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
USERNAME_MAX_LENGTH = 150


def normalize_username(username: str) -> str:
    """The username as it is stored: NFKC-normalized, surrounding space removed."""
    return unicodedata.normalize("NFKC", username).strip()


def username_key(username: str) -> str:
    """What two usernames are compared by: equal keys, same person."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def email_key(email: str) -> str:
    """What two email addresses are compared by."""
    return email.strip().casefold()


def check_username(username: str) -> str:
    """The stored form of a new username; ValueError naming the alphabet when it is outside it."""
    normalized = normalize_username(username)
    if not normalized or len(normalized) > USERNAME_MAX_LENGTH:
        raise ValueError(f"must have 1 to {USERNAME_MAX_LENGTH} characters")
    if not USERNAME_PATTERN.match(normalized):
        raise ValueError(f"may contain only {USERNAME_ALPHABET}")
    return normalized
