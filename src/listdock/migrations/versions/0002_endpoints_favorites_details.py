"""add endpoints, favorites, details and custom list columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 19:59:14.041871
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import listdock.domain.types


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "favorites",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("fields", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("restrictions", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("order_by", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("max_records", sa.Integer(), nullable=True),
        sa.Column("created", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.Column("modified", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["principals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("favorites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_favorites_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_favorites_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "relationships",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_normalized", sa.String(length=200), nullable=False),
        sa.Column("from_entity_id", sa.String(length=36), nullable=False),
        sa.Column("to_entity_id", sa.String(length=36), nullable=False),
        sa.Column("discovered", sa.Boolean(), nullable=False),
        sa.Column("created", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["connector_id"], ["connectors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_entity_id"], ["entities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_entity_id"], ["entities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("from_entity_id", "name_normalized"),
    )
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relationships_connector_id"), ["connector_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relationships_from_entity_id"), ["from_entity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relationships_to_entity_id"), ["to_entity_id"], unique=False
        )

    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_normalized", sa.String(length=64), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=True),
        sa.Column("favorite_id", sa.String(length=36), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("max_records", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.Column("modified", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["principals.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["favorite_id"], ["favorites.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_normalized"),
    )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoints_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_endpoints_favorite_id"), ["favorite_id"], unique=False)

    op.create_table(
        "favorite_teams",
        sa.Column("favorite_id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["favorite_id"], ["favorites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("favorite_id", "team_id"),
    )
    with op.batch_alter_table("favorite_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_favorite_teams_team_id"), ["team_id"], unique=False)

    op.create_table(
        "relationship_fields",
        sa.Column("relationship_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("from_field_id", sa.String(length=36), nullable=False),
        sa.Column("to_field_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["from_field_id"], ["entity_fields.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_field_id"], ["entity_fields.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("relationship_id", "position"),
    )
    with op.batch_alter_table("relationship_fields", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relationship_fields_from_field_id"), ["from_field_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relationship_fields_to_field_id"), ["to_field_id"], unique=False
        )

    op.create_table(
        "endpoint_parameters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("endpoint_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_normalized", sa.String(length=64), nullable=False),
        sa.Column("entity_field_id", sa.String(length=36), nullable=False),
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("default", listdock.domain.types.JSONText(), nullable=True),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entity_field_id"], ["entity_fields.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "name_normalized"),
    )
    with op.batch_alter_table("endpoint_parameters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_parameters_endpoint_id"), ["endpoint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_endpoint_parameters_entity_field_id"), ["entity_field_id"], unique=False
        )

    # Plain ADD COLUMN, not a batch table rebuild: rebuilding ``entities`` on SQLite would
    # drop the old table, and with foreign keys on that cascades to every field and grant.
    # SQLite accepts a REFERENCES clause in ADD COLUMN but Alembic cannot emit it there.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # A downgrade on SQLite keeps this column (see ``downgrade``), so add it only once.
        existing = {column["name"] for column in sa.inspect(bind).get_columns("entities")}
        if "base_entity_id" not in existing:
            op.execute(
                "ALTER TABLE entities ADD COLUMN base_entity_id VARCHAR(36) "
                "CONSTRAINT fk_entities_base_entity_id REFERENCES entities (id) "
                "ON DELETE CASCADE"
            )
    else:
        op.add_column(
            "entities",
            sa.Column(
                "base_entity_id",
                sa.String(length=36),
                sa.ForeignKey("entities.id", ondelete="CASCADE", name="fk_entities_base_entity_id"),
                nullable=True,
            ),
        )
    op.add_column(
        "entities", sa.Column("fixed_restrictions", listdock.domain.types.JSONText(), nullable=True)
    )
    op.add_column(
        "entities", sa.Column("variables", listdock.domain.types.JSONText(), nullable=True)
    )
    op.create_index("ix_entities_base_entity_id", "entities", ["base_entity_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_entities_base_entity_id", table_name="entities")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_entities_base_entity_id", "entities", type_="foreignkey")
    # NOTE: SQLite 3.35+ drops these columns in place, but it cannot drop a column that a
    # foreign key uses without rebuilding the table, so base_entity_id stays on SQLite.
    op.drop_column("entities", "variables")
    op.drop_column("entities", "fixed_restrictions")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("entities", "base_entity_id")

    with op.batch_alter_table("endpoint_parameters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_parameters_entity_field_id"))
        batch_op.drop_index(batch_op.f("ix_endpoint_parameters_endpoint_id"))

    op.drop_table("endpoint_parameters")
    with op.batch_alter_table("relationship_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relationship_fields_to_field_id"))
        batch_op.drop_index(batch_op.f("ix_relationship_fields_from_field_id"))

    op.drop_table("relationship_fields")
    with op.batch_alter_table("favorite_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_favorite_teams_team_id"))

    op.drop_table("favorite_teams")
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoints_favorite_id"))
        batch_op.drop_index(batch_op.f("ix_endpoints_entity_id"))

    op.drop_table("endpoints")
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relationships_to_entity_id"))
        batch_op.drop_index(batch_op.f("ix_relationships_from_entity_id"))
        batch_op.drop_index(batch_op.f("ix_relationships_connector_id"))

    op.drop_table("relationships")
    with op.batch_alter_table("favorites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_favorites_owner_id"))
        batch_op.drop_index(batch_op.f("ix_favorites_entity_id"))

    op.drop_table("favorites")
