"""Queries over one table or view: restrictions, ordering, paging, counting and streaming.

Statements are SQLAlchemy Core over ``sqlalchemy.table()``: the dialect quotes identifiers
(so "Order Details" works) and every value is a bound parameter.

Ordering agrees across engines for NULLs: first when ascending and last when descending on
SQLite, PostgreSQL and MySQL/MariaDB. MySQL and MariaDB have no ``NULLS FIRST``, so they
order by ``column IS NULL`` first. Engines may still differ in string order, because each
sorts text by its own collation: SQLite compares bytes (``BINARY``), PostgreSQL uses the
database collation, and MariaDB's default ``utf8mb4_general_ci`` ignores case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy import types as sqltypes

from listdock.connectors.columns import column_type, sqlite_comparable, sqlite_text
from listdock.connectors.engines import source_error_for_engine
from listdock.connectors.types import FieldType, SourceField
from listdock.connectors.values import EXPECTED, convert_value
from listdock.errors import InvalidInputError, InvalidValueError

__all__ = [
    "OPERATORS",
    "Ordering",
    "Restriction",
    "SourceField",
    "SourceQuery",
    "bound_values",
    "build_count",
    "build_select",
    "convert_value",
    "count_rows",
    "normalize_restriction",
    "shape_and_values",
    "shape_key",
    "stream_rows",
]

logger = logging.getLogger(__name__)

OPERATORS: tuple[str, ...] = (
    "eq", "ne", "gt", "ge", "lt", "le",
    "contains", "startswith", "endswith",
    "in", "between", "empty", "notempty",
)  # fmt: skip

_TEXT_OPERATORS = ("contains", "startswith", "endswith")
_ORDER_OPERATORS = ("gt", "ge", "lt", "le")
_VALUELESS_OPERATORS = ("empty", "notempty")


@dataclass(frozen=True)
class Restriction:
    """A filter: ``field`` compared with ``value`` by ``operator`` (one of ``OPERATORS``)."""

    field: SourceField
    operator: str
    value: Any


@dataclass(frozen=True)
class Ordering:
    """A sort key."""

    field: SourceField
    descending: bool = False


@dataclass(frozen=True)
class SourceQuery:
    """A query over one table or view of a source.

    ``fields`` are selected in output order. ``key_fields`` (the primary key) are appended to
    the ORDER BY as a tie-breaker so that paging with ``skip`` and ``limit`` is stable.
    """

    table: str
    fields: tuple[SourceField, ...]
    restrictions: tuple[Restriction, ...] = ()
    order_by: tuple[Ordering, ...] = ()
    key_fields: tuple[SourceField, ...] = ()
    skip: int = 0
    limit: int | None = None


def normalize_restriction(restriction: Restriction) -> Restriction:
    """Return the restriction with a valid operator and its value converted to the field type.

    ``in`` takes a list or a comma-separated string and becomes a tuple; ``between`` takes
    two values (a 2-item list or ``"a,b"``) and becomes a 2-tuple; text operators keep a
    string; ``empty`` and ``notempty`` ignore the value. Raises ``InvalidInputError`` for an
    unknown operator or a binary field with an operator other than empty or notempty, and
    ``InvalidValueError`` for a value that does not fit the field.
    """
    field, operator, value = restriction.field, restriction.operator, restriction.value

    if operator not in OPERATORS:
        raise InvalidInputError(
            f"Invalid operator {operator!r} for field {field.api_name}: "
            f"expected one of {', '.join(OPERATORS)}"
        )
    if operator in _VALUELESS_OPERATORS:
        return Restriction(field, operator, None)
    if field.type is FieldType.BINARY:
        raise InvalidInputError(
            f"Field {field.api_name} is binary: only the empty and notempty operators apply"
        )

    if operator in _TEXT_OPERATORS:
        converted: Any = _text_value(field, value)
    elif operator == "in":
        converted = tuple(_required(field, item) for item in _value_list(field, value))
    elif operator == "between":
        bounds = _value_list(field, value)
        if len(bounds) != 2:
            raise _invalid(field, f"two values for between, {EXPECTED[field.type]} each")
        converted = (_required(field, bounds[0]), _required(field, bounds[1]))
    elif operator in _ORDER_OPERATORS:
        converted = _required(field, value)
    else:
        converted = convert_value(field, value)

    return Restriction(field, operator, converted)


def _invalid(field: SourceField, expected: str) -> InvalidValueError:
    return InvalidValueError(
        f"Invalid value for field {field.api_name}: expected {expected}", field=field.api_name
    )


def _required(field: SourceField, value: Any) -> Any:
    converted = convert_value(field, value)
    if converted is None:
        raise _invalid(field, EXPECTED[field.type])
    return converted


def _text_value(field: SourceField, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _invalid(field, "a string")


def _value_list(field: SourceField, value: Any) -> list[Any]:
    if isinstance(value, str):
        items: list[Any] = [item.strip() for item in value.split(",")]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _invalid(field, f"a list of values, {EXPECTED[field.type]} each")
    if not items:
        raise _invalid(field, f"a list of values, {EXPECTED[field.type]} each")
    return items


class _Columns:
    """The columns a query touches, typed for one dialect, on a ``sqlalchemy.table()``."""

    def __init__(self, query: SourceQuery, dialect_name: str) -> None:
        self.dialect_name = dialect_name
        fields = [
            *query.fields,
            *(restriction.field for restriction in query.restrictions),
            *(ordering.field for ordering in query.order_by),
            *query.key_fields,
        ]
        types: dict[str, FieldType] = {}
        for field in fields:
            types.setdefault(field.column, field.type)
        self.table = sa.table(
            query.table,
            *(
                sa.column(name, column_type(field_type, dialect_name))
                for name, field_type in types.items()
            ),
        )

    def __getitem__(self, field: SourceField) -> sa.ColumnClause[Any]:
        column: sa.ColumnClause[Any] = self.table.c[field.column]
        return column


class _Binds:
    """Names the bound values of a statement ``v0``, ``v1``, ... in the order they are bound."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, value: Any, type_: sqltypes.TypeEngine[Any]) -> sa.BindParameter[Any]:
        name = f"v{self.count}"
        self.count += 1
        return sa.bindparam(name, value, type_=type_)


