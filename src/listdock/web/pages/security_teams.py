"""Security pages for teams (members, roles, connector grants) and roles (custom ones)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from listdock.domain.models import Role, Team
from listdock.errors import InvalidInputError, ListdockError, PermissionDeniedError
from listdock.security import roles as role_definitions
from listdock.security.management import require_security_manager
from listdock.security.policy import Access
from listdock.services.grants import GrantSpec
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep, UserDep
from listdock.web.grant_forms import GrantFormDep, grant_error_message, grant_rows, submitted_spec
from listdock.web.pages.security_users import redirect
from listdock.web.sessions import WebUser

router = APIRouter(include_in_schema=False)


@router.get("/security/teams")
def teams_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    require_security_manager(access)
    teams = [
        (team, len(services.teams.members(session, team)))
        for team in services.teams.list_all(session)
    ]
    return services.pages.render(
        request, "pages/security_teams.html", {"teams": teams, "section": "teams"}, user=user
    )


@router.post("/security/teams")
def create_team(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    require_security_manager(access)
    try:
        team = services.teams.create(
            session, name=name, description=description, actor_id=user.principal_id
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        teams = [
            (t, len(services.teams.members(session, t))) for t in services.teams.list_all(session)
        ]
        return services.pages.render(
            request,
            "pages/security_teams.html",
            {
                "teams": teams,
                "section": "teams",
                "error": f"{failure.message}. Choose another name.",
            },
            user=user,
            status_code=400,
        )
    return redirect(f"/security/teams/{team.id}", "team_created")


@router.get("/security/teams/{team_id}")
def team_page(
    team_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    require_security_manager(access)
    team = services.teams.get(session, team_id)
    return _team_page(request, services, session, user, access, team)


def _team_page(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    user: WebUser,
    access: Access,
    team: Team,
    *,
    error: str | None = None,
    rejected_grant: tuple[str, GrantSpec] | None = None,
) -> Response:
    """Render a team's page. An ``error`` is shown above it with status 400.

    ``rejected_grant`` is the connector id and spec of a grant save that failed, which that
    connector's form shows in place of the stored grant.
    """
    members = services.teams.members(session, team)
    member_ids = {member.id for member in members}
    candidates = [p for p in services.principals.list_all(session) if p.id not in member_ids]
    assigned = set(services.teams.role_names(session, team))
    grants = grant_rows(
        services.grants,
        session,
        services.connectors.list_all(session),
        team_id=team.id,
        rejected=rejected_grant,
    )
    return services.pages.render(
        request,
        "pages/security_team.html",
        {
            "team": team,
            "members": members,
            "candidates": candidates,
            "roles": [
                (role, role.name in assigned)
                for role in session.scalars(
                    select(Role).where(Role.scope == "system").order_by(Role.name)
                )
            ],
            "connector_roles": list(
                session.scalars(
                    select(Role.name).where(Role.scope == "connector").order_by(Role.name)
                )
            ),
            "grants": grants,
            "can_grant_admin": access.is_administrator,
            "section": "teams",
            "error": error,
        },
        user=user,
        status_code=400 if error else 200,
    )


@router.post("/security/teams/{team_id}/members")
def change_member(
    team_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    principal_id: Annotated[str, Form()] = "",
    member: Annotated[str, Form()] = "1",
) -> Response:
    require_security_manager(access)
    team = services.teams.get(session, team_id)
    _require_not_admin_team(services, session, access.is_administrator, team)
    if member == "1":
        principal = services.principals.get(session, principal_id)
        services.teams.add_member(session, team, principal, actor_id=user.principal_id)
        done = "member_added"
    else:
        services.teams.remove_member(session, team, principal_id, actor_id=user.principal_id)
        done = "member_removed"
    session.commit()
    return redirect(f"/security/teams/{team.id}", done)


def _require_not_admin_team(
    services: ServicesDep, session: SessionDep, is_administrator: bool, team: Any
) -> None:
    if not is_administrator and "Administrator" in services.teams.role_names(session, team):
        raise PermissionDeniedError(
            "Only an Administrator can change a team with the Administrator role",
            code="cannot_manage",
        )


@router.post("/security/teams/{team_id}/roles")
def save_team_roles(
    team_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    require_security_manager(access)
    team = services.teams.get(session, team_id)
    _require_not_admin_team(services, session, access.is_administrator, team)
    wanted = roles or []
    if "Administrator" in wanted and not access.is_administrator:
        raise PermissionDeniedError(
            "Only an Administrator can grant the Administrator role", code="cannot_manage"
        )
    services.teams.assign_system_roles(session, team, wanted, actor_id=user.principal_id)
    session.commit()
    return redirect(f"/security/teams/{team.id}", "roles_saved")


@router.post("/security/teams/{team_id}/connectors/{connector_id}")
def save_team_grant(
    team_id: str,
    connector_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    form: GrantFormDep,
) -> Response:
    """Save or remove a team's grant in one connector (SecurityManager).

    A rejected grant shows the team's page again with the submitted boxes and saves nothing.
    """
    require_security_manager(access)
    team = services.teams.get(session, team_id)
    connector = services.connectors.get(session, connector_id)
    stored = services.grants.find(session, connector.id, team_id=team.id)
    if form.remove:
        if stored is not None:
            services.grants.remove(session, stored, actor_id=user.principal_id)
            session.commit()
        return redirect(f"/security/teams/{team.id}", "grant_removed")

    spec = submitted_spec(services.grants, session, connector.id, stored, form)
    try:
        services.grants.put(
            session, connector.id, spec, team_id=team.id, actor_id=user.principal_id
        )
        session.commit()
    except InvalidInputError as failure:
        session.rollback()
        return _team_page(
            request,
            services,
            session,
            user,
            access,
            team,
            error=grant_error_message(failure, connector),
            rejected_grant=(connector.id, spec),
        )
    return redirect(f"/security/teams/{team.id}", "grant_saved")


@router.post("/security/teams/{team_id}/delete")
def delete_team(
    team_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    require_security_manager(access)
    team = services.teams.get(session, team_id)
    _require_not_admin_team(services, session, access.is_administrator, team)
    services.teams.delete(session, team, actor_id=user.principal_id)
    session.commit()
    return redirect("/security/teams", "team_deleted")


@router.get("/security/roles")
def roles_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    require_security_manager(access)
    return services.pages.render(
        request,
        "pages/security_roles.html",
        {
            "roles": services.roles.list_all(session),
            "permissions": {
                "system": role_definitions.SYSTEM_PERMISSIONS,
                "connector": role_definitions.CONNECTOR_PERMISSIONS,
            },
            "section": "roles",
        },
        user=user,
    )


@router.post("/security/roles")
def create_role(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "system",
    permissions: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form()] = "",
) -> Response:
    require_security_manager(access)
    try:
        services.roles.create(
            session,
            name=name,
            scope=scope,
            permissions=permissions or [],
            description=description,
            actor_id=user.principal_id,
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return services.pages.render(
            request,
            "pages/security_roles.html",
            {
                "roles": services.roles.list_all(session),
                "permissions": {
                    "system": role_definitions.SYSTEM_PERMISSIONS,
                    "connector": role_definitions.CONNECTOR_PERMISSIONS,
                },
                "section": "roles",
                "error": f"{failure.message}. Correct it and try again.",
            },
            user=user,
            status_code=400,
        )
    return redirect("/security/roles", "role_created")


@router.post("/security/roles/{role_id}/delete")
def delete_role(
    role_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    require_security_manager(access)
    role = services.roles.get(session, role_id)
    services.roles.delete(session, role, actor_id=user.principal_id)
    session.commit()
    return redirect("/security/roles", "role_deleted")
