"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A hash of a random password, verified when no account matches so that a login for an unknown
# email takes as long as one with a wrong password.
_DUMMY_HASH = _hasher.hash("listdock timing equaliser")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether ``password`` matches; a missing hash is checked against a dummy."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
