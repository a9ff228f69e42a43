"""ORM models of the metadata store.

Names follow the product: a principal is a user or an API user, an entity is a list, an entity
field is a column of a list. Identifiers are UUID strings so that ids never reveal counts.
Every change to the schema goes through an Alembic migration in ``listdock/migrations``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from listdock.domain.types import JSONText, UTCDateTime


def new_id() -> str:
    """Return a new random UUID as text."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class Account(Base):
    """The one organisation of a deployment and its settings."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), default=new_id, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    max_token_lifetime_days: Mapped[int | None] = mapped_column(Integer)
    default_embed_origins: Mapped[list[str]] = mapped_column(JSONText, default=list)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)


class Principal(Base):
    """A user (``kind == "user"``, logs in with email and password) or an API user (``"api"``)."""

    __tablename__ = "principals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_normalized: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"Principal(id={self.id!r}, kind={self.kind!r}, name={self.name!r})"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    principal_id: Mapped[str] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Role(Base):
    """A named set of permissions; ``scope`` is ``system`` or ``connector``."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("scope", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    name_normalized: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))
    permissions: Mapped[list[str]] = mapped_column(JSONText, default=list)
    built_in: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")


class PrincipalRole(Base):
    """A system role assigned directly to a principal."""

    __tablename__ = "principal_roles"

    principal_id: Mapped[str] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class TeamRole(Base):
    """A system role assigned to a team, inherited by its members."""

    __tablename__ = "team_roles"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class Connector(Base):
    """A configured data source; ``password_encrypted`` is a Fernet token, never returned."""

    __tablename__ = "connectors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(255))
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    company_prompt: Mapped[str] = mapped_column(String(100), default="Company")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("principals.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)

    companies: Mapped[list[Company]] = relationship(
        back_populates="connector", cascade="all, delete-orphan", order_by="Company.name"
    )

    def __repr__(self) -> str:
        return f"Connector(id={self.id!r}, name={self.name!r}, type={self.type!r})"


class Company(Base):
    """One database with the connector's schema (a SQLite file path or a database name)."""

    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("connector_id", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200))
    database_name: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime)

    connector: Mapped[Connector] = relationship(back_populates="companies")


class EntityGroup(Base):
    """A folder of lists within a connector."""

    __tablename__ = "entity_groups"
    __table_args__ = (UniqueConstraint("connector_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))


class Entity(Base):
    """A list: a discovered table or view (``source_name``), or a custom list."""

    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("connector_id", "source_name", "type"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("entity_groups.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    item_name: Mapped[str] = mapped_column(String(200))
    item_singular: Mapped[str] = mapped_column(String(200))
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)
    # Custom lists only: the list they read, restrictions always applied, user variables.
    base_entity_id: Mapped[str | None] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE", name="fk_entities_base_entity_id"),
        index=True,
    )
    fixed_restrictions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONText)
    variables: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONText)

    fields: Mapped[list[EntityField]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", order_by="EntityField.position"
    )


