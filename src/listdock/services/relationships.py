"""Details (relationships): related rows of another list of the same connector.

A detail joins a record of its source list to the rows of its target list through field
pairs: the target rows whose ``to`` fields equal the record's ``from`` fields. Reading a
detail's rows takes the record's key values by the from-fields' ApiNames. Details are found
from foreign keys (``relationship_discovery``) or added by a connector Administrator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from listdock.clock import Clock
from listdock.domain.models import (
    EntityField,
    EntityRelationship,
    RelationshipField,
)
from listdock.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from listdock.security.policy import Access
from listdock.services.data import DataService, FieldRef, RestrictionSpec
from listdock.services.grants import remove_grant_targets

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class FieldPair:
    from_field_id: str
    to_field_id: str


@dataclass(frozen=True)
class RelationshipSpec:
    name: str
    to_entity_id: str
    fields: tuple[FieldPair, ...]


@dataclass(frozen=True)
class KeyField:
    """One key pair of a detail, resolved to the current fields of both lists."""

    source: EntityField
    target: EntityField


class RelationshipService:
    def __init__(self, clock: Clock, data: DataService) -> None:
        self._clock = clock
        self._data = data

    def __repr__(self) -> str:
        return "RelationshipService()"

    # Reading -----------------------------------------------------------------------------

    def get_visible(
        self, session: Session, access: Access, relationship_id: str
    ) -> EntityRelationship:
        """Return a detail the caller is granted and whose source list it sees.

        Raises NotFoundError otherwise, exactly as for an unknown id.
        """
        relationship = session.get(
            EntityRelationship, relationship_id, options=[selectinload(EntityRelationship.fields)]
        )
        if relationship is None or not self._sees(access, relationship):
            raise NotFoundError("Detail not found", code="relationship_not_found")
        return relationship

    def list_for_entity(
        self, session: Session, access: Access, entity_id: str
    ) -> list[EntityRelationship]:
        """Return the details of a list that the caller may see, by name.

        Raises NotFoundError when the caller cannot see the list.
        """
        entity = self._data.load_entity(session, entity_id)
        if not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")
        relationships = session.scalars(
            select(EntityRelationship)
            .where(EntityRelationship.from_entity_id == entity.id)
            .options(selectinload(EntityRelationship.fields))
            .order_by(EntityRelationship.name, EntityRelationship.id)
        )
        return [item for item in relationships if self._sees(access, item)]

    def _sees(self, access: Access, relationship: EntityRelationship) -> bool:
        return access.sees_detail(relationship.connector_id, relationship.id) and access.sees_list(
            relationship.connector_id, relationship.from_entity_id
        )

    def key_fields(self, session: Session, relationship: EntityRelationship) -> list[KeyField]:
        """Return the detail's field pairs as they are now.

        Raises NotFoundError (``entity_not_found``) when either list vanished, and
        ConflictError (``relationship_field_unavailable``) when a key field is hidden or gone.
        """
        source = self._data.load_entity(session, relationship.from_entity_id)
        target = self._data.load_entity(session, relationship.to_entity_id)
        source_fields = {field.id: field for field in self._data.visible_fields(source)}
        target_fields = {field.id: field for field in self._data.visible_fields(target)}
        pairs = []
        for pair in relationship.fields:
            from_field = source_fields.get(pair.from_field_id)
            to_field = target_fields.get(pair.to_field_id)
            if from_field is None or to_field is None:
                raise ConflictError(
                    "The detail uses a field that is no longer available",
                    code="relationship_field_unavailable",
                )
            pairs.append(KeyField(from_field, to_field))
        return pairs

    def restrictions(
        self, keys: Sequence[KeyField], arguments: Sequence[tuple[str, str]]
    ) -> tuple[RestrictionSpec, ...]:
        """Return the equality restrictions on the target list for one source record.

        ``arguments`` are the query values other than the reserved names; each must be a
        from-field's ApiName (case-insensitively), and every from-field must be given.
        Raises InvalidInputError naming the parameter and listing the accepted ones.
        """
        by_name = {key.source.api_name.casefold(): key for key in keys}
        accepted = ", ".join(key.source.api_name for key in keys)
        values: dict[str, str] = {}
        for name, value in arguments:
            key = by_name.get(name.casefold())
            if key is None:
                raise InvalidInputError(
                    f"Unknown parameter {name}; accepted: {accepted}", code="unknown_parameter"
                )
            if key.source.api_name in values:
                raise InvalidInputError(
                    f"Parameter {key.source.api_name} is given more than once",
                    code="duplicate_parameter",
                )
            values[key.source.api_name] = value
        for key in keys:
            if values.get(key.source.api_name, "") == "":
                raise InvalidInputError(
                    f"Missing parameter {key.source.api_name}; accepted: {accepted}",
                    code="missing_parameter",
                )
        return tuple(
            RestrictionSpec(
                field=FieldRef(key.target.id, by_id=True),
                operator="eq",
                value=values[key.source.api_name],
            )
            for key in keys
        )

    # Changing ----------------------------------------------------------------------------

    def create(
        self, session: Session, access: Access, from_entity_id: str, spec: RelationshipSpec
    ) -> EntityRelationship:
        """Add a detail from one list to another of the same connector.

        Needs connector Administrator or system Administrator (PermissionDeniedError
        ``missing_role``). Raises NotFoundError for a list the caller cannot see,
        InvalidInputError for a bad name, a list of another connector or unknown fields, and
        ConflictError when the source list already has a detail of that name.
        """
        source = self._data.load_entity(session, from_entity_id)
        if not access.sees_list(source.connector_id, source.id):
            raise NotFoundError("List not found", code="entity_not_found")
        if not access.administers_connector(source.connector_id):
            raise PermissionDeniedError(
                "The connector Administrator role is required", code="missing_role"
            )
        try:
            target = self._data.load_entity(session, spec.to_entity_id)
        except NotFoundError:
            raise InvalidInputError(
                f"Unknown list {spec.to_entity_id}", code="unknown_entity"
            ) from None
        if target.connector_id != source.connector_id:
            raise InvalidInputError(
                "A detail must join two lists of the same connector", code="unknown_entity"
            )

        name = spec.name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        clash = session.scalar(
            select(EntityRelationship.id).where(
                EntityRelationship.from_entity_id == source.id,
                EntityRelationship.name_normalized == name.casefold(),
            )
        )
        if clash is not None:
            raise ConflictError("A detail with this name already exists", code="name_taken")
        if not spec.fields:
            raise InvalidInputError("Fields needs at least one field pair", code="no_fields")

        source_fields = {field.id for field in self._data.visible_fields(source)}
        target_fields = {field.id for field in self._data.visible_fields(target)}
        for pair in spec.fields:
            if pair.from_field_id not in source_fields:
                raise InvalidInputError(
                    f"Unknown field {pair.from_field_id} in the source list", code="unknown_field"
                )
            if pair.to_field_id not in target_fields:
                raise InvalidInputError(
                    f"Unknown field {pair.to_field_id} in the target list", code="unknown_field"
                )

        relationship = EntityRelationship(
            connector_id=source.connector_id,
            name=name,
            name_normalized=name.casefold(),
            from_entity_id=source.id,
            to_entity_id=target.id,
            discovered=False,
            created=self._clock.now(),
        )
        for position, pair in enumerate(spec.fields):
            relationship.fields.append(
                RelationshipField(
                    position=position,
                    from_field_id=pair.from_field_id,
                    to_field_id=pair.to_field_id,
                )
            )
        session.add(relationship)
        session.flush()
        logger.info("Detail %s added from list %s to %s", relationship.id, source.id, target.id)
        return relationship

    def delete(self, session: Session, access: Access, relationship_id: str) -> None:
        """Delete a detail and remove its id from every grant.

        Needs connector Administrator (PermissionDeniedError).
        """
        relationship = session.get(EntityRelationship, relationship_id)
        if relationship is None or not (
            self._sees(access, relationship)
            or access.administers_connector(relationship.connector_id)
        ):
            raise NotFoundError("Detail not found", code="relationship_not_found")
        if not access.administers_connector(relationship.connector_id):
            raise PermissionDeniedError(
                "The connector Administrator role is required", code="missing_role"
            )
        remove_grant_targets(
            session, relationship.connector_id, now=self._clock.now(), details=[relationship.id]
        )
        session.delete(relationship)
        session.flush()
