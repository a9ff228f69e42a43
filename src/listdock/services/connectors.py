"""Connectors and companies: creation with a connection test, discovery of lists, refresh.

Discovery turns each table and view of the first company into a built-in list (entity) with
its fields. Refresh rediscovers: new tables and columns are added, vanished ones are marked
``missing`` (so grants and settings that point at them survive a temporary change), and field
settings an administrator made (display name, hidden, default field) are kept.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.connectors.discovery import discover
from listdock.connectors.engines import (
    CONNECTOR_TYPES,
    ConnectionSettings,
    EnginePool,
    check_connection,
    create_source_engine,
)
from listdock.connectors.types import FieldType, TableInfo
from listdock.domain.models import Company, Connector, Entity, EntityField, EntityGroup
from listdock.errors import ConflictError, InvalidInputError, NotFoundError, SourceError
from listdock.security.secretbox import SecretBox
from listdock.services.audit import AuditLog
from listdock.services.relationship_discovery import apply_discovered_relationships

logger = logging.getLogger(__name__)

GROUP_NAMES = {"table": "Tables", "view": "Views"}


@dataclass(frozen=True)
class CompanySpec:
    name: str
    database_name: str


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    type: str
    settings: ConnectionSettings
    companies: tuple[CompanySpec, ...]


def api_name_for(display_name: str, taken: set[str]) -> str:
    """Return the display name without non-alphanumerics, made unique among ``taken``."""
    base = "".join(character for character in display_name if character.isalnum()) or "Field"
    candidate = base
    suffix = 2
    while candidate.casefold() in taken:
        candidate = f"{base}{suffix}"
        suffix += 1
    taken.add(candidate.casefold())
    return candidate


def singular_of(name: str) -> str:
    """Return a plain English singular of a list name (``Customers`` → ``Customer``)."""
    if re.search(r"ies$", name):
        return name[:-3] + "y"
    if re.search(r"[^s]s$", name):
        return name[:-1]
    return name


class ConnectorService:
    def __init__(
        self,
        clock: Clock,
        audit: AuditLog,
        secret_box: SecretBox,
        engines: EnginePool,
        connect_timeout: float,
        statement_timeout: float,
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._secret_box = secret_box
        self._engines = engines
        self._connect_timeout = connect_timeout
        self._statement_timeout = statement_timeout

    def __repr__(self) -> str:
        return "ConnectorService()"

    # Engines -----------------------------------------------------------------------------

    def connection_settings(self, connector: Connector) -> ConnectionSettings:
        password = None
        if connector.password_encrypted:
            password = self._secret_box.decrypt(connector.password_encrypted)
        return ConnectionSettings(
            host=connector.host,
            port=connector.port,
            username=connector.username,
            password=password,
        )

    def engine_for(self, connector: Connector, company: Company) -> Engine:
        """Return the pooled engine of one company; a changed connector gets a new engine."""
        key = (connector.id, company.id, connector.modified.isoformat())
        return self._engines.get(
            key,
            lambda: create_source_engine(
                connector.type,
                self.connection_settings(connector),
                company.database_name,
                connect_timeout=self._connect_timeout,
                statement_timeout=self._statement_timeout,
            ),
        )

    def _test_company(self, spec: ConnectorSpec, company: CompanySpec) -> list[TableInfo]:
        """Connect to one company and return its tables.

        A failed connection test is the requester's bad setting, so it raises
        InvalidInputError (``connection_failed``) with the source error's message, which names
        the cause (host, login, database or file) and never the password.
        """
        engine = create_source_engine(
            spec.type,
            spec.settings,
            company.database_name,
            connect_timeout=self._connect_timeout,
            statement_timeout=self._statement_timeout,
        )
        try:
            check_connection(engine, spec.type, spec.settings, company.database_name)
            return discover(engine)
        except SourceError as error:
            raise InvalidInputError(
                f"Connection test failed for company {company.name.strip()!r}: {error.message}",
                code="connection_failed",
            ) from error
        finally:
            engine.dispose()

    # Creation ----------------------------------------------------------------------------

    def create(self, session: Session, spec: ConnectorSpec, *, actor_id: str | None) -> Connector:
        """Test every company, then store the connector with its companies and lists.

        Raises InvalidInputError for a bad type, name or company list, ConflictError for a
        taken name, and SourceConnectionError (naming the cause) when a company fails.
        Nothing is stored unless every company connects.
        """
        name = spec.name.strip()
        if not name or len(name) > 200:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        if spec.type not in CONNECTOR_TYPES:
            raise InvalidInputError(
                f"Unknown connector type {spec.type!r}; use one of {', '.join(CONNECTOR_TYPES)}",
                code="invalid_connector_type",
            )
        if not spec.companies:
            raise InvalidInputError("A connector needs at least one company", code="no_companies")
        self._check_company_names(spec.companies)
        if session.scalar(select(Connector.id).where(Connector.name_normalized == name.casefold())):
            raise ConflictError("A connector with this name already exists", code="name_taken")

        tables: list[TableInfo] = []
        for index, company_spec in enumerate(spec.companies):
            discovered = self._test_company(spec, company_spec)
            if index == 0:
                tables = discovered

        now = self._clock.now()
        connector = Connector(
            name=name,
            name_normalized=name.casefold(),
            type=spec.type,
            host=spec.settings.host,
            port=spec.settings.port,
            username=spec.settings.username,
            password_encrypted=(
                self._secret_box.encrypt(spec.settings.password) if spec.settings.password else None
            ),
            created_by=actor_id,
            created=now,
            modified=now,
        )
        session.add(connector)
        session.flush()
        for company_spec in spec.companies:
            self._add_company_row(session, connector, company_spec)
        self._apply_discovery(session, connector, tables)
        self._audit.record(
            "connector_created",
            actor_id=actor_id,
            target=f"connector:{connector.id}",
            details={"name": name, "type": spec.type, "lists": len(tables)},
            session=session,
        )
        logger.info("Created connector %s with %d lists", connector.id, len(tables))
        return connector

    def _check_company_names(self, companies: tuple[CompanySpec, ...]) -> None:
        seen: set[str] = set()
        for company in companies:
            clean = company.name.strip()
            if not clean or len(clean) > 200:
                raise InvalidInputError(
                    "Company name must be 1 to 200 characters", code="invalid_company"
                )
            if not company.database_name.strip():
                raise InvalidInputError(
                    f"Company {clean!r} needs a DatabaseName", code="invalid_company"
                )
            if clean.casefold() in seen:
                raise ConflictError(f"Company {clean!r} is listed twice", code="name_taken")
            seen.add(clean.casefold())

    def _add_company_row(
        self, session: Session, connector: Connector, spec: CompanySpec
    ) -> Company:
        company = Company(
            connector_id=connector.id,
            name=spec.name.strip(),
            name_normalized=spec.name.strip().casefold(),
            database_name=spec.database_name.strip(),
            created=self._clock.now(),
        )
        session.add(company)
        session.flush()
        return company

    def add_company(
        self, session: Session, connector: Connector, spec: CompanySpec, *, actor_id: str | None
    ) -> Company:
        """Test and add one company to an existing connector."""
        self._check_company_names((spec,))
        taken = {company.name_normalized for company in connector.companies}
        if spec.name.strip().casefold() in taken:
            raise ConflictError("A company with this name already exists", code="name_taken")
        connector_spec = ConnectorSpec(
            name=connector.name,
            type=connector.type,
            settings=self.connection_settings(connector),
            companies=(spec,),
        )
        self._test_company(connector_spec, spec)
        company = self._add_company_row(session, connector, spec)
        self._audit.record(
            "company_created",
            actor_id=actor_id,
            target=f"company:{company.id}",
            session=session,
        )
        return company

    # Discovery ---------------------------------------------------------------------------

    def refresh(self, session: Session, connector: Connector, *, actor_id: str | None) -> int:
        """Rediscover the lists of ``connector`` from its first company; return their number."""
        if not connector.companies:
            raise InvalidInputError("The connector has no company", code="no_companies")
        company = connector.companies[0]
        engine = self.engine_for(connector, company)
        spec = ConnectorSpec(
            name=connector.name,
            type=connector.type,
            settings=self.connection_settings(connector),
            companies=(),
        )
        check_connection(engine, connector.type, spec.settings, company.database_name)
        tables = discover(engine)
        self._apply_discovery(session, connector, tables)
        self._audit.record(
            "connector_refreshed",
            actor_id=actor_id,
            target=f"connector:{connector.id}",
            details={"lists": len(tables)},
            session=session,
        )
        return len(tables)

    def _apply_discovery(
        self, session: Session, connector: Connector, tables: list[TableInfo]
    ) -> None:
        now = self._clock.now()
        groups = {
            group.name: group
            for group in session.scalars(
                select(EntityGroup).where(EntityGroup.connector_id == connector.id)
            )
        }
        for kind, group_name in GROUP_NAMES.items():
            if group_name not in groups and any(table.kind == kind for table in tables):
                group = EntityGroup(connector_id=connector.id, name=group_name)
                session.add(group)
                groups[group_name] = group
        session.flush()

        existing = {
            (entity.source_name, entity.type): entity
            for entity in session.scalars(
                select(Entity).where(Entity.connector_id == connector.id, Entity.type != "custom")
            )
        }
        seen: set[tuple[str, str]] = set()
        for table in tables:
            key: tuple[str, str] = (table.name, table.kind)
            seen.add(key)
            entity = existing.get(key)
            if entity is None:
                entity = Entity(
                    connector_id=connector.id,
                    group_id=groups[GROUP_NAMES[table.kind]].id,
                    name=table.name,
                    source_name=table.name,
                    type=table.kind,
                    item_name=table.name,
                    item_singular=singular_of(table.name),
                    created=now,
                    modified=now,
                )
                session.add(entity)
                session.flush()
            entity.missing = False
            entity.modified = now
            self._apply_fields(session, entity, table)
        for key, entity in existing.items():
            if key not in seen:
                entity.missing = True
                entity.modified = now
        session.flush()
        apply_discovered_relationships(session, connector, tables, now)

    def _apply_fields(self, session: Session, entity: Entity, table: TableInfo) -> None:
        by_source = {field.source_name: field for field in entity.fields}
        taken = {field.api_name.casefold() for field in entity.fields}
        present: set[str] = set()
        for position, column in enumerate(table.columns):
            present.add(column.name)
            field = by_source.get(column.name)
            if field is None:
                field = EntityField(
                    entity_id=entity.id,
                    source_name=column.name,
                    display_name=column.name,
                    api_name=api_name_for(column.name, taken),
                    default_field=column.type != FieldType.BINARY,
                    hidden=False,
                )
                entity.fields.append(field)
            field.type = column.type.value
            field.source_type = column.source_type[:100]
            field.nullable = column.nullable
            field.primary_key = column.primary_key
            field.decimal_places = column.decimal_places
            field.position = position
            field.missing = False
        for field in entity.fields:
            if field.source_name not in present:
                field.missing = True
        session.flush()

    # Reading -----------------------------------------------------------------------------

    def get(self, session: Session, connector_id: str) -> Connector:
        connector = session.get(Connector, connector_id)
        if connector is None:
            raise NotFoundError("Connector not found", code="connector_not_found")
        return connector

    def count_lists(self, session: Session, connector: Connector) -> int:
        """Return the number of lists of ``connector`` that exist in the source."""
        statement = select(func.count()).where(
            Entity.connector_id == connector.id, Entity.missing.is_(False)
        )
        return session.scalar(statement) or 0

    def list_all(self, session: Session) -> list[Connector]:
        return list(session.scalars(select(Connector).order_by(Connector.name)))
