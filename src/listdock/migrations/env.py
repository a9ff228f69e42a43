"""Alembic environment: migrations run on the connection that ``listdock.db`` passes in."""

from __future__ import annotations

from alembic import context

from listdock.domain.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `listdock init`, which passes a connection.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
