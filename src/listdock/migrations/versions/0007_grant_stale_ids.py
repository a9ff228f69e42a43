"""Remove ids of deleted lists, details and actions from connector grants

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Deleting a custom list, a detail or an action now removes its id from every grant. Grants
written before that may still name deleted objects, and a client that reads such a grant and
writes it back unchanged is rejected. This data migration removes those ids once. A part
that is "all" stays "all"; companies cannot be deleted, so they are left as they are.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Each grant part that contains ids, and the table whose ids it may name.
PARTS = {"lists": "entities", "details": "relationships", "actions": "actions"}

GRANTS = sa.table("connector_grants", sa.column("id"), *(sa.column(part) for part in PARTS))


def upgrade() -> None:
    connection = op.get_bind()
    existing = {
        part: set(connection.scalars(sa.select(sa.table(table, sa.column("id")).c.id)))
        for part, table in PARTS.items()
    }
    grants = connection.execute(sa.select(GRANTS.c.id, *(GRANTS.c[part] for part in PARTS)))
    for grant_id, *values in grants.all():
        changed: dict[str, Any] = {}
        for part, text in zip(PARTS, values, strict=True):
            ids = json.loads(text) if text else []
            if not isinstance(ids, list):
                continue
            kept = [item for item in ids if item in existing[part]]
            if kept != ids:
                changed[part] = json.dumps(kept, separators=(",", ":"), sort_keys=True)
        if changed:
            connection.execute(sa.update(GRANTS).where(GRANTS.c.id == grant_id).values(changed))


def downgrade() -> None:
    # The removed ids named objects that no longer exist, so there is nothing to restore.
    pass
