"""Who may manage whom: shared by the REST API and the web pages."""

from __future__ import annotations

from sqlalchemy.orm import Session

from listdock.errors import PermissionDeniedError
from listdock.security.policy import Access, load_access
from listdock.security.roles import DEVELOP


def require_security_manager(access: Access) -> None:
    """Raise PermissionDeniedError unless the principal is an Administrator or SecurityManager."""
    if not access.is_security_manager:
        raise PermissionDeniedError("The SecurityManager role is required", code="missing_role")


def can_manage(session: Session, access: Access, target_id: str) -> bool:
    """Return whether ``access``'s principal may manage the principal ``target_id``.

    Administrators manage everyone; SecurityManagers manage everyone but Administrators.
    """
    if access.is_administrator:
        return True
    if not access.is_security_manager:
        return False
    return not load_access(session, target_id).is_administrator


def require_can_manage(session: Session, access: Access, target_id: str) -> None:
    """Raise PermissionDeniedError unless ``can_manage`` allows it."""
    require_security_manager(access)
    if not can_manage(session, access, target_id):
        raise PermissionDeniedError(
            "Only an Administrator can manage an Administrator", code="cannot_manage"
        )


def require_may_create_widget_token(session: Session, access: Access, owner_id: str) -> None:
    """Raise PermissionDeniedError unless ``access`` may make a widget token for ``owner_id``.

    A Developer may make one for itself; a token for anyone else needs the right to manage
    that principal (SecurityManager or Administrator).
    """
    if owner_id == access.principal_id and access.has(DEVELOP):
        return
    require_can_manage(session, access, owner_id)
