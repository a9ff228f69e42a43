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

from sqlalchemy import BindParameter, bindparam, or_, select, union_all
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
    """The rights of a principal in one connector, all grants combined."""

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


def _access_statements() -> dict[str, Any]:
    """Build the statements of ``load_access`` once; each takes the bound ``principal_id``."""
    principal: BindParameter[str] = bindparam("principal_id")
    member_of = select(TeamMember.team_id).where(TeamMember.principal_id == principal)
    # Every role with a flag telling whether the principal has it directly or through a
    # team. The roles table is small, and the same query also returns the connector roles.
    assigned = union_all(
        select(PrincipalRole.role_id).where(PrincipalRole.principal_id == principal),
        select(TeamRole.role_id).where(TeamRole.team_id.in_(member_of)),
    )
    return {
        "teams": select(TeamMember.team_id).where(TeamMember.principal_id == principal),
        "roles": select(
            Role.name, Role.scope, Role.permissions, Role.id.in_(assigned).label("assigned")
        ),
        "grants": select(
            ConnectorGrant.connector_id,
            ConnectorGrant.roles,
            ConnectorGrant.companies,
            ConnectorGrant.lists,
            ConnectorGrant.details,
            ConnectorGrant.actions,
        ).where(
            or_(ConnectorGrant.principal_id == principal, ConnectorGrant.team_id.in_(member_of))
        ),
        "created": select(Connector.id).where(Connector.created_by == principal),
    }


# Built once: constructing SQLAlchemy statements costs more than running these small queries.
_STATEMENTS = _access_statements()


def load_access(session: Session, principal_id: str) -> Access:
    """Return the effective rights of ``principal_id`` as stored now (three or four queries)."""
    parameters = {"principal_id": principal_id}
    # Core execution on the session's connection, since the ORM layer adds nothing for plain
    # rows. Core execution does not autoflush, so pending role or grant changes go first.
    session.flush()
    connection = session.connection()
    team_ids = set(connection.execute(_STATEMENTS["teams"], parameters).scalars())

    system_roles: set[str] = set()
    system_permissions: set[str] = set()
    connector_roles: dict[str, set[str]] = {}
    for name, scope, permissions, assigned in connection.execute(_STATEMENTS["roles"], parameters):
        if scope == "connector":
            connector_roles[name] = set(permissions or [])
        elif assigned:
            system_roles.add(name)
            system_permissions.update(permissions or [])

    connectors: dict[str, ConnectorAccess] = {}
    grant_rows = connection.execute(_STATEMENTS["grants"], parameters)
    for connector_id, role_names, companies, lists, details, actions in grant_rows:
        access = connectors.setdefault(connector_id, ConnectorAccess())
        for role_name in role_names or []:
            access.role_names.add(role_name)
            access.permissions.update(connector_roles.get(role_name, set()))
        access.companies.add(companies)
        access.lists.add(lists)
        access.details.add(details)
        access.actions.add(actions)

    created: set[str] = set()
    # Administrators administer every connector already, so only Contributors need the query.
    if roles.ADD_CONNECTORS in system_permissions and "Administrator" not in system_roles:
        created = set(connection.execute(_STATEMENTS["created"], parameters).scalars())
    return Access(
        principal_id=principal_id,
        system_roles=system_roles,
        system_permissions=system_permissions,
        team_ids=team_ids,
        connectors=connectors,
        created_connectors=created,
    )
