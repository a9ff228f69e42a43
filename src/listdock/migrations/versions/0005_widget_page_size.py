"""Add a page size to widgets

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

``widgets.page_size`` is the number of rows per embed page of a grid or cards widget. NULL,
the value of every existing widget, means the type's default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default needs no table copy: SQLite adds it in place too.
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_size", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Not a batch operation: on SQLite a batch copies the table and drops the original, and
    # with foreign keys on that drop deletes every widget's parameters through ON DELETE
    # CASCADE. Plain DROP COLUMN needs SQLite 3.35 or later.
    op.drop_column("widgets", "page_size")
