"""Effective rights of a principal, loaded fresh from the store on every request.

Evaluation order:

1. System roles: the union of the principal's direct roles and its teams' roles. The
   Administrator role allows everything.
2. Connector grants: per connector, the union of the principal's direct grant and every grant
   of its teams. Each grant part (companies, lists, details, actions) is ``"all"`` or a set of
   ids; the union of ``"all"`` with anything is ``"all"``. Connector roles in a grant add their
   permissions within that connector only.
3. A Contributor who added a connector is that connector's Administrator.

Nothing here is cached across requests, so every role, team and grant change applies to the
very next request in every process that shares the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from listdock.domain.models import (
    Connector,
    ConnectorGrant,
    PrincipalRole,
    Role,
    TeamMember,
    TeamRole,
)
from listdock.errors import NotFoundError, PermissionDeniedError
from listdock.security import roles

ALL: Final = "all"


@dataclass
class IdSet:
    """A grant part: every id (``everything``) or the ids in ``ids``."""

    everything: bool = False
    ids: set[str] = field(default_factory=set)

    def add(self, value: Any) -> None:
        if value == ALL:
            self.everything = True
        elif isinstance(value, list):
            self.ids.update(str(item) for item in value)

    def __contains__(self, item: object) -> bool:
        return self.everything or item in self.ids


@dataclass
class ConnectorAccess:
    """What a principal may do in one connector, all grants combined."""

    role_names: set[str] = field(default_factory=set)
    permissions: set[str] = field(default_factory=set)
    companies: IdSet = field(default_factory=IdSet)
    lists: IdSet = field(default_factory=IdSet)
    details: IdSet = field(default_factory=IdSet)
    actions: IdSet = field(default_factory=IdSet)

    @property
    def administers(self) -> bool:
        return roles.CONNECTOR_ADMINISTER in self.permissions


@dataclass
class Access:
    """The effective rights of one principal at one moment."""

    principal_id: str
    system_roles: set[str]
    system_permissions: set[str]
    team_ids: set[str]
    connectors: dict[str, ConnectorAccess]
    created_connectors: set[str]

    @property
    def is_administrator(self) -> bool:
        return "Administrator" in self.system_roles

    @property
    def is_security_manager(self) -> bool:
        return self.is_administrator or roles.MANAGE_SECURITY in self.system_permissions

    def has(self, permission: str) -> bool:
        return self.is_administrator or permission in self.system_permissions

    def require(self, permission: str, role_name: str) -> None:
        """Raise PermissionDeniedError (``missing_role``) unless the permission is held."""
        if not self.has(permission):
            raise PermissionDeniedError(f"The {role_name} role is required", code="missing_role")

    def connector(self, connector_id: str) -> ConnectorAccess | None:
        return self.connectors.get(connector_id)

    def administers_connector(self, connector_id: str) -> bool:
        if self.is_administrator or connector_id in self.created_connectors:
            return True
        grant = self.connectors.get(connector_id)
        return grant is not None and grant.administers

    def sees_connector(self, connector_id: str) -> bool:
        return self.administers_connector(connector_id) or connector_id in self.connectors

    def sees_list(self, connector_id: str, entity_id: str) -> bool:
        """Return whether the list's existence and fields are visible (Reader or more)."""
        if self.administers_connector(connector_id):
            return True
        grant = self.connectors.get(connector_id)
        if grant is None or entity_id not in grant.lists:
            return False
        return bool(grant.permissions & {roles.CONNECTOR_SEE_LISTS, roles.CONNECTOR_VIEW_DATA})

    def reads_list_data(self, connector_id: str, entity_id: str) -> bool:
        if self.administers_connector(connector_id):
            return True
        grant = self.connectors.get(connector_id)
        return (
            grant is not None
            and entity_id in grant.lists
            and roles.CONNECTOR_VIEW_DATA in grant.permissions
        )

    def sees_company(self, connector_id: str, company_id: str) -> bool:
        if self.administers_connector(connector_id):
            return True
        grant = self.connectors.get(connector_id)
        return grant is not None and company_id in grant.companies

    def has_connector_permission(self, connector_id: str, permission: str) -> bool:
        if self.administers_connector(connector_id):
            return True
        grant = self.connectors.get(connector_id)
        return grant is not None and permission in grant.permissions

    def runs_action(self, connector_id: str, action_id: str) -> bool:
        if self.administers_connector(connector_id):
            return True
        grant = self.connectors.get(connector_id)
        return (
            grant is not None
            and action_id in grant.actions
            and roles.CONNECTOR_VIEW_DATA in grant.permissions
        )

    def require_list_data(self, connector_id: str, entity_id: str, company_id: str) -> None:
        """Raise unless the principal may read this list's rows in this company.

        An invisible list or company is a NotFoundError, exactly like one that does not exist;
        a list that is visible (Reader) but whose data is not granted is a
        PermissionDeniedError with code ``no_data_grant``.
        """
        if not self.sees_list(connector_id, entity_id):
            raise NotFoundError("List not found", code="entity_not_found")
        if not self.sees_company(connector_id, company_id):
            raise NotFoundError("Company not found", code="company_not_found")
        if not self.reads_list_data(connector_id, entity_id):
            raise PermissionDeniedError(
                "No grant allows reading this list's data", code="no_data_grant"
            )

    def sees_detail(self, connector_id: str, relationship_id: str) -> bool:
        if self.administers_connector(connector_id):
            return True
        grant = self.connectors.get(connector_id)
        return grant is not None and relationship_id in grant.details


