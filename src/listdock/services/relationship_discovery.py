"""Details (relationships) created from the foreign keys that discovery finds.

A foreign key from ``Invoice.CustomerId`` to ``Customer.CustomerId`` becomes the detail
"Invoice" of the list Customer: from a customer record to its invoices. Discovery runs at
connector creation and on every refresh. A detail with the same lists and field pairs is never
created twice. Details whose lists or fields vanished stay, and their lists are marked missing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from listdock.connectors.types import TableInfo
from listdock.domain.models import (
    Connector,
    Entity,
    EntityRelationship,
    RelationshipField,
)

logger = logging.getLogger(__name__)


def apply_discovered_relationships(
    session: Session, connector: Connector, tables: list[TableInfo], now: datetime
) -> int:
    """Create a detail for each foreign key in ``tables`` that has none yet; return how many.

    Expects the connector's lists and fields to be stored already (``_apply_discovery``
    flushes them first). Foreign keys to tables outside the discovered lists are skipped.
    """
    entities = {
        entity.source_name: entity
        for entity in session.scalars(
            select(Entity)
            .where(Entity.connector_id == connector.id, Entity.type == "table")
            .options(selectinload(Entity.fields))
        )
    }
    existing = list(
        session.scalars(
            select(EntityRelationship)
            .where(EntityRelationship.connector_id == connector.id)
            .options(selectinload(EntityRelationship.fields))
        )
    )
    known = {_signature(relationship) for relationship in existing}
    taken = {(item.from_entity_id, item.name_normalized) for item in existing}

    created = 0
    for table in tables:
        to_entity = entities.get(table.name)
        if to_entity is None:
            continue
        to_fields = {field.source_name: field for field in to_entity.fields}
        for foreign_key in table.foreign_keys:
            from_entity = entities.get(foreign_key.referred_table)
            if from_entity is None:
                continue
            from_fields = {field.source_name: field for field in from_entity.fields}
            pairs = [
                (from_fields.get(referred), to_fields.get(column))
                for referred, column in zip(
                    foreign_key.referred_columns, foreign_key.columns, strict=True
                )
            ]
            resolved = [(source, target) for source, target in pairs if source and target]
            if not resolved or len(resolved) != len(pairs):
                continue
            signature = (
                from_entity.id,
                to_entity.id,
                tuple((source.id, target.id) for source, target in resolved),
            )
            if signature in known:
                continue
            known.add(signature)

            name = _free_name(
                taken, from_entity.id, to_entity.name, [column for column in foreign_key.columns]
            )
            relationship = EntityRelationship(
                connector_id=connector.id,
                name=name,
                name_normalized=name.casefold(),
                from_entity_id=from_entity.id,
                to_entity_id=to_entity.id,
                discovered=True,
                created=now,
            )
            for position, (source, target) in enumerate(resolved):
                relationship.fields.append(
                    RelationshipField(
                        position=position, from_field_id=source.id, to_field_id=target.id
                    )
                )
            session.add(relationship)
            created += 1
    session.flush()
    if created:
        logger.info("Discovered %d details in connector %s", created, connector.id)
    return created


def _signature(relationship: EntityRelationship) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return (
        relationship.from_entity_id,
        relationship.to_entity_id,
        tuple((field.from_field_id, field.to_field_id) for field in relationship.fields),
    )


def _free_name(
    taken: set[tuple[str, str]], from_entity_id: str, target_name: str, columns: list[str]
) -> str:
    """Return the target list's name, or with its key columns added when that is taken."""
    candidates = [target_name, f"{target_name} ({', '.join(columns)})"]
    number = 2
    while True:
        for candidate in candidates:
            if (from_entity_id, candidate.casefold()) not in taken:
                taken.add((from_entity_id, candidate.casefold()))
                return candidate
        candidates = [f"{target_name} ({', '.join(columns)}) {number}"]
        number += 1
