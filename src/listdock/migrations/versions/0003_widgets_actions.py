"""add widgets, widget parameters and actions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 20:05:34.650208
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import listdock.domain.types


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_normalized", sa.String(length=200), nullable=False),
        sa.Column("action_type", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("values", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("confirmation_button", sa.String(length=100), nullable=False),
        sa.Column("cancel_button", sa.String(length=100), nullable=False),
        sa.Column("allow_multiple", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.Column("modified", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["connector_id"], ["connectors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["principals.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity_id", "name_normalized"),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actions_connector_id"), ["connector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_actions_entity_id"), ["entity_id"], unique=False)

    op.create_table(
        "widgets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("embed_id", sa.String(length=22), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=True),
        sa.Column("favorite_id", sa.String(length=36), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("fields", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("actions", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("allowed_origins", listdock.domain.types.JSONText(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("summary_field_id", sa.String(length=36), nullable=True),
        sa.Column("group_by_field_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.Column("modified", listdock.domain.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["principals.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["favorite_id"], ["favorites.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("embed_id"),
    )
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_widgets_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_widgets_favorite_id"), ["favorite_id"], unique=False)

    op.create_table(
        "widget_parameters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("widget_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_normalized", sa.String(length=64), nullable=False),
        sa.Column("entity_field_id", sa.String(length=36), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entity_field_id"], ["entity_fields.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("widget_id", "name_normalized"),
    )
    with op.batch_alter_table("widget_parameters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_widget_parameters_entity_field_id"), ["entity_field_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_widget_parameters_widget_id"), ["widget_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("widget_parameters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_widget_parameters_widget_id"))
        batch_op.drop_index(batch_op.f("ix_widget_parameters_entity_field_id"))

    op.drop_table("widget_parameters")
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_widgets_favorite_id"))
        batch_op.drop_index(batch_op.f("ix_widgets_entity_id"))

    op.drop_table("widgets")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_entity_id"))
        batch_op.drop_index(batch_op.f("ix_actions_connector_id"))

    op.drop_table("actions")
