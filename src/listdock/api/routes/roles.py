"""Roles: built-in ones are read-only; custom ones are built from the permission list."""

from __future__ import annotations

from fastapi import APIRouter, Response

from listdock.api.deps import (
    AccessDep,
    CallerDep,
    ServicesDep,
    SessionDep,
)
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import RoleIn, RoleOut, RolePatchIn
from listdock.security.management import require_security_manager

router = APIRouter(tags=["roles"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


@router.get("/role", response_model=list[RoleOut])
def list_roles(caller: CallerDep, services: ServicesDep, session: SessionDep) -> list[RoleOut]:
    return [RoleOut.of(role) for role in services.roles.list_all(session)]


@router.get("/role/{RoleId}", response_model=RoleOut, responses=ERRORS)
def read_role(
    RoleId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> RoleOut:
    return RoleOut.of(services.roles.get(session, RoleId))


@router.post("/role", response_model=RoleOut, status_code=201, responses=ERRORS)
def create_role(
    body: RoleIn, caller: CallerDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> RoleOut:
    require_security_manager(access)
    role = services.roles.create(
        session,
        name=body.Name,
        scope=body.Scope,
        permissions=body.Permissions,
        description=body.Description,
        actor_id=caller.principal_id,
    )
    session.commit()
    return RoleOut.of(role)


@router.patch("/role/{RoleId}", response_model=RoleOut, responses=ERRORS)
def update_role(
    RoleId: str,  # noqa: N803
    body: RolePatchIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RoleOut:
    require_security_manager(access)
    role = services.roles.get(session, RoleId)
    services.roles.update(
        session,
        role,
        name=body.Name,
        permissions=body.Permissions,
        description=body.Description,
        actor_id=caller.principal_id,
    )
    session.commit()
    return RoleOut.of(role)


@router.delete("/role/{RoleId}", status_code=204, responses=ERRORS)
def delete_role(
    RoleId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    require_security_manager(access)
    role = services.roles.get(session, RoleId)
    services.roles.delete(session, role, actor_id=caller.principal_id)
    session.commit()
    return Response(status_code=204)
