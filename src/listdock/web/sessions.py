"""Web sign-in: password login, session cookies, CSRF tokens, and lockout after failures.

The session cookie contains a random value; the store keeps only its HMAC, with the principal and
a per-session CSRF token. Every request re-reads the session and its principal, so logout, a
disabled user and a deleted user end the session at once in every process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from listdock.clock import Clock
from listdock.domain.models import Principal, WebSession
from listdock.errors import AuthenticationError
from listdock.security.passwords import verify_password
from listdock.security.ratelimit import RateLimiter
from listdock.services.audit import AuditLog

logger = logging.getLogger(__name__)

SESSION_COOKIE = "listdock_session"
LOGIN_CSRF_COOKIE = "listdock_login_csrf"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class WebUser:
    """The signed-in user of a web request."""

    principal_id: str
    name: str
    email: str | None
    csrf_token: str
    session_id: str


class WebSessionService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        audit: AuditLog,
        limiter: RateLimiter,
        hashing_key: bytes,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._audit = audit
        self._limiter = limiter
        self._hashing_key = hashing_key

    def __repr__(self) -> str:
        return "WebSessionService()"

    def _hash(self, value: str) -> str:
        return hmac.new(self._hashing_key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def login(self, email: str, password: str, *, ip: str | None) -> str:
        """Check the credentials and return a new session cookie value.

        Raises RateLimitedError after too many failures for this email or address. Raises
        AuthenticationError for a wrong email or password, an API user (which can never log
        in) or a disabled user. Every failure is audited with its precise reason.
        """
        normalized = email.strip().casefold()
        for key in (f"email:{normalized}", f"ip:{ip}"):
            self._limiter.check_client(key)

        with self._sessions.begin() as session:
            principal = session.scalar(
                select(Principal).where(Principal.email_normalized == normalized)
            )
            password_hash = principal.password_hash if principal is not None else None
            valid = verify_password(password_hash, password)
            reason = None
            if principal is None:
                reason = "unknown_email"
            elif principal.kind != "user":
                reason = "api_user"
            elif not valid:
                reason = "bad_password"
            elif principal.status != "Active":
                reason = "disabled"
            if reason is not None:
                self._audit.record(
                    "login_failed",
                    outcome="failure",
                    actor_id=principal.id if principal else None,
                    actor_name=normalized,
                    reason=reason,
                    ip=ip,
                    session=session,
                )
            else:
                assert principal is not None
                value = secrets.token_urlsafe(32)
                now = self._clock.now()
                session.add(
                    WebSession(
                        token_hash=self._hash(value),
                        principal_id=principal.id,
                        csrf_token=secrets.token_urlsafe(32),
                        created=now,
                        expires_at=now + SESSION_LIFETIME,
                        ip=ip,
                    )
                )
                principal.last_login = now
                self._audit.record(
                    "login",
                    actor_id=principal.id,
                    actor_name=principal.email,
                    ip=ip,
                    session=session,
                )
                return value

        for key in (f"email:{normalized}", f"ip:{ip}"):
            self._limiter.record_failure(key)
        raise AuthenticationError(reason or "bad_password", code="invalid_credentials")

    def resolve(self, value: str | None) -> WebUser | None:
        """Return the user of a live session cookie, or None for a missing or dead one."""
        if not value:
            return None
        now = self._clock.now()
        statement = (
            select(WebSession, Principal.name, Principal.email)
            .join(Principal, Principal.id == WebSession.principal_id)
            .where(
                WebSession.token_hash == self._hash(value),
                WebSession.expires_at > now,
                Principal.status == "Active",
                Principal.kind == "user",
            )
        )
        with self._sessions() as session:
            row = session.execute(statement).first()
        if row is None:
            return None
        web_session, name, email = row
        return WebUser(
            principal_id=web_session.principal_id,
            name=name,
            email=email,
            csrf_token=web_session.csrf_token,
            session_id=web_session.id,
        )

    def logout(self, value: str | None) -> None:
        """End the session of ``value``; harmless for an unknown value."""
        if not value:
            return
        with self._sessions.begin() as session:
            user_id = session.scalar(
                select(WebSession.principal_id).where(WebSession.token_hash == self._hash(value))
            )
            session.execute(delete(WebSession).where(WebSession.token_hash == self._hash(value)))
            if user_id is not None:
                self._audit.record("logout", actor_id=user_id, session=session)


def csrf_matches(expected: str, given: str | None) -> bool:
    """Return whether a posted CSRF token equals the expected one (constant time)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