class EntityField(Base):
    """A column of a list. ``api_name`` is its JSON key, unique within the list."""

    __tablename__ = "entity_fields"
    __table_args__ = (UniqueConstraint("entity_id", "api_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    source_name: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    api_name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    source_type: Mapped[str] = mapped_column(String(100), default="")
    nullable: Mapped[bool] = mapped_column(Boolean, default=True)
    primary_key: Mapped[bool] = mapped_column(Boolean, default=False)
    default_field: Mapped[bool] = mapped_column(Boolean, default=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    decimal_places: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)

    entity: Mapped[Entity] = relationship(back_populates="fields")


class ConnectorGrant(Base):
    """The rights one principal or one team is granted in one connector.

    ``companies``, ``lists``, ``details`` and ``actions`` each contain ``"all"`` or a list of ids.
    """

    __tablename__ = "connector_grants"
    __table_args__ = (
        UniqueConstraint("connector_id", "principal_id"),
        UniqueConstraint("connector_id", "team_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    principal_id: Mapped[str | None] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    roles: Mapped[list[str]] = mapped_column(JSONText, default=list)
    companies: Mapped[Any] = mapped_column(JSONText, default=list)
    lists: Mapped[Any] = mapped_column(JSONText, default=list)
    details: Mapped[Any] = mapped_column(JSONText, default=list)
    actions: Mapped[Any] = mapped_column(JSONText, default=list)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)


class Token(Base):
    """A named secret standing for one principal. Only its keyed hash is stored.

    During a rotation grace period ``previous_hash`` keeps the old value working until
    ``previous_expires_at``.
    """

    __tablename__ = "tokens"
    __table_args__ = (UniqueConstraint("principal_id", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    principal_id: Mapped[str] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    # NOTE: no foreign key yet because the widgets table arrives with the widget feature.
    widget_id: Mapped[str | None] = mapped_column(String(36), index=True)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(36))
    modified: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_surface: Mapped[str | None] = mapped_column(String(16))
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    last_rejection_reason: Mapped[str | None] = mapped_column(String(32))
    last_refused: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"Token(id={self.id!r}, name={self.name!r}, prefix={self.prefix!r})"


class AuditEvent(Base):
    """A security-relevant event. It never contains a secret."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_time", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(320))
    token_id: Mapped[str | None] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONText)


class Favorite(Base):
    """A saved view of a list owned by one user: fields, restrictions, order, page size.

    ``fields`` contains EntityFieldIds (empty means the list's default fields), ``restrictions``
    ``{"EntityFieldId", "Operator", "Value"}`` objects and ``order_by``
    ``{"EntityFieldId", "Descending"}`` objects. ``entity_id`` becomes NULL when the list is
    deleted, so the favorite stays and reports that its list is gone.
    """

    __tablename__ = "favorites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[str | None] = mapped_column(
        ForeignKey("entities.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    fields: Mapped[list[str]] = mapped_column(JSONText, default=list)
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    order_by: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    max_records: Mapped[int | None] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)


class FavoriteTeam(Base):
    """A team a favorite is shared with; its members may read the favorite."""

    __tablename__ = "favorite_teams"

    favorite_id: Mapped[str] = mapped_column(
        ForeignKey("favorites.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Endpoint(Base):
    """A named API endpoint over one list or one favorite in one company.

    Exactly one of ``entity_id`` and ``favorite_id`` is set when created. Deleting the list,
    favorite or company sets the column to NULL, so calls report the missing source instead
    of the endpoint vanishing.
    """

    __tablename__ = "endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    name_normalized: Mapped[str] = mapped_column(String(64), unique=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str | None] = mapped_column(
        ForeignKey("entities.id", ondelete="SET NULL"), index=True
    )
    favorite_id: Mapped[str | None] = mapped_column(
        ForeignKey("favorites.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    max_records: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("principals.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)

    parameters: Mapped[list[EndpointParameter]] = relationship(
        back_populates="endpoint",
        cascade="all, delete-orphan",
        order_by="EndpointParameter.position",
    )


class EndpointParameter(Base):
    """A named filter of an endpoint; ``default`` is JSON, and the locked value when fixed."""

    __tablename__ = "endpoint_parameters"
    __table_args__ = (UniqueConstraint("endpoint_id", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    name_normalized: Mapped[str] = mapped_column(String(64))
    entity_field_id: Mapped[str] = mapped_column(
        ForeignKey("entity_fields.id", ondelete="CASCADE"), index=True
    )
    operator: Mapped[str] = mapped_column(String(16), default="eq")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[Any] = mapped_column(JSONText, nullable=True)
    fixed: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer)

    endpoint: Mapped[Endpoint] = relationship(back_populates="parameters")


class EntityRelationship(Base):
    """A detail: the rows of ``to_entity_id`` whose key fields equal a record's fields.

    ``discovered`` marks details created from the source's foreign keys.
    """

    __tablename__ = "relationships"
    __table_args__ = (UniqueConstraint("from_entity_id", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200))
    from_entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    to_entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    discovered: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime)

    fields: Mapped[list[RelationshipField]] = relationship(
        back_populates="parent",
        cascade="all, delete-orphan",
        order_by="RelationshipField.position",
    )


class RelationshipField(Base):
    """One key pair of a detail: a field of the source list and one of the target list."""

    __tablename__ = "relationship_fields"

    relationship_id: Mapped[str] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_field_id: Mapped[str] = mapped_column(
        ForeignKey("entity_fields.id", ondelete="CASCADE"), index=True
    )
    to_field_id: Mapped[str] = mapped_column(
        ForeignKey("entity_fields.id", ondelete="CASCADE"), index=True
    )

    parent: Mapped[EntityRelationship] = relationship(back_populates="fields")


class WebSession(Base):
    """A signed-in web session. The cookie carries a random value; only its hash is stored.

    ``csrf_token`` is the per-session secret every form posts back. A session ends at
    ``expires_at``, on logout, and whenever its principal is disabled or deleted.
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal_id: Mapped[str] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))


class Widget(Base):
    """An embeddable view of one list or one favorite in one company.

    ``embed_id`` is the random public id used in embed URLs, unrelated to ``id``. ``fields``
    contains EntityFieldIds (empty means the list's default fields), ``actions`` the ActionIds
    offered, ``allowed_origins`` the origins that may frame it (empty means the account's
    default origins, else only listdock itself). ``summary_field_id`` and ``group_by_field_id``
    are used by the ``summary`` type only. Deleting the list, favorite or company sets the
    column to NULL, so opening the widget reports the missing source. ``page_size`` is the
    number of rows per embed page of a ``grid`` or ``cards`` widget (NULL: the type's default).
    """

    __tablename__ = "widgets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    embed_id: Mapped[str] = mapped_column(String(22), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    source_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str | None] = mapped_column(
        ForeignKey("entities.id", ondelete="SET NULL"), index=True
    )
    favorite_id: Mapped[str | None] = mapped_column(
        ForeignKey("favorites.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    fields: Mapped[list[str]] = mapped_column(JSONText, default=list)
    actions: Mapped[list[str]] = mapped_column(JSONText, default=list)
    allowed_origins: Mapped[list[str]] = mapped_column(JSONText, default=list)
    height: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    summary_field_id: Mapped[str | None] = mapped_column(String(36))
    group_by_field_id: Mapped[str | None] = mapped_column(String(36))
    page_size: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("principals.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)

    parameters: Mapped[list[WidgetParameter]] = relationship(
        back_populates="widget",
        cascade="all, delete-orphan",
        order_by="WidgetParameter.position",
    )


class WidgetParameter(Base):
    """A URL parameter of a widget: an equality filter on one field of its list."""

    __tablename__ = "widget_parameters"
    __table_args__ = (UniqueConstraint("widget_id", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_normalized: Mapped[str] = mapped_column(String(64))
    entity_field_id: Mapped[str] = mapped_column(
        ForeignKey("entity_fields.id", ondelete="CASCADE"), index=True
    )
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer)

    widget: Mapped[Widget] = relationship(back_populates="parameters")


class Action(Base):
    """An operation on records of one list: ``change_field``, ``delete`` or ``webhook``.

    ``values`` maps field ApiNames to the value to set, or to None when the value is prompted
    at run time (``change_field`` only). ``url`` is the webhook target and may contain a
    secret, so it is never logged or audited.
    """

    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("entity_id", "name_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200))
    action_type: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(8))
    values: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    url: Mapped[str | None] = mapped_column(Text)
    confirmation_button: Mapped[str] = mapped_column(String(100))
    cancel_button: Mapped[str] = mapped_column(String(100))
    allow_multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("principals.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"Action(id={self.id!r}, name={self.name!r}, type={self.action_type!r})"
