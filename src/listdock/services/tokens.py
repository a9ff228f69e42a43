"""Token lifecycle and authentication.

``TokenService.authenticate`` is the only way a presented value becomes a caller. It refuses a
value that fails the pattern or checksum before any store lookup, then checks, in order:
known hash (or a rotated-out hash still in its grace period), status, expiry and owner status.
Every refusal raises ``AuthenticationError`` whose ``reason`` is one of ``REFUSAL_REASONS``;
the reason goes to the audit log and the token's record, never to the caller.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import BindParameter, Select, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from listdock.change_counter import Snapshot
from listdock.clock import Clock
from listdock.domain.models import Principal, Token
from listdock.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from listdock.security import tokens as token_values
from listdock.security.ratelimit import RateLimiter
from listdock.services.audit import AuditLog

logger = logging.getLogger(__name__)

REFUSAL_REASONS = (
    "malformed",
    "bad_checksum",
    "unknown",
    "expired",
    "disabled",
    "revoked",
    "owner_disabled",
)
SURFACES = ("api", "endpoint", "widget")
MAX_GRACE_SECONDS = 24 * 60 * 60
MAX_TOKEN_NAME_LENGTH = 200


@dataclass(frozen=True)
class AuthenticatedToken:
    """A token that passed every check, and the principal it stands for."""

    token_id: str
    token_name: str
    principal_id: str
    principal_kind: str
    principal_name: str
    widget_id: str | None
    read_only: bool


@dataclass(frozen=True)
class CachedToken:
    """A token's record that passed every check at ``checked_at``, not yet counted as a use."""

    row: tuple[Any, ...]
    checked_at: datetime

    def __repr__(self) -> str:
        # The row contains the token's stored hashes, which must stay out of logs.
        return f"CachedToken(token_id={self.row[0]!r})"

    @property
    def token(self) -> AuthenticatedToken:
        return _authenticated(self.row)


@dataclass(frozen=True)
class IssuedToken:
    """A token just created or rotated; ``value`` exists only here and is never stored."""

    token: Token
    value: str

    def __repr__(self) -> str:
        return f"IssuedToken(token={self.token!r})"


def _token_lookup() -> Select[*tuple[Any, ...]]:
    """Build the statement that finds a token and its owner by the hash of a presented value.

    Plain columns rather than ORM objects, and built once, because it runs on every request.
    """
    digest: BindParameter[str] = bindparam("digest")
    return (
        select(
            Token.id,
            Token.name,
            Token.principal_id,
            Token.widget_id,
            Token.read_only,
            Token.hash,
            Token.previous_expires_at,
            Token.status,
            Token.expires_at,
            Principal.kind,
            Principal.name,
            Principal.status,
        )
        .join(Principal, Principal.id == Token.principal_id)
        .where(or_(Token.hash == digest, Token.previous_hash == digest))
    )


_TOKEN_LOOKUP = _token_lookup()


def _authenticated(row: tuple[Any, ...]) -> AuthenticatedToken:
    """Return the caller that a ``_TOKEN_LOOKUP`` row stands for."""
    return AuthenticatedToken(
        token_id=row[0],
        token_name=row[1],
        principal_id=row[2],
        principal_kind=row[9],
        principal_name=row[10],
        widget_id=row[3],
        read_only=row[4],
    )


def _rejection_reason(row: tuple[Any, ...], digest: str, now: datetime) -> str | None:
    """Return why the token in ``row`` (a ``_TOKEN_LOOKUP`` row) is refused now, or None."""
    (
        _token_id,
        _token_name,
        _principal_id,
        _widget_id,
        _read_only,
        current_hash,
        previous_expires_at,
        status,
        expires_at,
        _kind,
        _principal_name,
        principal_status,
    ) = row
    if current_hash != digest and (previous_expires_at is None or previous_expires_at <= now):
        return "revoked"
    if status == "Revoked":
        return "revoked"
    if status == "Disabled":
        return "disabled"
    if expires_at is not None and expires_at <= now:
        return "expired"
    if principal_status != "Active":
        return "owner_disabled"
    return None