def build_select(query: SourceQuery, dialect_name: str) -> sa.Select[Any]:
    """Return the SELECT of a query for a dialect (``sqlite``, ``postgresql`` or ``mysql``).

    Every value is a named bound parameter (see ``bound_values``): ``v0``, ``v1``, ... for
    the restrictions, then ``skip`` and ``limit``. So the SQL text depends only on the
    query's shape (``shape_key``), not on its values.
    Restrictions are normalised first, so this raises what ``normalize_restriction`` raises.
    """
    columns = _Columns(query, dialect_name)
    selected = [columns[field].label(f"c{index}") for index, field in enumerate(query.fields)]
    statement = sa.select(*selected).select_from(columns.table)
    statement = statement.where(*_conditions(query, columns))

    ordered: set[str] = set()
    for ordering in (*query.order_by, *(Ordering(field) for field in query.key_fields)):
        if ordering.field.column in ordered:
            continue
        ordered.add(ordering.field.column)
        statement = statement.order_by(
            *_order(columns[ordering.field], ordering.descending, dialect_name)
        )

    if query.skip:
        statement = statement.offset(sa.bindparam("skip", query.skip, type_=sqltypes.Integer()))
    if query.limit is not None:
        statement = statement.limit(sa.bindparam("limit", query.limit, type_=sqltypes.Integer()))
    return statement


def build_count(query: SourceQuery, dialect_name: str) -> sa.Select[Any]:
    """Return a SELECT of the number of rows matching the restrictions, ignoring paging."""
    columns = _Columns(query, dialect_name)
    return (
        sa.select(sa.func.count().label("count"))
        .select_from(columns.table)
        .where(*_conditions(query, columns))
    )


def bound_values(query: SourceQuery, dialect_name: str) -> dict[str, Any]:
    """Return the values ``build_select`` binds for ``query``, by parameter name.

    Raises what ``normalize_restriction`` raises.
    """
    return shape_and_values(query, dialect_name)[1]


def shape_key(query: SourceQuery, dialect_name: str) -> tuple[Any, ...]:
    """Return a key that is equal for two queries exactly when their SELECTs have the same SQL.

    Raises what ``normalize_restriction`` raises.
    """
    return shape_and_values(query, dialect_name)[0]


