"""Favorites: saved views of a list (fields, restrictions, order, page size).

A favorite belongs to the user who made it and may be shared with teams. Its owner, the members
of a team it is shared with, and Administrators can read it; only its owner and Administrators
can change or delete it. Creating one needs the ApiReader, Developer or Administrator role;
sharing with teams needs Developer or Administrator.

A favorite's definition is checked against the list's visible fields when it is saved, and
again when it is read: a field hidden or vanished since then disappears from the output, and a
restriction or ordering on such a field makes the favorite fail with a ConflictError instead of
being dropped (dropping a restriction would widen the result).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.connectors.query import Restriction, normalize_restriction
from listdock.domain.models import Company, Entity, EntityField, Favorite, FavoriteTeam, Team
from listdock.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from listdock.security import roles
from listdock.security.policy import Access
from listdock.services.data import (
    DataService,
    FieldRef,
    OrderSpec,
    RestrictionSpec,
    source_field,
)

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class RestrictionInput:
    entity_field_id: str
    operator: str
    value: Any


@dataclass(frozen=True)
class OrderInput:
    entity_field_id: str
    descending: bool = False


@dataclass(frozen=True)
class FavoriteSpec:
    """A new favorite; empty ``fields`` means the list's default fields."""

    name: str
    entity_id: str
    company_id: str | None = None
    fields: tuple[str, ...] = ()
    restrictions: tuple[RestrictionInput, ...] = ()
    order_by: tuple[OrderInput, ...] = ()
    max_records: int | None = None
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class FavoritePatch:
    """Changes to a favorite; None leaves a setting as it is."""

    name: str | None = None
    company_id: str | None = None
    fields: tuple[str, ...] | None = None
    restrictions: tuple[RestrictionInput, ...] | None = None
    order_by: tuple[OrderInput, ...] | None = None
    max_records: int | None = None
    teams: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FavoriteView:
    """A favorite resolved against its list as it is now, ready to become a data request.

    ``fields`` are the favorite's fields that are still visible, in the favorite's order;
    they are the only fields its readers may see, filter or sort.
    """

    favorite: Favorite
    entity: Entity
    fields: tuple[EntityField, ...]
    restrictions: tuple[RestrictionSpec, ...]
    order_by: tuple[OrderSpec, ...]

    @property
    def field_refs(self) -> tuple[FieldRef, ...]:
        return tuple(FieldRef(field.id, by_id=True) for field in self.fields)


