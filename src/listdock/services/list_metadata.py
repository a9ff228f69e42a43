"""A per-process cache of list metadata (a list's fields, its connector and companies).

Reading a list's metadata through the ORM costs several queries per data request. The cache
keeps a read-only snapshot per list and checks it against a stamp on every use. Two small
queries read the stamp. The first returns the list's and its connector's ``modified`` times
and the number of companies. The second returns every field's id, name, type and flags
(hidden, default, missing), so a field change reloads the snapshot even when it was written
with plain SQL. Changes made through the ORM to a field or a company also move the
``modified`` times forward (``stamp_list_changes``). Nothing that decides access is cached.

Snapshots are detached ORM objects: callers may read them but must never change them or add
them to a session.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, event, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from listdock.connectors.types import FieldType, SourceField
from listdock.domain.models import Company, Connector, Entity, EntityField
from listdock.errors import NotFoundError

logger = logging.getLogger(__name__)

MAX_ENTRIES = 2048


@dataclass(frozen=True)
class FieldIndex:
    """A list's visible fields (neither hidden nor missing), indexed for resolving requests.

    ``by_api`` is keyed by the casefolded ApiName, and ``source`` gives each visible field's
    ``SourceField`` by EntityFieldId.
    """

    visible: tuple[EntityField, ...]
    by_id: dict[str, EntityField]
    by_api: dict[str, EntityField]
    source: dict[str, SourceField]
    defaults: tuple[EntityField, ...]
    keys: tuple[SourceField, ...]

    @classmethod
    def of(cls, fields: list[EntityField] | tuple[EntityField, ...]) -> FieldIndex:
        """Index the visible ones of ``fields``, in their order."""
        visible = tuple(field for field in fields if not field.hidden and not field.missing)
        source = {
            field.id: SourceField(
                column=field.source_name,
                api_name=field.api_name,
                label=field.display_name,
                type=FieldType(field.type),
            )
            for field in visible
        }
        return cls(
            visible=visible,
            by_id={field.id: field for field in visible},
            by_api={field.api_name.casefold(): field for field in visible},
            source=source,
            defaults=tuple(field for field in visible if field.default_field),
            keys=tuple(source[field.id] for field in visible if field.primary_key),
        )


@dataclass(frozen=True)
class ListMetadata:
    """A list with its fields, and its connector with its companies, as read at ``stamp``."""

    entity: Entity
    connector: Connector
    stamp: tuple[Any, ...]
    fields: FieldIndex


def _stamp_statement() -> Select[*tuple[Any, ...]]:
    """Build, once, the query of a list's stamp; it takes the bound ``entity_id``."""
    company_count = (
        select(func.count(Company.id))
        .where(Company.connector_id == Entity.connector_id)
        .scalar_subquery()
    )
    entity_id: BindParameter[str] = bindparam("entity_id")
    return (
        select(Entity.modified, Entity.missing, Connector.modified, company_count)
        .join(Connector, Connector.id == Entity.connector_id)
        .where(Entity.id == entity_id)
    )


def _field_stamp_statement() -> Select[*tuple[Any, ...]]:
    """Build, once, the query of a list's field flags; it takes the bound ``entity_id``."""
    entity_id: BindParameter[str] = bindparam("entity_id")
    return (
        select(
            EntityField.id,
            EntityField.api_name,
            EntityField.display_name,
            EntityField.type,
            EntityField.hidden,
            EntityField.default_field,
            EntityField.missing,
            EntityField.position,
        )
        .where(EntityField.entity_id == entity_id)
        .order_by(EntityField.id)
    )


_STAMP = _stamp_statement()
_FIELD_STAMP = _field_stamp_statement()


class ListMetadataCache:
    """Thread-safe snapshots of list metadata, validated against the store on every use."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: dict[str, ListMetadata] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, entity_id: str) -> ListMetadata:
        """Return the current metadata; raises NotFoundError for an unknown or vanished list."""
        parameters = {"entity_id": entity_id}
        session.flush()  # Core execution below does not autoflush pending field changes.
        connection = session.connection()
        row = connection.execute(_STAMP, parameters).first()
        if row is None or row[1]:
            raise NotFoundError("List not found", code="entity_not_found")
        stamp = (*row, *(tuple(field) for field in connection.execute(_FIELD_STAMP, parameters)))

        cached = self._entries.get(entity_id)
        if cached is not None and cached.stamp == stamp:
            return cached

        entity = session.get(
            Entity, entity_id, options=[selectinload(Entity.fields)], populate_existing=True
        )
        if entity is None:
            raise NotFoundError("List not found", code="entity_not_found")
        connector = session.get(
            Connector,
            entity.connector_id,
            options=[selectinload(Connector.companies)],
            populate_existing=True,
        )
        if connector is None:
            raise NotFoundError("List not found", code="entity_not_found")
        session.expunge(entity)
        session.expunge(connector)
        metadata = ListMetadata(
            entity=entity, connector=connector, stamp=stamp, fields=FieldIndex.of(entity.fields)
        )
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[entity_id] = metadata
        return metadata


def stamp_list_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Move a list's or connector's ``modified`` forward when its fields or companies change.

    Runs before every flush of the store's sessions (see ``install_change_stamps``).
    """
    now = datetime.now(UTC)
    for instance in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(instance, EntityField) and instance.entity_id:
            entity = session.get(Entity, instance.entity_id)
            if entity is not None and entity not in session.deleted:
                entity.modified = now
        elif isinstance(instance, Company) and instance.connector_id:
            connector = session.get(Connector, instance.connector_id)
            if connector is not None and connector not in session.deleted:
                connector.modified = now


def install_change_stamps(sessions: sessionmaker[Session]) -> None:
    """Make every session of ``sessions`` stamp list and connector changes before flushing."""
    event.listen(sessions, "before_flush", stamp_list_changes)
