"""Teams, their members, roles and connector grants are managed by SecurityManagers."""

from __future__ import annotations

from fastapi import APIRouter, Response

from listdock.api.deps import (
    AccessDep,
    CallerDep,
    ServicesDep,
    SessionDep,
    visible_principal,
)
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import (
    MemberIn,
    MemberOut,
    RolesIn,
    RolesOut,
    TeamIn,
    TeamOut,
    TeamPatchIn,
)
from listdock.domain.models import Team
from listdock.errors import NotFoundError, PermissionDeniedError
from listdock.security.management import require_security_manager
from listdock.security.policy import Access

router = APIRouter(tags=["teams"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


def visible_team(services: ServicesDep, session: SessionDep, access: Access, team_id: str) -> Team:
    """Return the team if the caller manages security or belongs to it; else NotFoundError."""
    team = services.teams.get(session, team_id)
    if not access.is_security_manager and team.id not in access.team_ids:
        raise NotFoundError("Team not found", code="team_not_found")
    return team


@router.get("/team", response_model=list[TeamOut])
def list_teams(access: AccessDep, services: ServicesDep, session: SessionDep) -> list[TeamOut]:
    """List teams: all of them for SecurityManagers, the caller's own otherwise."""
    teams = services.teams.list_all(session)
    if not access.is_security_manager:
        teams = [team for team in teams if team.id in access.team_ids]
    return [TeamOut.of(team) for team in teams]


@router.post("/team", response_model=TeamOut, status_code=201, responses=ERRORS)
def create_team(
    body: TeamIn, caller: CallerDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> TeamOut:
    require_security_manager(access)
    team = services.teams.create(
        session, name=body.Name, description=body.Description, actor_id=caller.principal_id
    )
    session.commit()
    return TeamOut.of(team)


@router.get("/team/{TeamId}", response_model=TeamOut, responses=ERRORS)
def read_team(
    TeamId: str,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> TeamOut:
    return TeamOut.of(visible_team(services, session, access, TeamId))


@router.patch("/team/{TeamId}", response_model=TeamOut, responses=ERRORS)
def update_team(
    TeamId: str,  # noqa: N803
    body: TeamPatchIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> TeamOut:
    require_security_manager(access)
    team = visible_team(services, session, access, TeamId)
    services.teams.update(
        session, team, name=body.Name, description=body.Description, actor_id=caller.principal_id
    )
    session.commit()
    return TeamOut.of(team)


@router.delete("/team/{TeamId}", status_code=204, responses=ERRORS)
def delete_team(
    TeamId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    require_security_manager(access)
    team = visible_team(services, session, access, TeamId)
    _require_not_admin_team(services, session, access, team)
    services.teams.delete(session, team, actor_id=caller.principal_id)
    session.commit()
    return Response(status_code=204)


def _require_not_admin_team(
    services: ServicesDep, session: SessionDep, access: Access, team: Team
) -> None:
    """Only Administrators change teams that hold the Administrator role."""
    if access.is_administrator:
        return
    if "Administrator" in services.teams.role_names(session, team):
        raise PermissionDeniedError(
            "Only an Administrator can change a team with the Administrator role",
            code="cannot_manage",
        )


@router.get("/team/{TeamId}/member", response_model=list[MemberOut], responses=ERRORS)
def list_members(
    TeamId: str,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> list[MemberOut]:
    team = visible_team(services, session, access, TeamId)
    return [MemberOut.of(member) for member in services.teams.members(session, team)]


@router.post("/team/{TeamId}/member", response_model=MemberOut, status_code=201, responses=ERRORS)
def add_member(
    TeamId: str,  # noqa: N803
    body: MemberIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> MemberOut:
    require_security_manager(access)
    team = visible_team(services, session, access, TeamId)
    _require_not_admin_team(services, session, access, team)
    principal = visible_principal(session, access, body.UserId)
    services.teams.add_member(session, team, principal, actor_id=caller.principal_id)
    session.commit()
    return MemberOut.of(principal)


@router.delete("/team/{TeamId}/member/{UserId}", status_code=204, responses=ERRORS)
def remove_member(
    TeamId: str,  # noqa: N803
    UserId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    require_security_manager(access)
    team = visible_team(services, session, access, TeamId)
    _require_not_admin_team(services, session, access, team)
    services.teams.remove_member(session, team, UserId, actor_id=caller.principal_id)
    session.commit()
    return Response(status_code=204)


@router.get("/team/{TeamId}/role", response_model=RolesOut, responses=ERRORS)
def read_team_roles(
    TeamId: str,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> RolesOut:
    team = visible_team(services, session, access, TeamId)
    return RolesOut(Roles=services.teams.role_names(session, team))


@router.put("/team/{TeamId}/role", response_model=RolesOut, responses=ERRORS)
def set_team_roles(
    TeamId: str,  # noqa: N803
    body: RolesIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RolesOut:
    require_security_manager(access)
    team = visible_team(services, session, access, TeamId)
    _require_not_admin_team(services, session, access, team)
    if (
        any(name.casefold() == "administrator" for name in body.Roles)
        and not access.is_administrator
    ):
        raise PermissionDeniedError(
            "Only an Administrator can grant the Administrator role", code="cannot_manage"
        )
    services.teams.assign_system_roles(session, team, body.Roles, actor_id=caller.principal_id)
    session.commit()
    return RolesOut(Roles=services.teams.role_names(session, team))
