"""Add the change counter and the triggers that move it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

The counter is one row that every committed change to a watched table moves forward, whoever
writes it (the app, the CLI, another process or plain SQL). Processes keep caches of store data
and check the counter on each request instead of reading the data again. Token usage
(``last_used``, ``use_count``, refusals) and a user's ``last_login`` do not move it.

On SQLite each watched table gets row triggers. On PostgreSQL a deferred constraint trigger
moves the counter once per transaction at commit, after every row lock the transaction takes,
so two concurrent writers cannot deadlock on the counter.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Tables whose changes move the counter, each with the columns whose update counts (None: all).
WATCHED_TABLES: dict[str, tuple[str, ...] | None] = {
    "account": None,
    "principals": (
        "id", "kind", "name", "email", "email_normalized", "password_hash", "status",
        "created", "modified",
    ),
    "teams": None,
    "team_members": None,
    "roles": None,
    "principal_roles": None,
    "team_roles": None,
    "connectors": None,
    "companies": None,
    "entity_groups": None,
    "entities": None,
    "entity_fields": None,
    "connector_grants": None,
    "tokens": (
        "id", "principal_id", "widget_id", "read_only", "name", "name_normalized", "prefix",
        "hash", "previous_hash", "previous_expires_at", "status", "created", "created_by",
        "modified", "expires_at",
    ),
    "favorites": None,
    "favorite_teams": None,
    "endpoints": None,
    "endpoint_parameters": None,
    "relationships": None,
    "relationship_fields": None,
    "widgets": None,
    "widget_parameters": None,
    "actions": None,
}  # fmt: skip

POSTGRESQL_FUNCTION = """
CREATE FUNCTION listdock_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('listdock.change_counted', true) IS DISTINCT FROM txid_current()::text
    THEN
        UPDATE change_counter SET value = value + 1 WHERE id = 1;
        PERFORM set_config('listdock.change_counted', txid_current()::text, true);
    END IF;
    RETURN NULL;
END
$$
"""


def _update_event(columns: tuple[str, ...] | None) -> str:
    return "UPDATE" if columns is None else "UPDATE OF " + ", ".join(columns)


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO change_counter (id, value) VALUES (1, 0)")

    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1;"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for table, columns in WATCHED_TABLES.items():
            op.execute(
                f"CREATE CONSTRAINT TRIGGER change_counter_{table} "
                f"AFTER INSERT OR {_update_event(columns)} OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION listdock_count_change()"
            )
        return

    for table, columns in WATCHED_TABLES.items():
        for name, event in (
            ("insert", "INSERT"),
            ("update", _update_event(columns)),
            ("delete", "DELETE"),
        ):
            op.execute(
                f"CREATE TRIGGER change_counter_{table}_{name} AFTER {event} ON {table} "
                f"BEGIN {bump} END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS change_counter_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS listdock_count_change()")
    else:
        for table in WATCHED_TABLES:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS change_counter_{table}_{name}")
    op.drop_table("change_counter")
