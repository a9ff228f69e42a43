"""Discovery of the tables and views of a source, through ``sqlalchemy.inspect``."""

from __future__ import annotations

import logging
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.engine.reflection import ObjectKind

from listdock.connectors.engines import source_error_for_engine
from listdock.connectors.types import (
    ColumnInfo,
    FieldType,
    ForeignKeyInfo,
    TableInfo,
    field_type_for,
    field_type_for_declared,
)

logger = logging.getLogger(__name__)

_SQLITE_DECLARED_TYPES = sa.text("SELECT name, type FROM pragma_table_info(:table)")


def discover(engine: sa.Engine) -> list[TableInfo]:
    """Return the tables and views of the default schema, sorted by name.

    Each table carries its columns in source order, its primary key and its foreign keys;
    views carry neither. Raises ``SourceConnectionError`` or ``SourceTimeoutError`` when the
    source fails.
    """
    try:
        with engine.connect() as connection:
            tables = _discover(connection)
    except exc.DBAPIError as error:
        raise source_error_for_engine(error, engine) from error

    logger.info("Discovered %d tables and views in %s", len(tables), engine.url.render_as_string())
    return sorted(tables, key=lambda table: (table.name.casefold(), table.name))


def _discover(connection: sa.Connection) -> list[TableInfo]:
    inspector = sa.inspect(connection)
    kinds: dict[str, Literal["table", "view"]] = {}
    kinds.update({name: "table" for name in inspector.get_table_names()})
    kinds.update({name: "view" for name in inspector.get_view_names()})

    columns = inspector.get_multi_columns(kind=ObjectKind.ANY)
    primary_keys = inspector.get_multi_pk_constraint(kind=ObjectKind.TABLE)
    foreign_keys = inspector.get_multi_foreign_keys(kind=ObjectKind.TABLE)

    tables = []
    for (_schema, name), reflected in columns.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        declared = _sqlite_declared_types(connection, name)
        key = primary_keys.get((_schema, name))
        key_columns = set(key["constrained_columns"] if key else ())
        tables.append(
            TableInfo(
                name=name,
                kind=kind,
                columns=tuple(
                    _column_info(column, key_columns, declared.get(column["name"]))
                    for column in reflected
                ),
                foreign_keys=tuple(
                    ForeignKeyInfo(
                        columns=tuple(foreign_key["constrained_columns"]),
                        referred_table=foreign_key["referred_table"],
                        referred_columns=tuple(foreign_key["referred_columns"]),
                    )
                    for foreign_key in foreign_keys.get((_schema, name), [])
                ),
            )
        )
    return tables


def _sqlite_declared_types(connection: sa.Connection, table: str) -> dict[str, str]:
    """Return the declared column types of a SQLite table or view, by column name.

    SQLAlchemy reflects unfamiliar SQLite types by affinity only (``"bit"`` as NUMERIC), so
    discovery reads the declared text to type those and to report their source type as written.
    Returns an empty dict for other engines.
    """
    if connection.dialect.name != "sqlite":
        return {}
    rows = connection.execute(_SQLITE_DECLARED_TYPES, {"table": table})
    return {str(name): str(declared) for name, declared in rows}


def _column_info(
    column: ReflectedColumn, key_columns: set[str], declared: str | None
) -> ColumnInfo:
    sql_type: Any = column["type"]
    primary_key = column["name"] in key_columns
    field_type = field_type_for(sql_type)
    declared_type = field_type_for_declared(declared) if declared else None

    source_type = _render_type(sql_type)
    if declared_type is not None and declared is not None:
        field_type, source_type = declared_type, declared

    decimal_places = None
    if field_type is FieldType.DECIMAL:
        decimal_places = getattr(sql_type, "scale", None)

    return ColumnInfo(
        name=column["name"],
        type=field_type,
        nullable=bool(column.get("nullable", True)) and not primary_key,
        primary_key=primary_key,
        decimal_places=decimal_places,
        source_type=source_type,
    )


def _render_type(sql_type: Any) -> str:
    try:
        return str(sql_type)
    except exc.CompileError:
        return type(sql_type).__name__
