"""The audit log: security-relevant events in their own table, never holding a secret."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listdock.clock import Clock
from listdock.domain.models import AuditEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    actor_id: str | None = None
    token_id: str | None = None
    event: str | None = None
    limit: int = 100
    skip: int = 0


class AuditLog:
    """Writes and reads audit events."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def record(
        self,
        event: str,
        *,
        outcome: str = "success",
        actor_id: str | None = None,
        actor_name: str | None = None,
        token_id: str | None = None,
        target: str | None = None,
        reason: str | None = None,
        ip: str | None = None,
        details: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> None:
        """Store one event, in ``session`` when given (so it commits with the change it records)
        or in a transaction of its own."""
        row = AuditEvent(
            time=self._clock.now(),
            actor_id=actor_id,
            actor_name=actor_name,
            token_id=token_id,
            event=event,
            target=target,
            outcome=outcome,
            reason=reason,
            ip=ip,
            details=details,
        )
        if session is not None:
            session.add(row)
            return
        with self._sessions.begin() as own_session:
            own_session.add(row)

    def search(self, query: AuditFilter) -> list[AuditEvent]:
        """Return events matching every given filter, newest first."""
        statement = select(AuditEvent).order_by(AuditEvent.time.desc(), AuditEvent.id.desc())
        if query.since is not None:
            statement = statement.where(AuditEvent.time >= query.since)
        if query.until is not None:
            statement = statement.where(AuditEvent.time <= query.until)
        if query.actor_id is not None:
            statement = statement.where(AuditEvent.actor_id == query.actor_id)
        if query.token_id is not None:
            statement = statement.where(AuditEvent.token_id == query.token_id)
        if query.event is not None:
            statement = statement.where(AuditEvent.event == query.event)
        statement = statement.offset(query.skip).limit(query.limit)
        with self._sessions() as session:
            return list(session.scalars(statement))