class FavoriteService:
    def __init__(self, clock: Clock, data: DataService) -> None:
        self._clock = clock
        self._data = data

    def __repr__(self) -> str:
        return "FavoriteService()"

    # Reading -----------------------------------------------------------------------------

    def get_visible(self, session: Session, access: Access, favorite_id: str) -> Favorite:
        """Return the favorite if the caller owns it, shares a team with it, or administers.

        Raises NotFoundError otherwise, exactly as for an unknown id.
        """
        favorite = session.get(Favorite, favorite_id)
        if favorite is None or not self._reads(session, access, favorite):
            raise NotFoundError("Favorite not found", code="favorite_not_found")
        return favorite

    def get_owned(self, session: Session, access: Access, favorite_id: str) -> Favorite:
        """Return the favorite if the caller owns it or is an Administrator.

        Raises NotFoundError for a favorite the caller cannot read, and PermissionDeniedError
        (``not_owner``) for one shared with the caller but owned by someone else.
        """
        favorite = self.get_visible(session, access, favorite_id)
        if favorite.owner_id != access.principal_id and not access.is_administrator:
            raise PermissionDeniedError(
                "Only the owner of a favorite can change it", code="not_owner"
            )
        return favorite

    def list_visible(
        self, session: Session, access: Access, entity_id: str | None = None
    ) -> list[Favorite]:
        """Return the caller's own favorites and those shared with the caller's teams."""
        statement = select(Favorite).order_by(Favorite.name, Favorite.id)
        if entity_id is not None:
            statement = statement.where(Favorite.entity_id == entity_id)
        shared = select(FavoriteTeam.favorite_id).where(FavoriteTeam.team_id.in_(access.team_ids))
        statement = statement.where(
            or_(Favorite.owner_id == access.principal_id, Favorite.id.in_(shared))
        )
        return list(session.scalars(statement))

    def team_ids(self, session: Session, favorite_id: str) -> list[str]:
        return sorted(
            session.scalars(
                select(FavoriteTeam.team_id).where(FavoriteTeam.favorite_id == favorite_id)
            )
        )

    def _reads(self, session: Session, access: Access, favorite: Favorite) -> bool:
        if access.is_administrator or favorite.owner_id == access.principal_id:
            return True
        return bool(set(self.team_ids(session, favorite.id)) & access.team_ids)

    def view(self, session: Session, favorite: Favorite) -> FavoriteView:
        """Resolve a favorite against its list's current fields.

        Raises NotFoundError (``favorite_list_missing``) when the list was deleted or has
        vanished from the source, and ConflictError (``favorite_field_unavailable``) when a
        restriction or ordering uses a field that is no longer visible.
        """
        if favorite.entity_id is None:
            raise NotFoundError(
                "The favorite's list no longer exists", code="favorite_list_missing"
            )
        try:
            entity = self._data.load_entity(session, favorite.entity_id)
        except NotFoundError:
            raise NotFoundError(
                "The favorite's list no longer exists", code="favorite_list_missing"
            ) from None
        visible = {field.id: field for field in self._data.visible_fields(entity)}

        if favorite.fields:
            fields = tuple(visible[field_id] for field_id in favorite.fields if field_id in visible)
        else:
            fields = tuple(field for field in visible.values() if field.default_field)
        if not fields:
            raise ConflictError(
                "None of the favorite's fields is visible any more",
                code="favorite_field_unavailable",
            )

        def available(field_id: str) -> EntityField:
            field = visible.get(field_id)
            if field is None:
                raise ConflictError(
                    "The favorite uses a field that is no longer available",
                    code="favorite_field_unavailable",
                )
            return field

        restrictions = tuple(
            RestrictionSpec(
                field=FieldRef(available(item["EntityFieldId"]).id, by_id=True),
                operator=item["Operator"],
                value=item.get("Value"),
            )
            for item in favorite.restrictions or []
        )
        order_by = tuple(
            OrderSpec(
                field=FieldRef(available(item["EntityFieldId"]).id, by_id=True),
                descending=bool(item.get("Descending")),
            )
            for item in favorite.order_by or []
        )
        return FavoriteView(favorite, entity, fields, restrictions, order_by)

    # Changing ----------------------------------------------------------------------------

    def create(self, session: Session, access: Access, spec: FavoriteSpec) -> Favorite:
        """Save a favorite owned by the caller.

        Raises PermissionDeniedError (``missing_role``) without ApiReader, Developer or
        Administrator, or when sharing with teams without Developer; NotFoundError for a list,
        company or team that does not exist or that the caller cannot see; InvalidInputError
        for a bad name, field, operator, value or MaxRecords.
        """
        if not (access.has(roles.READ_API) or access.has(roles.DEVELOP)):
            raise PermissionDeniedError(
                "The ApiReader or Developer role is required", code="missing_role"
            )
        entity = self._visible_entity(session, access, spec.entity_id)
        now = self._clock.now()
        favorite = Favorite(
            name=self._checked_name(spec.name),
            owner_id=access.principal_id,
            entity_id=entity.id,
            company_id=self._checked_company(session, access, entity, spec.company_id),
            max_records=self._checked_max_records(spec.max_records),
            created=now,
            modified=now,
        )
        self._apply_definition(entity, favorite, spec.fields, spec.restrictions, spec.order_by)
        session.add(favorite)
        session.flush()
        self._share(session, access, favorite, spec.teams)
        logger.info("Favorite %s created on list %s", favorite.id, entity.id)
        return favorite

    def update(
        self, session: Session, access: Access, favorite_id: str, patch: FavoritePatch
    ) -> Favorite:
        """Apply ``patch`` to a favorite the caller owns (or any, for an Administrator).

        Raises what ``get_owned`` and ``create`` raise, and NotFoundError
        (``favorite_list_missing``) when the favorite's list no longer exists.
        """
        favorite = self.get_owned(session, access, favorite_id)
        if favorite.entity_id is None:
            raise NotFoundError(
                "The favorite's list no longer exists", code="favorite_list_missing"
            )
        entity = self._visible_entity(session, access, favorite.entity_id)
        if patch.name is not None:
            favorite.name = self._checked_name(patch.name)
        if patch.company_id is not None:
            favorite.company_id = self._checked_company(session, access, entity, patch.company_id)
        if patch.max_records is not None:
            favorite.max_records = self._checked_max_records(patch.max_records)
        if patch.fields is not None or patch.restrictions is not None or patch.order_by is not None:
            self._apply_definition(
                entity,
                favorite,
                patch.fields if patch.fields is not None else tuple(favorite.fields),
                (
                    patch.restrictions
                    if patch.restrictions is not None
                    else tuple(
                        RestrictionInput(item["EntityFieldId"], item["Operator"], item.get("Value"))
                        for item in favorite.restrictions
                    )
                ),
                (
                    patch.order_by
                    if patch.order_by is not None
                    else tuple(
                        OrderInput(item["EntityFieldId"], bool(item.get("Descending")))
                        for item in favorite.order_by
                    )
                ),
            )
        if patch.teams is not None:
            self._share(session, access, favorite, patch.teams)
        favorite.modified = self._clock.now()
        session.flush()
        return favorite

    def delete(self, session: Session, access: Access, favorite_id: str) -> None:
        """Delete a favorite the caller owns; endpoints over it then report it missing."""
        favorite = self.get_owned(session, access, favorite_id)
        session.delete(favorite)
        session.flush()
        logger.info("Favorite %s deleted", favorite_id)

    # Checks ------------------------------------------------------------------------------

    def _visible_entity(self, session: Session, access: Access, entity_id: str) -> Entity:
        entity = self._data.load_entity(session, entity_id)
        if not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")
        return entity

    def _checked_name(self, name: str) -> str:
        clean = name.strip()
        if not clean or len(clean) > MAX_NAME_LENGTH:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        return clean

    def _checked_company(
        self, session: Session, access: Access, entity: Entity, company_id: str | None
    ) -> str | None:
        if company_id is None:
            return None
        company = session.get(Company, company_id)
        if (
            company is None
            or company.connector_id != entity.connector_id
            or not access.sees_company(entity.connector_id, company.id)
        ):
            raise NotFoundError("Company not found", code="company_not_found")
        return company.id

    def _checked_max_records(self, max_records: int | None) -> int | None:
        if max_records is None:
            return None
        return self._data.checked_max_records(max_records)

    def _apply_definition(
        self,
        entity: Entity,
        favorite: Favorite,
        fields: tuple[str, ...],
        restrictions: tuple[RestrictionInput, ...],
        order_by: tuple[OrderInput, ...],
    ) -> None:
        """Check fields, restrictions and ordering against the list's visible fields, then store.

        Raises InvalidInputError naming an unknown field, a bad operator or a bad value.
        """
        visible = {field.id: field for field in self._data.visible_fields(entity)}

        def known(field_id: str) -> EntityField:
            field = visible.get(field_id)
            if field is None:
                raise InvalidInputError(f"Unknown field {field_id}", code="unknown_field")
            return field

        if len(set(fields)) != len(fields):
            raise InvalidInputError("Fields lists a field twice", code="duplicate_field")
        for field_id in fields:
            known(field_id)
        for restriction in restrictions:
            normalize_restriction(
                Restriction(
                    field=source_field(known(restriction.entity_field_id)),
                    operator=restriction.operator,
                    value=restriction.value,
                )
            )
        for order in order_by:
            known(order.entity_field_id)

        favorite.fields = list(fields)
        favorite.restrictions = [
            {"EntityFieldId": item.entity_field_id, "Operator": item.operator, "Value": item.value}
            for item in restrictions
        ]
        favorite.order_by = [
            {"EntityFieldId": item.entity_field_id, "Descending": item.descending}
            for item in order_by
        ]

    def _share(
        self, session: Session, access: Access, favorite: Favorite, team_ids: tuple[str, ...]
    ) -> None:
        """Replace the teams a favorite is shared with; adding a team needs Developer."""
        current = set(self.team_ids(session, favorite.id))
        wanted = set(team_ids)
        if wanted - current:
            access.require(roles.DEVELOP, "Developer")
        for team_id in wanted - current:
            if session.get(Team, team_id) is None:
                raise NotFoundError("Team not found", code="team_not_found")
            session.add(FavoriteTeam(favorite_id=favorite.id, team_id=team_id))
        for team_id in current - wanted:
            link = session.get(FavoriteTeam, (favorite.id, team_id))
            if link is not None:
                session.delete(link)
        session.flush()
