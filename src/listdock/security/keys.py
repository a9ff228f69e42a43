"""Keys derived from the server secret, one per purpose, so no key is used for two things."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret: str, purpose: str) -> bytes:
    """Return 32 bytes derived from the server secret for one named purpose (HKDF-SHA256)."""
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("utf-8"))
    return kdf.derive(secret.encode("utf-8"))


@dataclass(frozen=True)
class ServerKeys:
    """The keys a deployment uses; never logged or shown (``repr`` hides them)."""

    token_hashing: bytes = field(repr=False)
    connector_passwords: bytes = field(repr=False)
    sessions: bytes = field(repr=False)
    embed_sessions: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> ServerKeys:
        return cls(
            token_hashing=derive_key(secret, "listdock token hashing"),
            connector_passwords=base64.urlsafe_b64encode(
                derive_key(secret, "listdock connector passwords")
            ),
            sessions=derive_key(secret, "listdock sessions"),
            embed_sessions=derive_key(secret, "listdock embed sessions"),
        )
