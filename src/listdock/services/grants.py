"""Connector grants to one user, API user or team.

A grant names connector roles and, for each of companies, lists, details and actions, either
``"all"`` or a list of ids. Every id must name an object of the connector: a company, a list,
a detail whose source list is in the connector, or an action defined on one of its lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.domain.models import (
    Action,
    Company,
    ConnectorGrant,
    Entity,
    EntityRelationship,
    Role,
)
from listdock.errors import InvalidInputError
from listdock.services.audit import AuditLog


@dataclass(frozen=True)
class GrantSpec:
    roles: list[str]
    companies: Any
    lists: Any
    details: Any
    actions: Any


class GrantService:
    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    def find(
        self,
        session: Session,
        connector_id: str,
        *,
        principal_id: str | None = None,
        team_id: str | None = None,
    ) -> ConnectorGrant | None:
        """Return the grant of one principal or one team in a connector, or None."""
        statement = select(ConnectorGrant).where(ConnectorGrant.connector_id == connector_id)
        if principal_id is not None:
            statement = statement.where(ConnectorGrant.principal_id == principal_id)
        else:
            statement = statement.where(ConnectorGrant.team_id == team_id)
        return session.scalar(statement)

    def put(
        self,
        session: Session,
        connector_id: str,
        spec: GrantSpec,
        *,
        principal_id: str | None = None,
        team_id: str | None = None,
        actor_id: str | None,
    ) -> ConnectorGrant:
        """Create or replace the grant; raises InvalidInputError for unknown roles or ids."""
        roles = self._checked_roles(session, spec.roles)
        companies = self._checked_ids(
            session,
            "Companies",
            spec.companies,
            select(Company.id).where(Company.connector_id == connector_id),
        )
        lists = self._checked_ids(
            session,
            "Lists",
            spec.lists,
            select(Entity.id).where(Entity.connector_id == connector_id),
        )
        details = self._checked_ids(
            session,
            "Details",
            spec.details,
            select(EntityRelationship.id)
            .join(Entity, Entity.id == EntityRelationship.from_entity_id)
            .where(Entity.connector_id == connector_id),
        )
        actions = self._checked_ids(
            session,
            "Actions",
            spec.actions,
            select(Action.id)
            .join(Entity, Entity.id == Action.entity_id)
            .where(Entity.connector_id == connector_id),
        )

        grant = self.find(session, connector_id, principal_id=principal_id, team_id=team_id)
        if grant is None:
            grant = ConnectorGrant(
                connector_id=connector_id, principal_id=principal_id, team_id=team_id
            )
            session.add(grant)
        grant.roles = roles
        grant.companies = companies
        grant.lists = lists
        grant.details = details
        grant.actions = actions
        grant.modified = self._clock.now()
        session.flush()
        self._audit.record(
            "grant_changed",
            actor_id=actor_id,
            target=f"principal:{principal_id}" if principal_id else f"team:{team_id}",
            details={
                "connector_id": connector_id,
                "roles": roles,
                "companies": companies,
                "lists": lists,
                "details": details,
                "actions": actions,
            },
            session=session,
        )
        return grant

    def remove(self, session: Session, grant: ConnectorGrant, *, actor_id: str | None) -> None:
        target = (
            f"principal:{grant.principal_id}" if grant.principal_id else f"team:{grant.team_id}"
        )
        connector_id = grant.connector_id
        session.delete(grant)
        self._audit.record(
            "grant_removed",
            actor_id=actor_id,
            target=target,
            details={"connector_id": connector_id},
            session=session,
        )

    def _checked_roles(self, session: Session, names: list[str]) -> list[str]:
        known = {
            name.casefold(): name
            for name in session.scalars(select(Role.name).where(Role.scope == "connector"))
        }
        checked = []
        for name in names:
            found = known.get(str(name).casefold())
            if found is None:
                accepted = ", ".join(sorted(known.values()))
                raise InvalidInputError(
                    f"Unknown connector role {name!r}; use one of {accepted}",
                    code="unknown_role",
                )
            checked.append(found)
        return sorted(set(checked))

    def _checked_ids(self, session: Session, part: str, value: Any, valid_ids: Select[str]) -> Any:
        """Return ``"all"`` or the sorted, unique ids of ``value``.

        Raises InvalidInputError when ``value`` is neither ``"all"`` nor a list of strings, or
        when an id is not among those that ``valid_ids`` selects.
        """
        if value == "all":
            return "all"
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidInputError(f'{part} must be "all" or a list of ids', code="invalid_grant")
        known = set(session.scalars(valid_ids))
        for item in value:
            if item not in known:
                raise InvalidInputError(
                    f"{part} contains an id that is not in this connector: {item}",
                    code="unknown_grant_target",
                )
        return sorted(set(value))