class UsageRecorder:
    """Buffers token usage (LastUsed, surface, count) and writes it in batches.

    ``flush`` runs from a background thread every ``interval`` seconds (at most 60), so a
    stored ``LastUsed`` is never older than that interval plus one write.
    """

    def __init__(self, sessions: sessionmaker[Session], interval: float) -> None:
        self._sessions = sessions
        self._interval = interval
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[datetime, str, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, token_id: str, when: datetime, surface: str) -> None:
        with self._lock:
            previous = self._pending.get(token_id)
            count = previous[2] + 1 if previous else 1
            self._pending[token_id] = (when, surface, count)

    def flush(self) -> None:
        """Write every buffered use; a failed write is logged and its uses are kept for later."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            with self._sessions.begin() as session:
                for token_id, (when, surface, count) in pending.items():
                    session.execute(
                        update(Token)
                        .where(Token.id == token_id)
                        .values(
                            last_used=when,
                            last_used_surface=surface,
                            use_count=Token.use_count + count,
                        )
                    )
        except Exception:
            logger.exception("Writing token usage failed for %d tokens", len(pending))
            with self._lock:
                for token_id, entry in pending.items():
                    newer = self._pending.get(token_id)
                    if newer is None:
                        self._pending[token_id] = entry
                    else:
                        self._pending[token_id] = (newer[0], newer[1], newer[2] + entry[2])

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="token-usage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()


class TokenService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        hashing_key: bytes,
        audit: AuditLog,
        usage: UsageRecorder,
        limiter: RateLimiter,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hashing_key = hashing_key
        self._audit = audit
        self._usage = usage
        self._limiter = limiter

    def __repr__(self) -> str:
        return "TokenService()"

    # Creation ---------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        owner: Principal,
        name: str,
        *,
        created_by: str | None,
        expires_at: datetime | None = None,
        widget_id: str | None = None,
        read_only: bool = False,
        max_lifetime_days: int | None = None,
    ) -> IssuedToken:
        """Create a token for ``owner`` in ``session`` (the caller commits) and audit it.

        Raises InvalidInputError for an empty name, a past expiry or one beyond the account's
        maximum lifetime, or ``read_only`` without a widget; ConflictError when the owner
        already has a token of that name.
        """
        clean_name = name.strip()
        if not clean_name or len(clean_name) > MAX_TOKEN_NAME_LENGTH:
            raise InvalidInputError(
                "Token name must be 1 to 200 characters", code="invalid_token_name"
            )
        if read_only and widget_id is None:
            raise InvalidInputError(
                "ReadOnly applies only to widget tokens", code="read_only_not_widget"
            )
        now = self._clock.now()
        expires_at = self._checked_expiry(expires_at, now, max_lifetime_days)
        normalized = clean_name.casefold()
        clash = session.scalar(
            select(Token.id).where(
                Token.principal_id == owner.id, Token.name_normalized == normalized
            )
        )
        if clash is not None:
            raise ConflictError("A token with this name already exists", code="token_name_taken")

        value = token_values.generate_token()
        token = Token(
            principal_id=owner.id,
            widget_id=widget_id,
            read_only=read_only,
            name=clean_name,
            name_normalized=normalized,
            prefix=token_values.display_prefix(value),
            hash=token_values.hash_token(value, self._hashing_key),
            status="Active",
            created=now,
            created_by=created_by,
            modified=now,
            expires_at=expires_at,
            use_count=0,
        )
        session.add(token)
        try:
            session.flush()
        except IntegrityError as error:
            raise ConflictError(
                "A token with this name already exists", code="token_name_taken"
            ) from error
        self._audit.record(
            "token_created",
            actor_id=created_by,
            token_id=token.id,
            target=f"principal:{owner.id}",
            details={"name": clean_name, "widget_id": widget_id, "read_only": read_only},
            session=session,
        )
        return IssuedToken(token=token, value=value)

    def _checked_expiry(
        self, expires_at: datetime | None, now: datetime, max_lifetime_days: int | None
    ) -> datetime | None:
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidInputError(
                "ExpiresAt must include a time zone, for example 2027-01-31T00:00:00Z",
                code="invalid_expiry",
            )
        if expires_at is not None and expires_at <= now:
            raise InvalidInputError("ExpiresAt must be in the future", code="invalid_expiry")
        if max_lifetime_days is None:
            return expires_at
        latest = now + timedelta(days=max_lifetime_days)
        if expires_at is None:
            return latest
        if expires_at > latest:
            raise InvalidInputError(
                f"ExpiresAt exceeds the maximum token lifetime of {max_lifetime_days} days",
                code="invalid_expiry",
            )
        return expires_at

    # Authentication ----------------------------------------------------------------------

    def authenticate(
        self, value: str, *, surface: str, ip: str | None, snapshot: Snapshot | None = None
    ) -> AuthenticatedToken:
        """Return the caller behind ``value`` and record the use, or raise AuthenticationError.

        A refusal is written to the audit log (and, for a known token, to its record) before
        the error is raised, and counts against the client address. Raises RateLimitedError
        when the address used up its failed attempts or the token its requests. With
        ``snapshot``, the token's record is read from it when cached there, and cached there
        otherwise.
        """
        self._limiter.check_client(ip)
        digest = self._checked_digest(value, ip)
        now = self._clock.now()
        key = ("token", digest)
        row = snapshot.get(key) if snapshot is not None else None
        if row is None:
            with self._sessions() as session:
                found = session.connection().execute(_TOKEN_LOOKUP, {"digest": digest}).first()
            if found is None:
                self._refuse("unknown", None, None, ip)
            row = tuple(found)
            if snapshot is not None:
                snapshot.put(key, row)

        reason = _rejection_reason(row, digest, now)
        if reason is not None:
            self._refuse(reason, row[0], row[2], ip)
        return self._accept(row, now, surface)

    def verify_cached(
        self, value: str, *, ip: str | None, snapshot: Snapshot
    ) -> CachedToken | None:
        """Return the token behind ``value`` if its record is in ``snapshot`` and it passes.

        Never touches the store and counts nothing, so the event loop may call it; call
        ``accept`` to count and record the use. Returns None when the record is not cached or
        the token would be refused: ``authenticate`` then refuses it properly. Raises
        RateLimitedError when the address used up its failed attempts.
        """
        self._limiter.check_client(ip)
        if len(value) != 40 or not token_values.is_well_formed(value):
            return None
        digest = token_values.hash_token(value, self._hashing_key)
        row = snapshot.get(("token", digest))
        if row is None:
            return None
        now = self._clock.now()
        if _rejection_reason(row, digest, now) is not None:
            return None
        return CachedToken(row, now)

    def accept(self, token: CachedToken, surface: str) -> AuthenticatedToken:
        """Count and record one use of a token ``verify_cached`` passed; see ``authenticate``."""
        return self._accept(token.row, token.checked_at, surface)

    def _checked_digest(self, value: str, ip: str | None) -> str:
        """Return the keyed hash of a well-formed value; refuse a malformed one."""
        if not value.startswith(token_values.TOKEN_PREFIX) or len(value) != 40:
            self._refuse("malformed", None, None, ip)
        if not token_values.is_well_formed(value):
            reason = "bad_checksum" if token_values.TOKEN_PATTERN.fullmatch(value) else "malformed"
            self._refuse(reason, None, None, ip)
        return token_values.hash_token(value, self._hashing_key)

    def _accept(self, row: tuple[Any, ...], now: datetime, surface: str) -> AuthenticatedToken:
        """Count and record one use of the token in ``row``; raises RateLimitedError."""
        token = _authenticated(row)
        self._limiter.hit_token(token.token_id)
        self._usage.record(token.token_id, now, surface)
        return token

    def _refuse(
        self, reason: str, token_id: str | None, principal_id: str | None, ip: str | None
    ) -> NoReturn:
        """Audit a refused token use, count it for the address, and raise AuthenticationError."""
        self._limiter.record_failure(ip)
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                if token_id is not None:
                    session.execute(
                        update(Token)
                        .where(Token.id == token_id)
                        .values(last_rejection_reason=reason, last_refused=now)
                    )
                self._audit.record(
                    "token_refused",
                    outcome="failure",
                    actor_id=principal_id,
                    token_id=token_id,
                    reason=reason,
                    ip=ip,
                    session=session,
                )
        except Exception:
            logger.exception("Recording a refused token use failed (reason %s)", reason)
        raise AuthenticationError(reason)

    # Reading -----------------------------------------------------------------------------

    def get(self, session: Session, token_id: str) -> Token:
        """Return the token; raises NotFoundError when there is none with that id."""
        token = session.get(Token, token_id)
        if token is None:
            raise NotFoundError("Token not found", code="token_not_found")
        return token

    def list_for_principal(self, session: Session, principal_id: str) -> list[Token]:
        return list(
            session.scalars(
                select(Token).where(Token.principal_id == principal_id).order_by(Token.created)
            )
        )

    # Changes -----------------------------------------------------------------------------

    def update(
        self,
        session: Session,
        token: Token,
        *,
        name: str | None,
        status: str | None,
        actor_id: str | None,
    ) -> Token:
        """Rename, disable or enable a token in ``session`` and audit each change.

        Raises InvalidInputError for a bad name or status, ConflictError for a taken name or a
        change to a revoked token.
        """
        if token.status == "Revoked":
            raise ConflictError("A revoked token cannot be changed", code="token_revoked")
        now = self._clock.now()
        if name is not None:
            clean = name.strip()
            if not clean or len(clean) > MAX_TOKEN_NAME_LENGTH:
                raise InvalidInputError(
                    "Token name must be 1 to 200 characters", code="invalid_token_name"
                )
            clash = session.scalar(
                select(Token.id).where(
                    Token.principal_id == token.principal_id,
                    Token.name_normalized == clean.casefold(),
                    Token.id != token.id,
                )
            )
            if clash is not None:
                raise ConflictError(
                    "A token with this name already exists", code="token_name_taken"
                )
            token.name = clean
            token.name_normalized = clean.casefold()
            self._audit.record(
                "token_renamed", actor_id=actor_id, token_id=token.id, session=session
            )
        if status is not None and status != token.status:
            if status not in ("Active", "Disabled"):
                raise InvalidInputError("Status must be Active or Disabled", code="invalid_status")
            token.status = status
            event = "token_enabled" if status == "Active" else "token_disabled"
            self._audit.record(event, actor_id=actor_id, token_id=token.id, session=session)
        token.modified = now
        return token

    def revoke(self, session: Session, token: Token, *, actor_id: str | None) -> Token:
        """Revoke a token for good (its row stays for history); revoking twice is harmless."""
        if token.status != "Revoked":
            token.status = "Revoked"
            token.previous_hash = None
            token.previous_expires_at = None
            token.modified = self._clock.now()
            self._audit.record(
                "token_revoked", actor_id=actor_id, token_id=token.id, session=session
            )
        return token

    def rotate(
        self, session: Session, token: Token, *, grace_seconds: int, actor_id: str | None
    ) -> IssuedToken:
        """Give ``token`` a new value, keeping its name, scope and history.

        The old value stops at once, or after ``grace_seconds`` (at most 24 hours), and is
        then refused with reason ``revoked`` until the next rotation or revocation. Raises
        InvalidInputError for a bad grace period and ConflictError for a revoked token.
        """
        if token.status == "Revoked":
            raise ConflictError("A revoked token cannot be rotated", code="token_revoked")
        if grace_seconds < 0 or grace_seconds > MAX_GRACE_SECONDS:
            raise InvalidInputError(
                "GraceSeconds must be between 0 and 86400", code="invalid_grace"
            )
        now = self._clock.now()
        value = token_values.generate_token()
        # The old hash is kept even without a grace period (its grace ends now). A client still
        # sending the old value is then rejected as "revoked" against this token, which its
        # page shows, rather than as an "unknown" value.
        token.previous_hash = token.hash
        token.previous_expires_at = now + timedelta(seconds=grace_seconds)
        token.hash = token_values.hash_token(value, self._hashing_key)
        token.prefix = token_values.display_prefix(value)
        token.modified = now
        self._audit.record(
            "token_rotated",
            actor_id=actor_id,
            token_id=token.id,
            details={"grace_seconds": grace_seconds},
            session=session,
        )
        return IssuedToken(token=token, value=value)
