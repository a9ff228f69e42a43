"""The audit log, for Administrators and SecurityManagers."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from listdock.api.deps import AccessDep, ServicesDep
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import AuditEventOut
from listdock.security.management import require_security_manager
from listdock.services.audit import AuditFilter

router = APIRouter(tags=["audit"])

# The largest 32-bit signed integer: a larger offset overflows PostgreSQL's OFFSET parameter.
MAX_SKIP = 2**31 - 1
# Filter values without control characters: PostgreSQL text cannot contain NUL at all.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


@router.get("/audit", response_model=list[AuditEventOut], responses={403: {"model": ErrorOut}})
def list_audit_events(
    access: AccessDep,
    services: ServicesDep,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = Query(default=None, max_length=200, pattern=PRINTABLE),
    token: str | None = Query(default=None, alias="tokenId", max_length=200, pattern=PRINTABLE),
    event: str | None = Query(default=None, max_length=200, pattern=PRINTABLE),
    skip: int = Query(default=0, ge=0, le=MAX_SKIP),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[AuditEventOut]:
    """Return audit events, newest first, filtered by time, actor, token id and event name."""
    require_security_manager(access)
    events = services.audit.search(
        AuditFilter(
            since=since,
            until=until,
            actor_id=actor,
            token_id=token,
            event=event,
            limit=limit,
            skip=skip,
        )
    )
    return [AuditEventOut.of(event) for event in events]
