"""SQLAlchemy column types for querying fields, chosen by field type and engine.

Results come back as the Python type of the field type: ``Decimal`` for DECIMAL, ``datetime``
for DATETIME and so on. Two cases need more than SQLAlchemy's generic types:

- SQLite stores NUMERIC(10,2) values as REAL, and SQLAlchemy's ``Numeric`` turns them into
  decimals with ten places (``0.9900000000``). ``ExactDecimal`` uses the shortest repr
  instead, so 0.99 reads as ``Decimal("0.99")``.
- SQLite dates and times are text in whatever format the writer chose (Northwind has
  ``1948-12-08 00:00:00.000`` in a DATE column), and SQLAlchemy's SQLite processors reject
  anything but their own format. The lenient types parse any ISO 8601 text and return
  values they cannot parse unchanged, so one odd row does not break a whole export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect

from listdock.connectors.types import FieldType


class ExactDecimal(sqltypes.TypeDecorator[Any]):
    """A decimal column that reads exact ``Decimal`` values on every engine."""

    impl = sqltypes.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sqltypes.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sqltypes.NullType())
        return dialect.type_descriptor(sqltypes.Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        # SQLite compares REAL column values, so bind the float nearest to the decimal.
        if dialect.name == "sqlite" and isinstance(value, Decimal):
            return float(value)
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        # One function per value instead of TypeDecorator's two calls: this is on the hot path.
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        process = self.process_result_value

        def process_sqlite(value: Any) -> Any:
            if type(value) is float:
                return Decimal(repr(value))
            return process(value, dialect)

        return process_sqlite

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, int):
            return Decimal(value)
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value


class _LenientSqliteTemporal(sqltypes.TypeDecorator[Any]):
    impl = sqltypes.NullType
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return sqlite_text(value)
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        parse = self.parse

        def process(value: Any) -> Any:
            if type(value) is str:
                try:
                    return parse(value)
                except ValueError:
                    return value
            return value

        return process

    def parse(self, text: str) -> Any:
        raise NotImplementedError


class LenientSqliteDateTime(_LenientSqliteTemporal):
    """A SQLite DATETIME read from any ISO 8601 text."""

    cache_ok = True

    def parse(self, text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)


class LenientSqliteDate(_LenientSqliteTemporal):
    """A SQLite DATE read from ISO 8601 text, ignoring a time part such as ``00:00:00.000``."""

    cache_ok = True

    def parse(self, text: str) -> dt.date:
        if len(text) > 10:
            return dt.datetime.fromisoformat(text).date()
        return dt.date.fromisoformat(text)


class LenientSqliteTime(_LenientSqliteTemporal):
    """A SQLite TIME read from ISO 8601 text."""

    cache_ok = True

    def parse(self, text: str) -> dt.time:
        return dt.time.fromisoformat(text)


def sqlite_text(value: dt.datetime | dt.date | dt.time) -> str:
    """Return a date, datetime or time as the text that SQLite's ``strftime`` formats produce.

    Matches ``SQLITE_DATETIME``, ``SQLITE_DATE`` and ``SQLITE_TIME``: milliseconds, no
    separator ``T``, and aware datetimes converted to UTC as SQLite does.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


# strftime formats that normalise SQLite's text dates for comparison with ``sqlite_text``.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%f"
SQLITE_DATE = "%Y-%m-%d"
SQLITE_TIME = "%H:%M:%f"

_GENERIC_TYPES: dict[FieldType, sqltypes.TypeEngine[Any]] = {
    FieldType.STRING: sqltypes.String(),
    FieldType.INTEGER: sqltypes.Integer(),
    FieldType.DECIMAL: ExactDecimal(),
    FieldType.FLOAT: sqltypes.Float(),
    FieldType.BOOLEAN: sqltypes.Boolean(),
    FieldType.DATE: sqltypes.Date(),
    FieldType.DATETIME: sqltypes.DateTime(),
    FieldType.TIME: sqltypes.Time(),
    FieldType.BINARY: sqltypes.LargeBinary(),
}

_SQLITE_TYPES: dict[FieldType, sqltypes.TypeEngine[Any]] = {
    **_GENERIC_TYPES,
    FieldType.DATE: LenientSqliteDate(),
    FieldType.DATETIME: LenientSqliteDateTime(),
    FieldType.TIME: LenientSqliteTime(),
}


def column_type(field_type: FieldType, dialect_name: str) -> sqltypes.TypeEngine[Any]:
    """Return the SQLAlchemy type that reads and binds a field type on a given engine."""
    types = _SQLITE_TYPES if dialect_name == "sqlite" else _GENERIC_TYPES
    return types[field_type]


def sqlite_comparable(
    column: sa.ColumnElement[Any], field_type: FieldType
) -> sa.ColumnElement[Any]:
    """Return a SQLite date or time column normalised by ``strftime`` for comparisons.

    Other field types are returned unchanged.
    """
    formats = {
        FieldType.DATETIME: SQLITE_DATETIME,
        FieldType.DATE: SQLITE_DATE,
        FieldType.TIME: SQLITE_TIME,
    }
    if field_type not in formats:
        return column
    return sa.func.strftime(formats[field_type], column, type_=sqltypes.String())
