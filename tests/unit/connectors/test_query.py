import shutil
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from listdock.connectors.engines import ConnectionSettings, create_source_engine
from listdock.connectors.query import (
    Ordering,
    Restriction,
    SourceField,
    SourceQuery,
    build_select,
    count_rows,
    stream_rows,
)
from listdock.connectors.types import FieldType
from listdock.errors import InvalidValueError

INVOICE_ID = SourceField("InvoiceId", "InvoiceId", "Invoice Id", FieldType.INTEGER)
COUNTRY = SourceField("BillingCountry", "BillingCountry", "Country", FieldType.STRING)
STATE = SourceField("BillingState", "BillingState", "State", FieldType.STRING)
TOTAL = SourceField("Total", "Total", "Total", FieldType.DECIMAL)
DATE = SourceField("InvoiceDate", "InvoiceDate", "Date", FieldType.DATETIME)
INVOICE_FIELDS = (INVOICE_ID, COUNTRY, TOTAL)


@pytest.fixture(scope="module")
def chinook(chinook_sqlite_path: Path) -> Iterator[sa.Engine]:
    engine = create_source_engine("sqlite", ConnectionSettings(), str(chinook_sqlite_path))
    yield engine
    engine.dispose()


def invoices(
    engine: sa.Engine, *restrictions: Restriction, **options: Any
) -> list[tuple[Any, ...]]:
    query = SourceQuery(
        "Invoice", INVOICE_FIELDS, restrictions, key_fields=(INVOICE_ID,), **options
    )
    return list(stream_rows(engine, query))


def count(engine: sa.Engine, *restrictions: Restriction) -> int:
    return count_rows(engine, SourceQuery("Invoice", INVOICE_FIELDS, restrictions))


@pytest.mark.parametrize(
    ("restriction", "expected"),
    [
        (Restriction(INVOICE_ID, "eq", "5"), 1),
        (Restriction(INVOICE_ID, "ne", 5), 411),
        (Restriction(INVOICE_ID, "gt", "400"), 12),
        (Restriction(INVOICE_ID, "ge", "400"), 13),
        (Restriction(INVOICE_ID, "lt", "10"), 9),
        (Restriction(INVOICE_ID, "le", "10"), 10),
        (Restriction(COUNTRY, "contains", "ANAD"), 56),
        (Restriction(COUNTRY, "startswith", "can"), 56),
        (Restriction(COUNTRY, "endswith", "DA"), 56),
        (Restriction(INVOICE_ID, "in", "1,2,3"), 3),
        (Restriction(INVOICE_ID, "between", [10, 19]), 10),
        (Restriction(STATE, "empty", None), 202),
        (Restriction(STATE, "notempty", None), 210),
        (Restriction(TOTAL, "ge", "20"), 4),
        (Restriction(DATE, "between", "2021-01-01,2021-01-31T23:59:59"), 6),
        (Restriction(DATE, "eq", "2021-01-01"), 1),
    ],
)
def test_operator_counts(chinook: sa.Engine, restriction: Restriction, expected: int) -> None:
    assert count(chinook, restriction) == expected


def test_ne_includes_null_values(chinook: sa.Engine) -> None:
    assert count(chinook, Restriction(STATE, "ne", "SP")) == 412 - 21


def test_count_ignores_paging(chinook: sa.Engine) -> None:
    query = SourceQuery("Invoice", INVOICE_FIELDS, skip=10, limit=5)
    assert count_rows(chinook, query) == 412


def test_paging_skip_and_limit(chinook: sa.Engine) -> None:
    rows = invoices(chinook, skip=10, limit=3)
    assert [row[0] for row in rows] == [11, 12, 13]


def test_order_descending_with_tiebreak(chinook: sa.Engine) -> None:
    rows = invoices(chinook, order_by=(Ordering(TOTAL, descending=True),), limit=3)
    assert [row[2] for row in rows] == [Decimal("25.86"), Decimal("23.86"), Decimal("21.86")]


def test_decimals_exact(chinook: sa.Engine) -> None:
    rows = invoices(chinook, Restriction(INVOICE_ID, "eq", 1))
    assert rows == [(1, "Germany", Decimal("1.98"))]


def test_bad_value_raises_before_query(chinook: sa.Engine) -> None:
    with pytest.raises(InvalidValueError, match="InvoiceId"):
        invoices(chinook, Restriction(INVOICE_ID, "eq", "abc"))


def test_non_ascii_filter_and_output(chinook: sa.Engine) -> None:
    first = SourceField("FirstName", "FirstName", "First name", FieldType.STRING)
    last = SourceField("LastName", "LastName", "Last name", FieldType.STRING)
    query = SourceQuery("Customer", (first, last), (Restriction(last, "contains", "chterlov"),))
    assert list(stream_rows(chinook, query)) == [("František", "Wichterlová")]


