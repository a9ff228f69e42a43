"""Connector grants of a user, API user or team.

SecurityManagers manage every grant; a connector's administrators (including the Contributor
who added it) manage the grants of that connector.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Response

from listdock.api.deps import AccessDep, CallerDep, ServicesDep, SessionDep, visible_principal
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import GrantIn, GrantOut
from listdock.domain.models import Connector, ConnectorGrant
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


@dataclass(frozen=True)
class GrantHolder:
    """The user, API user or team that a grant belongs to. Set exactly one of the two ids."""

    principal_id: str | None = None
    team_id: str | None = None


def _find_grant(
    services: ServicesDep, session: SessionDep, connector_id: str, holder: GrantHolder
) -> ConnectorGrant:
    """Return the holder's grant in a connector, or raise NotFoundError if it has none there."""
    grant = services.grants.find(
        session, connector_id, principal_id=holder.principal_id, team_id=holder.team_id
    )
    if grant is None:
        raise NotFoundError("Grant not found", code="grant_not_found")
    return grant


def _read_grant(
    services: ServicesDep,
    session: SessionDep,
    access: Access,
    connector_id: str,
    holder: GrantHolder,
) -> GrantOut:
    """Return the holder's grant in a connector that the caller can see.

    Raises NotFoundError for a connector that the caller can neither see nor manage security
    for, and for a missing grant. The route must already have checked that the caller may see
    the holder.
    """
    _require_visible_connector(access, connector_id)
    return GrantOut.of(_find_grant(services, session, connector_id, holder))


def _save_grant(
    services: ServicesDep,
    session: SessionDep,
    connector_id: str,
    body: GrantIn,
    actor_id: str,
    holder: GrantHolder,
) -> GrantOut:
    """Create or replace the holder's grant in a connector, and commit.

    The route must already have checked that the caller manages the connector's grants and that
    the holder exists. Raises InvalidInputError for unknown roles or ids in ``body``.
    """
    grant = services.grants.put(
        session,
        connector_id,
        _spec(body),
        principal_id=holder.principal_id,
        team_id=holder.team_id,
        actor_id=actor_id,
    )
    session.commit()
    return GrantOut.of(grant)


def _delete_grant(
    services: ServicesDep,
    session: SessionDep,
    connector_id: str,
    actor_id: str,
    holder: GrantHolder,
) -> Response:
    """Remove the holder's grant in a connector, commit, and return an empty 204 response.

    The route must already have checked that the caller manages the connector's grants.
    Raises NotFoundError when the holder has no grant there.
    """
    grant = _find_grant(services, session, connector_id, holder)
    services.grants.remove(session, grant, actor_id=actor_id)
    session.commit()
    return Response(status_code=204)


@router.get("/user/{UserId}/connector/{ConnectorId}", response_model=GrantOut, responses=ERRORS)
def read_user_grant(
    UserId: str,  # noqa: N803
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> GrantOut:
    principal = visible_principal(session, access, UserId)
    return _read_grant(
        services, session, access, ConnectorId, GrantHolder(principal_id=principal.id)
    )


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
    return _save_grant(
        services,
        session,
        connector.id,
        body,
        caller.principal_id,
        GrantHolder(principal_id=principal.id),
    )


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
    return _delete_grant(
        services, session, connector.id, caller.principal_id, GrantHolder(principal_id=UserId)
    )


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
    return _read_grant(services, session, access, ConnectorId, GrantHolder(team_id=team.id))


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
    return _save_grant(
        services, session, connector.id, body, caller.principal_id, GrantHolder(team_id=team.id)
    )


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
    return _delete_grant(
        services, session, connector.id, caller.principal_id, GrantHolder(team_id=TeamId)
    )