def shape_and_values(
    query: SourceQuery, dialect_name: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Return ``shape_key`` and ``bound_values`` of a query, normalising its restrictions once."""
    values: dict[str, Any] = {}
    restrictions = []
    for restriction in query.restrictions:
        normalized = normalize_restriction(restriction)
        bound = _restriction_values(normalized, dialect_name)
        restrictions.append((normalized.field, normalized.operator, len(bound)))
        for value in bound:
            values[f"v{len(values)}"] = value
    if query.skip:
        values["skip"] = query.skip
    if query.limit is not None:
        values["limit"] = query.limit
    key = (
        dialect_name,
        query.table,
        query.fields,
        tuple(restrictions),
        query.order_by,
        query.key_fields,
        bool(query.skip),
        query.limit is not None,
    )
    return key, values


def _conditions(query: SourceQuery, columns: _Columns) -> list[sa.ColumnElement[bool]]:
    binds = _Binds()
    return [
        _condition(normalize_restriction(restriction), columns, binds)
        for restriction in query.restrictions
    ]


_SQLITE_TEMPORAL = (FieldType.DATE, FieldType.DATETIME, FieldType.TIME)
# LIKE patterns escape their wildcards and the escape character itself with this character.
_LIKE_ESCAPE = "/"


def _like_pattern(operator: str, text: str) -> str:
    escaped = (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    if operator == "contains":
        return f"%{escaped}%"
    if operator == "startswith":
        return f"{escaped}%"
    return f"%{escaped}"


def _restriction_values(restriction: Restriction, dialect_name: str) -> tuple[Any, ...]:
    """Return the values a normalised restriction binds, in the order ``_condition`` binds them.

    SQLite keeps dates as text in any format, so its date and time values are bound as the
    normalised text that ``sqlite_comparable`` compares them with.
    """
    field, operator, value = restriction.field, restriction.operator, restriction.value
    if operator in _VALUELESS_OPERATORS:
        return ()
    if operator in _TEXT_OPERATORS:
        return (_like_pattern(operator, value),)
    as_text = dialect_name == "sqlite" and field.type in _SQLITE_TEMPORAL

    def bound(item: Any) -> Any:
        return sqlite_text(item) if as_text else item

    if operator == "in":
        return tuple(bound(item) for item in value)
    if operator == "between":
        return (bound(value[0]), bound(value[1]))
    if value is None:
        return ()
    return (bound(value),)


def _condition(
    restriction: Restriction, columns: _Columns, binds: _Binds
) -> sa.ColumnElement[bool]:
    field, operator = restriction.field, restriction.operator
    column = columns[field]
    values = _restriction_values(restriction, columns.dialect_name)

    if operator in ("empty", "notempty"):
        emptiness = _is_empty(column, field.type)
        return emptiness if operator == "empty" else sa.not_(emptiness)

    if operator in _TEXT_OPERATORS:
        text = column if field.type is FieldType.STRING else sa.cast(column, sqltypes.String())
        pattern = binds(values[0], sqltypes.String())
        return sa.func.lower(text).like(sa.func.lower(pattern), escape=_LIKE_ESCAPE)

    # SQLite keeps dates as text in any format, so compare normalised text on both sides.
    comparable: sa.ColumnElement[Any] = column
    if columns.dialect_name == "sqlite":
        comparable = sqlite_comparable(column, field.type)
    bound = [binds(value, comparable.type) for value in values]

    if operator == "in":
        return comparable.in_(bound)
    if operator == "between":
        return comparable.between(bound[0], bound[1])
    if not bound:
        return column.is_(None) if operator == "eq" else column.is_not(None)
    comparisons = {
        "eq": comparable.__eq__,
        "ne": comparable.__ne__,
        "gt": comparable.__gt__,
        "ge": comparable.__ge__,
        "lt": comparable.__lt__,
        "le": comparable.__le__,
    }
    condition: sa.ColumnElement[bool] = comparisons[operator](bound[0])
    if operator == "ne":
        # SQL's NULL <> x is unknown; a field that is empty does differ from a value.
        condition = sa.or_(condition, column.is_(None))
    return condition


def _is_empty(column: sa.ColumnClause[Any], field_type: FieldType) -> sa.ColumnElement[bool]:
    if field_type is FieldType.STRING:
        return sa.or_(column.is_(None), column == "")
    if field_type is FieldType.BINARY:
        return sa.or_(column.is_(None), sa.func.length(column) == 0)
    return column.is_(None)


def _order(
    column: sa.ColumnClause[Any], descending: bool, dialect_name: str
) -> list[sa.ColumnElement[Any]]:
    if dialect_name in ("mysql", "mariadb"):
        # MySQL and MariaDB have no NULLS FIRST/LAST: sort on "IS NULL" (1 for NULL) first.
        is_null = column.is_(None)
        if descending:
            return [is_null.asc(), column.desc()]
        return [is_null.desc(), column.asc()]
    if descending:
        return [column.desc().nulls_last()]
    return [column.asc().nulls_first()]


def stream_rows(
    engine: sa.Engine, query: SourceQuery, *, batch_size: int = 1000
) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of a query as plain tuples, in ``query.fields`` order.

    Uses a server-side cursor that fetches ``batch_size`` rows at a time, so memory stays
    bounded. The connection is taken on the first ``next()`` and released when the iterator
    is exhausted, closed or garbage-collected. Raises ``SourceConnectionError`` or
    ``SourceTimeoutError`` when the source fails or the statement timeout cancels the query,
    and what ``normalize_restriction`` raises before touching the source.
    """
    statement = build_select(query, engine.dialect.name)
    return _stream(engine, statement, batch_size)


def _stream(
    engine: sa.Engine, statement: sa.Select[Any], batch_size: int
) -> Iterator[tuple[Any, ...]]:
    try:
        connection = engine.connect()
    except exc.DBAPIError as error:
        raise source_error_for_engine(error, engine) from error

    finished = False
    try:
        result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(
            statement
        )
        for partition in result.partitions():
            yield from map(tuple, partition)
        finished = True
    except exc.DBAPIError as error:
        raise source_error_for_engine(error, engine) from error
    finally:
        if not finished and engine.dialect.name == "mysql":
            # An unbuffered MySQL result must be read to its end before the connection can
            # be reused, so dropping the connection is faster when a client stops early.
            connection.invalidate()
        connection.close()


def count_rows(engine: sa.Engine, query: SourceQuery) -> int:
    """Return the number of rows matching the query's restrictions, ignoring paging.

    Raises ``SourceConnectionError`` or ``SourceTimeoutError`` when the source fails.
    """
    statement = build_count(query, engine.dialect.name)
    try:
        with engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())
    except exc.DBAPIError as error:
        raise source_error_for_engine(error, engine) from error
