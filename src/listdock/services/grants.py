"""Connector grants to one user, API user or team.

A grant names connector roles and, for each of companies, lists, details and actions, either
``"all"`` or a list of ids. Every id must name an object of the connector: a company, a list,
a detail whose source list is in the connector, or an action defined on one of its lists.
Services that delete such an object call ``remove_grant_targets`` in the same transaction, so a
stored grant keeps naming only ids that ``GrantService.put`` accepts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
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


class UnknownGrantTargetError(InvalidInputError):
    """A grant names a connector role or an object id that does not exist.

    ``part`` is the grant part (``"roles"``, ``"companies"``, ``"lists"``, ``"details"`` or
    ``"actions"``) and ``value`` is the rejected role name or id, so callers can word their own
    message.
    """

    def __init__(self, message: str, *, part: str, value: str, code: str) -> None:
        super().__init__(message, code=code)
        self.part = part
        self.value = value


def target_ids(part: str, connector_id: str) -> Select[str]:
    """Return a query of the ids that the grant part ``part`` may name in a connector.

    Lists that discovery no longer finds (``Entity.missing``) are included, because a refresh
    that finds them again keeps their ids.
    """
    if part == "companies":
        return select(Company.id).where(Company.connector_id == connector_id)
    if part == "lists":
        return select(Entity.id).where(Entity.connector_id == connector_id)
    if part == "details":
        return (
            select(EntityRelationship.id)
            .join(Entity, Entity.id == EntityRelationship.from_entity_id)
            .where(Entity.connector_id == connector_id)
        )
    if part == "actions":
        return (
            select(Action.id)
            .join(Entity, Entity.id == Action.entity_id)
            .where(Entity.connector_id == connector_id)
        )
    raise ValueError(f"Unknown grant part {part!r}")


def remove_grant_targets(
    session: Session,
    connector_id: str,
    *,
    now: datetime,
    lists: Collection[str] = (),
    details: Collection[str] = (),
    actions: Collection[str] = (),
) -> int:
    """Remove the ids of deleted objects from every user and team grant in a connector.

    Call it in the transaction that deletes the objects. A part that is ``"all"`` stays
    ``"all"``. Sets ``modified`` on each grant it changes and returns how many it changed.

    NOTE: a concurrent ``put`` that checked its ids before the deletion committed can still
    store a deleted id. Web saves drop such ids, but a REST client's PUT-back then gets a 400.
    """
    removed = {"lists": set(lists), "details": set(details), "actions": set(actions)}
    changed = 0
    for grant in session.scalars(
        select(ConnectorGrant).where(ConnectorGrant.connector_id == connector_id)
    ):
        touched = False
        for part, ids in removed.items():
            current = getattr(grant, part)
            if not ids or not isinstance(current, list) or ids.isdisjoint(current):
                continue
            # A new list, not an in-place edit, so the JSON column is marked as changed.
            setattr(grant, part, [item for item in current if item not in ids])
            touched = True
        if touched:
            grant.modified = now
            changed += 1
    session.flush()
    return changed


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
        """Create or replace the grant.

        Raises UnknownGrantTargetError (an InvalidInputError) for an unknown role or an id that
        is not in the connector, and InvalidInputError for a part of the wrong shape.
        """
        roles = self._checked_roles(session, spec.roles)
        companies = self._checked_ids(session, connector_id, "companies", spec.companies)
        lists = self._checked_ids(session, connector_id, "lists", spec.lists)
        details = self._checked_ids(session, connector_id, "details", spec.details)
        actions = self._checked_ids(session, connector_id, "actions", spec.actions)

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
                raise UnknownGrantTargetError(
                    f"Unknown connector role {name!r}; use one of {accepted}",
                    part="roles",
                    value=str(name),
                    code="unknown_role",
                )
            checked.append(found)
        return sorted(set(checked))

    def existing_ids(
        self, session: Session, connector_id: str, part: str, ids: Collection[str]
    ) -> list[str]:
        """Return the sorted, unique ids of ``ids`` that the grant part ``part`` may name now."""
        known = set(session.scalars(target_ids(part, connector_id)))
        return sorted(known.intersection(ids))

    def _checked_ids(self, session: Session, connector_id: str, part: str, value: Any) -> Any:
        """Return ``"all"`` or the sorted, unique ids of ``value``.

        Raises InvalidInputError when ``value`` is neither ``"all"`` nor a list of strings, and
        UnknownGrantTargetError when an id is not among the ``target_ids`` of ``part``.
        """
        label = part.capitalize()
        if value == "all":
            return "all"
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidInputError(f'{label} must be "all" or a list of ids', code="invalid_grant")
        known = set(session.scalars(target_ids(part, connector_id)))
        for item in value:
            if item not in known:
                raise UnknownGrantTargetError(
                    f"{label} contains an id that is not in this connector: {item}",
                    part=part,
                    value=item,
                    code="unknown_grant_target",
                )
        return sorted(set(value))
