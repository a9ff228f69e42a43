"""Reading list data: resolving fields, companies and restrictions into a source query.

``DataService.prepare`` validates a request against the list's visible fields (hidden and
vanished fields are treated as unknown, so they can be neither returned nor used) and returns a
``PreparedQuery`` that runs on the company's pooled engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, selectinload

from listdock.connectors.formats import FORMATS
from listdock.connectors.query import (
    Ordering,
    Restriction,
    SourceField,
    SourceQuery,
    count_rows,
    normalize_restriction,
    stream_rows,
)
from listdock.connectors.types import FieldType
from listdock.domain.models import Company, Connector, Entity, EntityField
from listdock.errors import InvalidInputError, NotFoundError
from listdock.security.policy import Access
from listdock.services.connectors import ConnectorService
from listdock.services.list_metadata import FieldIndex, ListMetadata, ListMetadataCache

if TYPE_CHECKING:
    from listdock.services.custom_lists import CustomListService

logger = logging.getLogger(__name__)

MAX_SKIP = 2**62


@dataclass(frozen=True)
class FieldRef:
    """A field named by its ``EntityFieldId`` (``by_id``) or by its ``ApiName``."""

    value: str
    by_id: bool = False


@dataclass(frozen=True)
class RestrictionSpec:
    field: FieldRef
    operator: str
    value: Any


@dataclass(frozen=True)
class OrderSpec:
    field: FieldRef
    descending: bool = False


@dataclass(frozen=True)
class DataRequest:
    """A request for the rows of one list; empty ``fields`` means the list's default fields."""

    entity_id: str
    company_id: str | None = None
    fields: tuple[FieldRef, ...] = ()
    restrictions: tuple[RestrictionSpec, ...] = ()
    order_by: tuple[OrderSpec, ...] = ()
    skip: int = 0
    max_records: int | None = None
    format: str = "json"
    count: bool = False
    # Query values that may set a custom list's variables, matched by name.
    variables: tuple[tuple[str, str], ...] = ()


@dataclass
class PreparedQuery:
    """A validated query bound to one company's engine."""

    entity: Entity
    company: Company
    engine: Engine
    query: SourceQuery
    format: str
    count: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[SourceField, ...]:
        return self.query.fields

    def count_rows(self) -> int:
        """Return the number of rows the restrictions match, ignoring paging."""
        return count_rows(self.engine, self.query)

    def stream(self) -> Iterator[tuple[Any, ...]]:
        """Yield the page's rows; the source connection is released when iteration ends."""
        return stream_rows(self.engine, self.query)

    def has_more_after(self, limit: int) -> bool:
        """Return whether at least one row follows the page (one extra single-row query)."""
        probe = SourceQuery(
            table=self.query.table,
            fields=self.query.key_fields or self.query.fields[:1],
            restrictions=self.query.restrictions,
            order_by=self.query.order_by,
            key_fields=self.query.key_fields,
            skip=self.query.skip + limit,
            limit=1,
        )
        return any(True for _ in stream_rows(self.engine, probe))


def source_field(entity_field: EntityField) -> SourceField:
    return SourceField(
        column=entity_field.source_name,
        api_name=entity_field.api_name,
        label=entity_field.display_name,
        type=FieldType(entity_field.type),
    )