def load_access(session: Session, principal_id: str) -> Access:
    """Return the effective rights of ``principal_id`` as stored now (three to four queries)."""
    team_ids = set(
        session.scalars(select(TeamMember.team_id).where(TeamMember.principal_id == principal_id))
    )

    direct_roles = (
        select(Role.name, Role.scope, Role.permissions)
        .join(PrincipalRole, PrincipalRole.role_id == Role.id)
        .where(PrincipalRole.principal_id == principal_id)
    )
    team_roles = (
        select(Role.name, Role.scope, Role.permissions)
        .join(TeamRole, TeamRole.role_id == Role.id)
        .where(TeamRole.team_id.in_(team_ids))
    )
    role_rows = list(session.execute(direct_roles))
    if team_ids:
        role_rows.extend(session.execute(team_roles))
    system_roles: set[str] = set()
    system_permissions: set[str] = set()
    for name, scope, permissions in role_rows:
        if scope == "system":
            system_roles.add(name)
            system_permissions.update(permissions or [])

    grant_filter = ConnectorGrant.principal_id == principal_id
    if team_ids:
        grant_filter = or_(grant_filter, ConnectorGrant.team_id.in_(team_ids))
    grants = list(session.scalars(select(ConnectorGrant).where(grant_filter)))
    connector_roles = {}
    if any(grant.roles for grant in grants):
        connector_roles = {
            name: set(permissions or [])
            for name, permissions in session.execute(
                select(Role.name, Role.permissions).where(Role.scope == "connector")
            )
        }
    connectors: dict[str, ConnectorAccess] = {}
    for grant in grants:
        access = connectors.setdefault(grant.connector_id, ConnectorAccess())
        for role_name in grant.roles or []:
            access.role_names.add(role_name)
            access.permissions.update(connector_roles.get(role_name, set()))
        access.companies.add(grant.companies)
        access.lists.add(grant.lists)
        access.details.add(grant.details)
        access.actions.add(grant.actions)

    created: set[str] = set()
    if roles.ADD_CONNECTORS in system_permissions:
        created = set(
            session.scalars(select(Connector.id).where(Connector.created_by == principal_id))
        )
    return Access(
        principal_id=principal_id,
        system_roles=system_roles,
        system_permissions=system_permissions,
        team_ids=team_ids,
        connectors=connectors,
        created_connectors=created,
    )
