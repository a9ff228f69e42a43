"""Token values: generation, format and checksum check, keyed hashing.

A token is ``ldk_`` followed by 36 base62 characters: 30 random characters from ``secrets``
(30 × log2(62) ≈ 178.6 bits) and 6 that encode the CRC32 of the first 34 characters
(``ldk_`` and the random part). The checksum lets a mistyped or truncated value be refused
without touching the store. Only ``hash_token``'s HMAC-SHA256 of a value is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib

TOKEN_PREFIX = "ldk_"
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
DISPLAY_RANDOM_LENGTH = 4
BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

TOKEN_PATTERN = re.compile(r"ldk_[0-9A-Za-z]{36}")


def encode_base62(number: int, length: int) -> str:
    """Return ``number`` in base62, left-padded with zeros to exactly ``length`` characters.

    Raises ValueError when the number does not fit.
    """
    digits = []
    for _ in range(length):
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    if number:
        raise ValueError("number does not fit in the requested length")
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    """Return the 6-character base62 CRC32 of ``body`` (the prefix and random part)."""
    return encode_base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate_token() -> str:
    """Return a new random token value with its checksum."""
    random_part = "".join(secrets.choice(BASE62_ALPHABET) for _ in range(RANDOM_LENGTH))
    body = TOKEN_PREFIX + random_part
    return body + checksum(body)


def is_well_formed(value: str) -> bool:
    """Return whether ``value`` has the token pattern and a matching checksum.

    Case matters: a value whose case was changed fails the pattern or the checksum.
    """
    if TOKEN_PATTERN.fullmatch(value) is None:
        return False
    body = value[: len(TOKEN_PREFIX) + RANDOM_LENGTH]
    return hmac.compare_digest(value[len(body) :], checksum(body))


def display_prefix(value: str) -> str:
    """Return the part of a token shown in lists: ``ldk_`` and the first 4 random characters."""
    return value[: len(TOKEN_PREFIX) + DISPLAY_RANDOM_LENGTH]


def hash_token(value: str, key: bytes) -> str:
    """Return the hex HMAC-SHA256 of a token value under the server's token-hashing key."""
    return hmac.new(key, value.encode("ascii"), hashlib.sha256).hexdigest()