class DataService:
    def __init__(
        self,
        connectors: ConnectorService,
        default_max_records: int,
        max_records_limit: int,
        custom_lists: CustomListService | None = None,
        metadata: ListMetadataCache | None = None,
    ) -> None:
        self._connectors = connectors
        self._metadata = metadata or ListMetadataCache()
        self._default_max_records = default_max_records
        self._max_records_limit = max_records_limit
        self._custom_lists = custom_lists

    @property
    def max_records_limit(self) -> int:
        return self._max_records_limit

    def load_entity(self, session: Session, entity_id: str) -> Entity:
        """Return the list with its fields; raises NotFoundError for unknown or vanished lists."""
        entity = session.get(Entity, entity_id, options=[selectinload(Entity.fields)])
        if entity is None or entity.missing:
            raise NotFoundError("List not found", code="entity_not_found")
        return entity

    def read_only_entity(self, session: Session, entity_id: str) -> Entity:
        """Return the list with its fields from the per-process metadata cache.

        The object is shared between requests: read it, never change it. Raises NotFoundError
        for an unknown or vanished list.
        """
        return self._metadata.get(session, entity_id).entity

    def resolve_company(
        self, session: Session | None, connector: Connector, company_id: str | None
    ) -> Company:
        """Return the named company, or the only one when none is named.

        Raises InvalidInputError when none is named and the connector has several, and
        NotFoundError when the id is not one of the connector's companies.
        """
        companies = connector.companies
        if company_id is None or company_id == "":
            if len(companies) == 1:
                return companies[0]
            raise InvalidInputError(
                "company is required because this connector has several companies",
                code="company_required",
            )
        for company in companies:
            if company.id == company_id:
                return company
        raise NotFoundError("Company not found", code="company_not_found")

    def visible_fields(self, entity: Entity) -> list[EntityField]:
        return [field for field in entity.fields if not field.hidden and not field.missing]

    def prepare(
        self, session: Session, request: DataRequest, access: Access | None = None
    ) -> PreparedQuery:
        """Validate ``request`` and bind it to its company's engine.

        With ``access``, the caller must be allowed to read the list in the company (see
        ``Access.require_list_data``). A list or company it may not see is a NotFoundError
        raised before anything else about the list is checked.
        Raises NotFoundError for an unknown list or company, and InvalidInputError (or its
        InvalidValueError subclass naming the field) for unknown fields, bad operators,
        values of the wrong type, bad paging values or an unknown format.
        """
        limit = self.checked_paging(request)
        return self.bind(
            self._metadata.get(session, request.entity_id), request, access, limit, session
        )

    def metadata(self, session: Session, entity_id: str) -> ListMetadata:
        """Return a list's current metadata; raises NotFoundError for unknown or vanished lists."""
        return self._metadata.get(session, entity_id)

    def checked_paging(self, request: DataRequest) -> int:
        """Check the request's format, MaxRecords and skip, and return the page size to use.

        Raises InvalidInputError for an unknown format or a bad paging value.
        """
        if request.format not in FORMATS:
            raise InvalidInputError(
                f"Unknown format {request.format!r}; use one of {', '.join(FORMATS)}",
                code="invalid_format",
            )
        limit = self.checked_max_records(request.max_records)
        if request.skip < 0 or request.skip > MAX_SKIP:
            raise InvalidInputError("skip must be a non-negative integer", code="invalid_skip")
        return limit

    def bind(
        self,
        metadata: ListMetadata,
        request: DataRequest,
        access: Access | None,
        limit: int,
        session: Session | None = None,
    ) -> PreparedQuery:
        """Validate ``request`` against ``metadata`` and bind it to its company's engine.

        ``limit`` comes from ``checked_paging``. A custom list needs ``session`` (its
        definition is read from the store); raises ValueError without one. Raises what
        ``prepare`` raises after its paging checks.
        """
        entity, connector = metadata.entity, metadata.connector
        if access is not None and not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")
        company = self.resolve_company(session, connector, request.company_id)
        if access is not None:
            access.require_list_data(entity.connector_id, entity.id, company.id)
        index = metadata.fields
        table = entity.source_name
        fixed: tuple[Restriction, ...] = ()
        if entity.type == "custom" and self._custom_lists is not None:
            if session is None:
                raise ValueError("Binding a custom list needs a store session")
            # A custom list reads its base table, always with its fixed restrictions.
            custom = self._custom_lists.source_for(session, entity, dict(request.variables))
            table, fixed = custom.table, custom.restrictions
            index = FieldIndex.of(
                [field for field in index.visible if field.source_name in custom.columns]
            )
        by_id, by_api, source = index.by_id, index.by_api, index.source

        def resolve(ref: FieldRef) -> SourceField:
            found = by_id.get(ref.value) if ref.by_id else by_api.get(ref.value.casefold())
            if found is None:
                raise InvalidInputError(f"Unknown field {ref.value}", code="unknown_field")
            return source[found.id]

        if request.fields:
            selected = tuple(resolve(ref) for ref in request.fields)
        else:
            selected = tuple(source[field.id] for field in index.defaults)
        if not selected:
            raise InvalidInputError("The list has no visible fields", code="no_fields")
        restrictions = fixed + tuple(
            normalize_restriction(
                Restriction(field=resolve(spec.field), operator=spec.operator, value=spec.value)
            )
            for spec in request.restrictions
        )
        order_by = tuple(
            Ordering(field=resolve(spec.field), descending=spec.descending)
            for spec in request.order_by
        )
        query = SourceQuery(
            table=table,
            fields=selected,
            restrictions=restrictions,
            order_by=order_by,
            key_fields=index.keys,
            skip=request.skip,
            limit=limit,
        )
        return PreparedQuery(
            entity=entity,
            company=company,
            engine=self._connectors.engine_for(connector, company),
            query=query,
            format=request.format,
            count=request.count,
        )

    def checked_max_records(self, max_records: int | None) -> int:
        """Return the page size to use; raises InvalidInputError outside 1..the server maximum."""
        if max_records is None:
            return min(self._default_max_records, self._max_records_limit)
        if max_records < 1 or max_records > self._max_records_limit:
            raise InvalidInputError(
                f"MaxRecords must be between 1 and {self._max_records_limit}",
                code="invalid_max_records",
            )
        return max_records
