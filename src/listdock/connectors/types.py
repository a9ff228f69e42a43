"""Field types and the metadata that discovery returns for tables and views."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import types as sqltypes


class FieldType(str, enum.Enum):  # noqa: UP042 (str(member) must stay "FieldType.X")
    """Type of a list field, independent of the source engine."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    BINARY = "binary"


# Checked in order, so subclasses come before their bases: Boolean before Integer is not
# needed (they are unrelated), but Float must come before Numeric because Float subclasses it.
_TYPE_MAP: tuple[tuple[type[sqltypes.TypeEngine[Any]], FieldType], ...] = (
    (sqltypes.Boolean, FieldType.BOOLEAN),
    (sqltypes.Integer, FieldType.INTEGER),
    (sqltypes.Float, FieldType.FLOAT),
    (sqltypes.Numeric, FieldType.DECIMAL),
    (sqltypes.DateTime, FieldType.DATETIME),
    (sqltypes.Date, FieldType.DATE),
    (sqltypes.Time, FieldType.TIME),
    (sqltypes._Binary, FieldType.BINARY),
)

# Declared type names that SQLite accepts but SQLAlchemy reflects only by type affinity
# (for example "bit" becomes NUMERIC and "image" NUMERIC). Matched on the name before "(".
_SQLITE_DECLARED_TYPES: dict[str, FieldType] = {
    "BIT": FieldType.BOOLEAN,
    "BOOL": FieldType.BOOLEAN,
    "BOOLEAN": FieldType.BOOLEAN,
    "IMAGE": FieldType.BINARY,
    "BLOB": FieldType.BINARY,
    "BINARY": FieldType.BINARY,
    "VARBINARY": FieldType.BINARY,
    "BYTEA": FieldType.BINARY,
    "MONEY": FieldType.DECIMAL,
    "SMALLMONEY": FieldType.DECIMAL,
    "UNIQUEIDENTIFIER": FieldType.STRING,
    "TIMESTAMP": FieldType.DATETIME,
    "SMALLDATETIME": FieldType.DATETIME,
    "DATETIME2": FieldType.DATETIME,
}

_DECLARED_NAME = re.compile(r"\s*\"?([A-Za-z_][A-Za-z0-9_ ]*?)\"?\s*(\(|$)")


def field_type_for(sql_type: sqltypes.TypeEngine[Any]) -> FieldType:
    """Return the field type of a reflected SQLAlchemy type; unknown types are STRING."""
    for sql_class, field_type in _TYPE_MAP:
        if isinstance(sql_type, sql_class):
            return field_type
    return FieldType.STRING


def field_type_for_declared(declared: str) -> FieldType | None:
    """Return the field type of a SQLite declared type name, or None to use reflection.

    SQLite stores any declared type text; this covers names that SQLAlchemy resolves only
    by affinity, such as ``"bit"`` and ``image`` from databases converted from SQL Server.
    """
    match = _DECLARED_NAME.match(declared)
    if match is None:
        return None
    return _SQLITE_DECLARED_TYPES.get(match.group(1).strip().upper())


@dataclass(frozen=True)
class ColumnInfo:
    """A column of a discovered table or view.

    ``decimal_places`` is the scale of a DECIMAL column when the source declares one.
    ``source_type`` is the type as the source names it, for example ``NUMERIC(10, 2)``.
    """

    name: str
    type: FieldType
    nullable: bool
    primary_key: bool
    decimal_places: int | None
    source_type: str


@dataclass(frozen=True)
class ForeignKeyInfo:
    """A foreign key from ``columns`` of one table to ``referred_columns`` of another."""

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableInfo:
    """A discovered table or view; views have no primary key and no foreign keys."""

    name: str
    kind: Literal["table", "view"]
    columns: tuple[ColumnInfo, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...]


@dataclass(frozen=True)
class SourceField:
    """A field of a list as queries see it.

    ``column`` is the source column name, ``api_name`` the JSON key and XML element name, and
    ``label`` the display name used as the CSV and XLSX header.
    """

    column: str
    api_name: str
    label: str
    type: FieldType