def test_identifiers_are_quoted() -> None:
    column = SourceField("Unit Price", "UnitPrice", "Unit Price", FieldType.DECIMAL)
    sql = str(build_select(SourceQuery("Order Details", (column,)), "sqlite"))
    assert '"Order Details"."Unit Price"' in sql


def test_order_details_query(northwind_sqlite_path: Path) -> None:
    engine = create_source_engine("sqlite", ConnectionSettings(), str(northwind_sqlite_path))
    order = SourceField("OrderID", "OrderID", "Order", FieldType.INTEGER)
    product = SourceField("ProductID", "ProductID", "Product", FieldType.INTEGER)
    price = SourceField("UnitPrice", "UnitPrice", "Unit Price", FieldType.DECIMAL)
    query = SourceQuery(
        "Order Details", (order, product, price), (Restriction(order, "eq", 10248),),
        key_fields=(order, product),
    )  # fmt: skip
    try:
        rows = list(stream_rows(engine, query))
        total = count_rows(engine, SourceQuery("Order Details", (order,)))
    finally:
        engine.dispose()
    assert rows == [
        (10248, 11, Decimal(14)),
        (10248, 42, Decimal("9.8")),
        (10248, 72, Decimal("34.8")),
    ]
    assert total == 2155


def test_northwind_dates_parse(northwind_sqlite_path: Path) -> None:
    engine = create_source_engine("sqlite", ConnectionSettings(), str(northwind_sqlite_path))
    birth = SourceField("BirthDate", "BirthDate", "Birth date", FieldType.DATE)
    key = SourceField("EmployeeID", "EmployeeID", "Id", FieldType.INTEGER)
    query = SourceQuery("Employees", (birth,), (Restriction(birth, "lt", "1950-01-01"),))
    try:
        rows = list(stream_rows(engine, SourceQuery("Employees", (birth,), key_fields=(key,))))
        older = count_rows(engine, query)
    finally:
        engine.dispose()
    assert all(type(row[0]).__name__ == "date" for row in rows)
    assert older == 2


@pytest.fixture
def escapes_db(tmp_path: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "escapes.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany(
            "INSERT INTO items (name) VALUES (?)",
            [("50% off",), ("50 percent",), ("a_b",), ("axb",), ("A/B",), ("",), (None,)],
        )
    connection.close()
    engine = create_source_engine("sqlite", ConnectionSettings(), str(path))
    yield engine
    engine.dispose()


NAME = SourceField("name", "Name", "Name", FieldType.STRING)


def names(engine: sa.Engine, operator: str, value: Any) -> list[Any]:
    key = SourceField("id", "Id", "Id", FieldType.INTEGER)
    query = SourceQuery("items", (NAME,), (Restriction(NAME, operator, value),), key_fields=(key,))
    return [row[0] for row in stream_rows(engine, query)]


def test_contains_escapes_percent(escapes_db: sa.Engine) -> None:
    assert names(escapes_db, "contains", "0%") == ["50% off"]


def test_contains_escapes_underscore(escapes_db: sa.Engine) -> None:
    assert names(escapes_db, "contains", "a_") == ["a_b"]


def test_contains_escapes_escape_char(escapes_db: sa.Engine) -> None:
    assert names(escapes_db, "contains", "a/") == ["A/B"]


def test_empty_matches_null_and_blank(escapes_db: sa.Engine) -> None:
    assert names(escapes_db, "empty", None) == ["", None]


def test_writes_go_to_a_copy(chinook_sqlite_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "chinook.sqlite"
    shutil.copyfile(chinook_sqlite_path, copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE Invoice SET BillingState = NULL WHERE InvoiceId = 1")
    connection.close()
    engine = create_source_engine("sqlite", ConnectionSettings(), str(copy))
    try:
        assert count(engine, Restriction(STATE, "empty", None)) == 202
    finally:
        engine.dispose()


def test_stream_closed_early_releases_connection(chinook: sa.Engine) -> None:
    track = SourceField("TrackId", "TrackId", "Track", FieldType.INTEGER)
    rows = stream_rows(chinook, SourceQuery("Track", (track,)), batch_size=10)
    next(rows)
    checked_out = chinook.pool.checkedout()  # type: ignore[attr-defined]
    rows.close()  # type: ignore[attr-defined]
    assert checked_out == 1
    assert chinook.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_stream_exhausted_releases_connection(chinook: sa.Engine) -> None:
    rows = invoices(chinook, limit=5)
    assert len(rows) == 5
    assert chinook.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_stream_yields_plain_tuples(chinook: sa.Engine) -> None:
    rows = invoices(chinook, limit=1)
    assert type(rows[0]) is tuple
