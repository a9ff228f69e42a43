"""Embed session tokens (``lde_…``): short-lived, signed stand-ins for a widget token.

A widget page works with an embed session token, so the long-lived token it was opened with
never appears in the page or in a URL the page builds. The value is ``lde_`` followed by an
itsdangerous ``URLSafeSerializer`` signature (HMAC-SHA256 with a key derived for this purpose
only) over the widget, the token and its display prefix, the owner, the read-only flag, the
parameter values and the expiry. Expiry is read from the injected clock, and a session lives
at most ``MAX_LIFETIME``.

The signature proves only that listdock issued the session. Every use must still re-check the
underlying token and its owner's rights (``listdock.services.embed``), so revoking or
disabling the token stops its sessions at once. Rotating a token changes its prefix, which
ends the sessions opened with the old value.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from listdock.clock import Clock
from listdock.errors import AuthenticationError

logger = logging.getLogger(__name__)

SESSION_PREFIX = "lde_"
MAX_LIFETIME = timedelta(minutes=15)
SALT = "listdock embed session"
MAX_VALUE_LENGTH = 8192
# Signed and verified values kept for reuse, each.
REMEMBERED_VALUES = 4096


@dataclass(frozen=True)
class EmbedSession:
    """The claims of one embed session token; ``parameters`` maps names to raw values."""

    widget_id: str
    token_id: str
    token_prefix: str
    principal_id: str
    read_only: bool
    parameters: dict[str, str] = field(default_factory=dict)
    expires_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def is_session_value(value: str) -> bool:
    return value.startswith(SESSION_PREFIX)


class EmbedSessionSigner:
    """Issues and verifies embed session tokens; never logs or returns a value it verifies."""

    def __init__(self, key: bytes, clock: Clock, lifetime: timedelta = MAX_LIFETIME) -> None:
        if lifetime > MAX_LIFETIME or lifetime <= timedelta(0):
            raise ValueError("An embed session lives more than 0 and at most 15 minutes")
        self._serializer = URLSafeSerializer(
            key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self._clock = clock
        self._lifetime = lifetime
        # Signing and checking a value are pure functions of it, so recent results are kept:
        # a page renews its session on every request, and expiry has one-second resolution.
        self._signed: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._verified: OrderedDict[str, EmbedSession] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "EmbedSessionSigner()"

    def issue(
        self,
        *,
        widget_id: str,
        token_id: str,
        token_prefix: str,
        principal_id: str,
        read_only: bool,
        parameters: dict[str, str],
    ) -> tuple[str, EmbedSession]:
        """Return a new session token and its claims, expiring ``lifetime`` from now."""
        expires_at = self._clock.now() + self._lifetime
        claims = EmbedSession(
            widget_id=widget_id,
            token_id=token_id,
            token_prefix=token_prefix,
            principal_id=principal_id,
            read_only=read_only,
            parameters=dict(parameters),
            expires_at=expires_at,
        )
        expires = int(expires_at.timestamp())
        key = (
            widget_id,
            token_id,
            token_prefix,
            principal_id,
            read_only,
            tuple(claims.parameters.items()),
            expires,
        )
        value = self._signed.get(key)
        if value is None:
            payload = {
                "widget": widget_id,
                "token": token_id,
                "prefix": token_prefix,
                "principal": principal_id,
                "read_only": read_only,
                "parameters": claims.parameters,
                "expires": expires,
            }
            value = SESSION_PREFIX + str(self._serializer.dumps(payload))
            self._remember(self._signed, key, value)
        return value, claims

    def renew(self, claims: EmbedSession) -> tuple[str, EmbedSession]:
        """Return a fresh session with the same claims; call only after re-checking them."""
        return self.issue(
            widget_id=claims.widget_id,
            token_id=claims.token_id,
            token_prefix=claims.token_prefix,
            principal_id=claims.principal_id,
            read_only=claims.read_only,
            parameters=claims.parameters,
        )

    def verify(self, value: str) -> EmbedSession:
        """Return the claims of a session token issued here and not yet expired.

        Raises AuthenticationError (reason ``malformed``, ``bad_signature`` or ``expired``)
        for anything else, including a value whose parameters were changed.
        """
        if not is_session_value(value) or len(value) > MAX_VALUE_LENGTH:
            raise AuthenticationError("malformed")
        claims = self._verified.get(value)
        if claims is None:
            claims = self._checked(value)
            self._remember(self._verified, value, claims)
        if claims.expires_at <= self._clock.now():
            raise AuthenticationError("expired")
        return claims

    def _checked(self, value: str) -> EmbedSession:
        """Return the claims of a value whose signature is valid, whatever its expiry."""
        try:
            payload: Any = self._serializer.loads(value[len(SESSION_PREFIX) :])
        except BadSignature:
            raise AuthenticationError("bad_signature") from None
        try:
            claims = EmbedSession(
                widget_id=str(payload["widget"]),
                token_id=str(payload["token"]),
                token_prefix=str(payload["prefix"]),
                principal_id=str(payload["principal"]),
                read_only=bool(payload["read_only"]),
                parameters={str(k): str(v) for k, v in dict(payload["parameters"]).items()},
                expires_at=datetime.fromtimestamp(int(payload["expires"]), UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise AuthenticationError("malformed") from None
        return claims

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            cache[key] = value
            if len(cache) > REMEMBERED_VALUES:
                cache.popitem(last=False)
