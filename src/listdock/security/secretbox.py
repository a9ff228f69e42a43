"""Encryption at rest of connector passwords (Fernet, key derived from the server secret)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from listdock.errors import ConfigurationError


class SecretBox:
    """Encrypts and decrypts short secrets; ``repr`` shows nothing of the key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretBox()"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Return the plaintext; raises ConfigurationError when the server secret changed."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise ConfigurationError(
                "A stored connector password cannot be decrypted: the secret key changed"
            ) from error
