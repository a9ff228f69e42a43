"""One token: read its metadata, rename, disable or enable, revoke, rotate.

The owner may read, rename, disable and revoke its own tokens with any of its tokens, since
those only narrow what exists. Enabling and rotating widen what a value can do, so they need a
token whose owner is an Administrator or SecurityManager able to manage the token's owner.
"""

from __future__ import annotations

from fastapi import APIRouter

from listdock.api.deps import (
    AccessDep,
    CallerDep,
    ServicesDep,
    SessionDep,
)
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import (
    NewTokenOut,
    RotateIn,
    TokenEnvelopeOut,
    TokenOut,
    TokenPatchIn,
)
from listdock.domain.models import Token
from listdock.errors import NotFoundError
from listdock.security.management import require_can_manage, require_security_manager
from listdock.security.policy import Access

router = APIRouter(tags=["tokens"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


def visible_token(
    services: ServicesDep, session: SessionDep, access: Access, token_id: str
) -> Token:
    """Return the token if the caller owns it or is a SecurityManager; else NotFoundError."""
    token = services.tokens.get(session, token_id)
    if token.principal_id != access.principal_id and not access.is_security_manager:
        raise NotFoundError("Token not found", code="token_not_found")
    return token


@router.get("/token/{TokenId}", response_model=TokenOut, responses=ERRORS)
def read_token(
    TokenId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> TokenOut:
    services.usage.flush()
    token = visible_token(services, session, access, TokenId)
    session.refresh(token)
    return TokenOut.of(token)


@router.patch("/token/{TokenId}", response_model=TokenOut, responses=ERRORS)
def update_token(
    TokenId: str,  # noqa: N803
    body: TokenPatchIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> TokenOut:
    """Rename, disable or enable a token; enabling needs a SecurityManager."""
    token = visible_token(services, session, access, TokenId)
    enabling = body.Status == "Active" and token.status != "Active"
    if enabling or token.principal_id != access.principal_id:
        require_can_manage(session, access, token.principal_id)
    services.tokens.update(
        session, token, name=body.Name, status=body.Status, actor_id=caller.principal_id
    )
    session.commit()
    return TokenOut.of(token)


@router.delete("/token/{TokenId}", response_model=TokenOut, responses=ERRORS)
def revoke_token(
    TokenId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> TokenOut:
    """Revoke a token for good; it is refused from the next request on."""
    token = visible_token(services, session, access, TokenId)
    if token.principal_id != access.principal_id:
        require_can_manage(session, access, token.principal_id)
    services.tokens.revoke(session, token, actor_id=caller.principal_id)
    session.commit()
    return TokenOut.of(token)


@router.post("/token/{TokenId}/rotate", response_model=TokenEnvelopeOut, responses=ERRORS)
def rotate_token(
    TokenId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    body: RotateIn | None = None,
) -> TokenEnvelopeOut:
    """Give a token a new value; the old one stops at once or after ``GraceSeconds``."""
    require_security_manager(access)
    token = visible_token(services, session, access, TokenId)
    require_can_manage(session, access, token.principal_id)
    issued = services.tokens.rotate(
        session,
        token,
        grace_seconds=body.GraceSeconds if body else 0,
        actor_id=caller.principal_id,
    )
    session.commit()
    return TokenEnvelopeOut(Token=NewTokenOut.of(issued))
