"""Connector grants of a user, API user or team.

SecurityManagers manage every grant; a connector's administrators (including the Contributor
who added it) manage the grants of that connector.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from listdock.api.deps import AccessDep, CallerDep, ServicesDep, SessionDep, visible_principal
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import GrantIn, GrantOut
from listdock.domain.models import Connector
from listdock.errors import NotFoundError, PermissionDeniedError
from listdock.security.policy import Access, load_access
from listdock.services.grants import GrantSpec

router = APIRouter(tags=["grants"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}


def managed_connector(
    services: ServicesDep, session: SessionDep, access: Access, connector_id: str
) -> Connector:
    """Return the connector if the caller may manage its grants.

    SecurityManagers manage the grants of every connector, whether or not they were granted
    anything in it. Anyone else must administer the connector, or gets PermissionDeniedError
    (``missing_role``) before the connector is looked up, so the answer reveals nothing about
    which connectors exist. Raises NotFoundError for a connector that does not exist.
    """
    if not (access.is_security_manager or access.administers_connector(connector_id)):
        raise PermissionDeniedError(
            "The SecurityManager role or connector Administrator role is required",
            code="missing_role",
        )
    return services.connectors.get(session, connector_id)


def _require_visible_connector(access: Access, connector_id: str) -> None:
    """Raise NotFoundError unless the caller manages security or can see the connector."""
    if not (access.is_security_manager or access.sees_connector(connector_id)):
        raise NotFoundError("Connector not found", code="connector_not_found")


def _spec(body: GrantIn) -> GrantSpec:
    return GrantSpec(
        roles=body.Roles,
        companies=body.Companies,
        lists=body.Lists,
        details=body.Details,
        actions=body.Actions,
    )


def _require_manageable_target(session: SessionDep, access: Access, principal_id: str) -> None:
    if access.is_administrator:
        return
    if load_access(session, principal_id).is_administrator:
        raise PermissionDeniedError(
            "Only an Administrator can manage an Administrator", code="cannot_manage"
        )


@router.get("/user/{UserId}/connector/{ConnectorId}", response_model=GrantOut, responses=ERRORS)
def read_user_grant(
    UserId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> GrantOut:
    principal = visible_principal(session, access, UserId)
    _require_visible_connector(access, ConnectorId)
    grant = services.grants.find(session, ConnectorId, principal_id=principal.id)
    if grant is None:
        raise NotFoundError("Grant not found", code="grant_not_found")
    return GrantOut.of(grant)


@router.put("/user/{UserId}/connector/{ConnectorId}", response_model=GrantOut, responses=ERRORS)
def put_user_grant(
    UserId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    body: GrantIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> GrantOut:
    """Create or replace what a user or API user is granted in a connector."""
    connector = managed_connector(services, session, access, ConnectorId)
    principal = services.principals.get(session, UserId)
    _require_manageable_target(session, access, principal.id)
    grant = services.grants.put(
        session, connector.id, _spec(body), principal_id=principal.id, actor_id=caller.principal_id
    )
    session.commit()
    return GrantOut.of(grant)


@router.delete("/user/{UserId}/connector/{ConnectorId}", status_code=204, responses=ERRORS)
def delete_user_grant(
    UserId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    connector = managed_connector(services, session, access, ConnectorId)
    _require_manageable_target(session, access, UserId)
    grant = services.grants.find(session, connector.id, principal_id=UserId)
    if grant is None:
        raise NotFoundError("Grant not found", code="grant_not_found")
    services.grants.remove(session, grant, actor_id=caller.principal_id)
    session.commit()
    return Response(status_code=204)


@router.get("/team/{TeamId}/connector/{ConnectorId}", response_model=GrantOut, responses=ERRORS)
def read_team_grant(
    TeamId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> GrantOut:
    team = services.teams.get(session, TeamId)
    if not access.is_security_manager and team.id not in access.team_ids:
        raise NotFoundError("Team not found", code="team_not_found")
    _require_visible_connector(access, ConnectorId)
    grant = services.grants.find(session, ConnectorId, team_id=team.id)
    if grant is None:
        raise NotFoundError("Grant not found", code="grant_not_found")
    return GrantOut.of(grant)


@router.put("/team/{TeamId}/connector/{ConnectorId}", response_model=GrantOut, responses=ERRORS)
def put_team_grant(
    TeamId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    body: GrantIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> GrantOut:
    """Create or replace what a team is granted in a connector."""
    connector = managed_connector(services, session, access, ConnectorId)
    team = services.teams.get(session, TeamId)
    grant = services.grants.put(
        session, connector.id, _spec(body), team_id=team.id, actor_id=caller.principal_id
    )
    session.commit()
    return GrantOut.of(grant)


@router.delete("/team/{TeamId}/connector/{ConnectorId}", status_code=204, responses=ERRORS)
def delete_team_grant(
    TeamId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    connector = managed_connector(services, session, access, ConnectorId)
    grant = services.grants.find(session, connector.id, team_id=TeamId)
    if grant is None:
        raise NotFoundError("Grant not found", code="grant_not_found")
    services.grants.remove(session, grant, actor_id=caller.principal_id)
    session.commit()
    return Response(status_code=204)
