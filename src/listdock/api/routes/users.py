"""Users and API users: creation (with an optional first token), changes, roles, tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response

from listdock.api.deps import (
    AccessDep,
    CallerDep,
    ServicesDep,
    SessionDep,
    visible_principal,
)
from listdock.api.schemas import ErrorOut, UserOut
from listdock.api.schemas_security import (
    CreatedUserOut,
    NewTokenOut,
    RolesIn,
    RolesOut,
    TokenEnvelopeOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserPatchIn,
)
from listdock.errors import InvalidInputError, PermissionDeniedError
from listdock.security.management import require_can_manage, require_security_manager

router = APIRouter(tags=["users"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


@router.get("/user", response_model=list[UserOut])
def list_users(access: AccessDep, services: ServicesDep, session: SessionDep) -> list[UserOut]:
    """List users and API users; callers without SecurityManager see only themselves."""
    principals = services.principals.list_all(session)
    if not access.is_security_manager:
        principals = [principal for principal in principals if principal.id == access.principal_id]
    return [UserOut.of(principal) for principal in principals]


@router.post("/user", response_model=CreatedUserOut, status_code=201, responses=ERRORS)
def create_user(
    body: UserIn, caller: CallerDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> CreatedUserOut:
    """Create a user (Email, Password) or an API user (optional TokenName for a first token)."""
    require_security_manager(access)
    if body.Kind == "user":
        if body.Email is None or body.Password is None:
            raise InvalidInputError("Users need Email and Password", code="missing_credentials")
        if body.TokenName is not None:
            raise InvalidInputError("TokenName applies to API users only", code="invalid_body")
        principal = services.principals.create_user(
            session,
            name=body.Name,
            email=body.Email,
            password=body.Password,
            actor_id=caller.principal_id,
        )
    else:
        if body.Email is not None or body.Password is not None:
            raise InvalidInputError(
                "API users have no Email or Password", code="api_user_credentials"
            )
        principal = services.principals.create_api_user(
            session, name=body.Name, actor_id=caller.principal_id
        )

    issued = None
    if body.TokenName is not None:
        account = services.accounts.get(session)
        issued = services.tokens.create(
            session,
            principal,
            body.TokenName,
            created_by=caller.principal_id,
            max_lifetime_days=account.max_token_lifetime_days,
        )
    session.commit()
    created = CreatedUserOut(**UserOut.of(principal).model_dump())
    if issued is not None:
        created.Token = NewTokenOut.of(issued)
    return created


@router.get("/user/{UserId}", response_model=UserOut, responses=ERRORS)
def read_user(
    UserId: str,  # noqa: N803
    access: AccessDep,
    session: SessionDep,
) -> UserOut:
    return UserOut.of(visible_principal(session, access, UserId))


@router.patch("/user/{UserId}", response_model=UserOut, responses=ERRORS)
def update_user(
    UserId: str,  # noqa: N803
    body: UserPatchIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> UserOut:
    """Rename, disable or enable a principal; disabling stops its tokens at once."""
    require_security_manager(access)
    principal = visible_principal(session, access, UserId)
    require_can_manage(session, access, principal.id)
    if body.Status == "Disabled" and principal.status == "Active":
        _keep_an_administrator(services, session, principal.id)
    services.principals.update(
        session, principal, name=body.Name, status=body.Status, actor_id=caller.principal_id
    )
    session.commit()
    return UserOut.of(principal)


@router.delete("/user/{UserId}", status_code=204, responses=ERRORS)
def delete_user(
    UserId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Delete a principal and its tokens."""
    require_security_manager(access)
    principal = visible_principal(session, access, UserId)
    require_can_manage(session, access, principal.id)
    _keep_an_administrator(services, session, principal.id)
    services.principals.delete(session, principal, actor_id=caller.principal_id)
    session.commit()
    return Response(status_code=204)


def _keep_an_administrator(services: ServicesDep, session: SessionDep, principal_id: str) -> None:
    """Raise ConflictError when the change would leave no active Administrator."""
    services.principals.require_other_administrator(session, principal_id)


@router.get("/user/{UserId}/role", response_model=RolesOut, responses=ERRORS)
def read_user_roles(
    UserId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RolesOut:
    principal = visible_principal(session, access, UserId)
    return RolesOut(Roles=services.principals.system_role_names(session, principal.id))


@router.put("/user/{UserId}/role", response_model=RolesOut, responses=ERRORS)
def set_user_roles(
    UserId: str,  # noqa: N803
    body: RolesIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RolesOut:
    """Replace a principal's system roles; only Administrators grant Administrator."""
    require_security_manager(access)
    principal = visible_principal(session, access, UserId)
    require_can_manage(session, access, principal.id)
    wants_admin = any(name.casefold() == "administrator" for name in body.Roles)
    if wants_admin and not access.is_administrator:
        raise PermissionDeniedError(
            "Only an Administrator can grant the Administrator role", code="cannot_manage"
        )
    was_admin = "Administrator" in services.principals.system_role_names(session, principal.id)
    if was_admin and not wants_admin:
        _keep_an_administrator(services, session, principal.id)
    services.principals.assign_system_roles(
        session, principal, body.Roles, actor_id=caller.principal_id
    )
    session.commit()
    return RolesOut(Roles=services.principals.system_role_names(session, principal.id))


@router.get("/user/{UserId}/token", response_model=list[TokenOut], responses=ERRORS)
def list_user_tokens(
    UserId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[TokenOut]:
    """List a principal's tokens (metadata only), for the owner and SecurityManagers."""
    principal = visible_principal(session, access, UserId)
    services.usage.flush()
    session.expire_all()
    return [
        TokenOut.of(token) for token in services.tokens.list_for_principal(session, principal.id)
    ]


@router.post(
    "/user/{UserId}/token", response_model=TokenEnvelopeOut, status_code=201, responses=ERRORS
)
def create_user_token(
    UserId: str,  # noqa: N803
    body: TokenIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> TokenEnvelopeOut:
    """Create a token for a principal; the response is the only place its value appears."""
    require_security_manager(access)
    principal = visible_principal(session, access, UserId)
    require_can_manage(session, access, principal.id)
    account = services.accounts.get(session)
    issued = services.tokens.create(
        session,
        principal,
        body.Name,
        created_by=caller.principal_id,
        expires_at=body.ExpiresAt,
        max_lifetime_days=account.max_token_lifetime_days,
    )
    session.commit()
    return TokenEnvelopeOut(Token=NewTokenOut.of(issued))
