"""The shape of an API key, how one is made and how it is hashed. No Django models here.

A key reads `rk_<prefix>_<secret>`: `rk_` says what it is (secret scanners and people can
recognise a leaked one), the 8-character prefix is stored in clear to find the row with one
indexed lookup and to tell keys apart in lists, and the 32-character secret carries the
entropy. Both parts use lowercase base32 (a-z, 2-7) so the key survives copy and paste, URLs
and shells, and `_` can only ever be the separator.

The database holds only the SHA-256 of the whole key. A slow password hash (PBKDF2, argon2)
exists to make guessing a *low-entropy* human password expensive; these secrets are 160 random
bits, so no dictionary exists to run, a fast hash is as safe, and it keeps per-request
authentication cheap. (An HMAC keyed with SECRET_KEY would add nothing but a dependency on
never rotating SECRET_KEY.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "rk"
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lowercased
PREFIX_LENGTH = 8
SECRET_LENGTH = 32  # 32 characters x 5 bits = 160 bits of entropy
_ALLOWED = frozenset(ALPHABET)


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    full: str


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate() -> tuple[str, str]:
    """A new key as (prefix, full key). The full key is shown once and never stored."""
    prefix = _random(PREFIX_LENGTH)
    return prefix, f"{KEY_PREFIX}_{prefix}_{_random(SECRET_LENGTH)}"


def parse(raw: str) -> ParsedKey | None:
    """Split a presented key into its parts, or None when it cannot be one of ours."""
    parts = raw.strip().split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_LENGTH or len(secret) != SECRET_LENGTH:
        return None
    if not (set(prefix) <= _ALLOWED and set(secret) <= _ALLOWED):
        return None
    return ParsedKey(prefix=prefix, full=raw.strip())


def hash_key(full: str) -> str:
    """The hex SHA-256 stored for a key (see the module docstring for why not a slow hash)."""
    return hashlib.sha256(full.encode("ascii")).hexdigest()


def matches(full: str, stored_hash: str) -> bool:
    """Constant-time comparison, so response timing tells nothing about the stored hash."""
    return hmac.compare_digest(hash_key(full), stored_hash)
