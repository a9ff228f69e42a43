"""The Tokens tab of a user's page: add, disable, enable, rotate and revoke.

A user manages their own tokens through the web session; tokens of others need the
SecurityManager or Administrator role (and Administrators alone manage Administrators'). A new
or rotated token's value is rendered once, in the response to the POST, with no-store caching;
no later page shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from listdock.domain.models import Principal, Token
from listdock.errors import InvalidInputError, ListdockError, NotFoundError
from listdock.security.management import require_can_manage
from listdock.security.policy import Access
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep
from listdock.web.pages.security_users import redirect, visible_principal
from listdock.web.sessions import WebUser

router = APIRouter(include_in_schema=False)


def _require_token_manager(session: Session, access: Access, owner_id: str) -> None:
    if owner_id != access.principal_id:
        require_can_manage(session, access, owner_id)


def parse_expiry(value: str) -> datetime | None:
    """Parse the dialog's optional expiry (a ``datetime-local`` value, read as UTC)."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(
            "Expires must be a date and time such as 2027-01-31T00:00", code="invalid_expiry"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.post("/security/users/{principal_id}/tokens")
def add_token(
    principal_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    expires: Annotated[str, Form()] = "",
) -> Response:
    """The "Add token" dialog: Name and an optional expiry; shows the value once."""
    owner = visible_principal(session, access, principal_id)
    _require_token_manager(session, access, owner.id)
    try:
        account = services.accounts.get(session)
        issued = services.tokens.create(
            session,
            owner,
            name,
            created_by=user.principal_id,
            expires_at=parse_expiry(expires),
            max_lifetime_days=account.max_token_lifetime_days,
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return services.pages.render(
            request,
            "pages/error.html",
            {
                "title": "The token was not created",
                "message": f"{failure.message}. Correct it on the Tokens tab and try again.",
                "back": f"/security/users/{owner.id}?tab=tokens",
                "back_label": "Back to the Tokens tab",
            },
            user=user,
            status_code=400,
        )
    return _token_once(request, services, user, issued.value, issued.token, owner)


def _token_once(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    value: str,
    token: Token,
    owner: Principal,
) -> Response:
    return services.pages.render(
        request,
        "pages/token_created.html",
        {
            "value": value,
            "token": token,
            "owner": owner,
            "back": f"/security/users/{owner.id}?tab=tokens",
        },
        user=user,
        no_store=True,
    )


def _owned_token(services: ServicesDep, session: Session, access: Access, token_id: str) -> Token:
    token = services.tokens.get(session, token_id)
    if token.principal_id != access.principal_id and not access.is_security_manager:
        raise NotFoundError("Token not found", code="token_not_found")
    _require_token_manager(session, access, token.principal_id)
    return token


@router.post("/security/tokens/{token_id}/status")
def change_token_status(
    token_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    status: Annotated[str, Form()] = "Disabled",
) -> Response:
    token = _owned_token(services, session, access, token_id)
    services.tokens.update(session, token, name=None, status=status, actor_id=user.principal_id)
    session.commit()
    done = "token_enabled" if status == "Active" else "token_disabled"
    return redirect(f"/security/users/{token.principal_id}?tab=tokens", done)


@router.post("/security/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    token = _owned_token(services, session, access, token_id)
    services.tokens.revoke(session, token, actor_id=user.principal_id)
    session.commit()
    return redirect(f"/security/users/{token.principal_id}?tab=tokens", "token_revoked")


@router.post("/security/tokens/{token_id}/rotate")
def rotate_token(
    token_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    grace_minutes: Annotated[int, Form()] = 0,
) -> Response:
    """Give the token a new value (shown once); the old one stops now or after the grace."""
    token = _owned_token(services, session, access, token_id)
    issued = services.tokens.rotate(
        session, token, grace_seconds=grace_minutes * 60, actor_id=user.principal_id
    )
    session.commit()
    owner = visible_principal(session, access, token.principal_id)
    return _token_once(request, services, user, issued.value, issued.token, owner)
