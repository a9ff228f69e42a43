"""The same queries give the same rows on Chinook in SQLite, PostgreSQL and MariaDB.

String order is not compared: each engine sorts text by its own collation.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from listdock.connectors.query import (
    Ordering,
    Restriction,
    SourceField,
    SourceQuery,
    count_rows,
    stream_rows,
)
from listdock.connectors.types import FieldType

ChinookSource = Any  # the ChinookSource of the source_engines fixture in conftest.py


def field(source: ChinookSource, column: str, field_type: FieldType) -> SourceField:
    return SourceField(source.name(column), column, column, field_type)


def invoice_rows(
    source: ChinookSource, *restrictions: Any, **options: Any
) -> list[tuple[Any, ...]]:
    invoice_id = field(source, "InvoiceId", FieldType.INTEGER)
    fields = (
        invoice_id,
        field(source, "InvoiceDate", FieldType.DATETIME),
        field(source, "Total", FieldType.DECIMAL),
    )
    by_name = {f.api_name: f for f in fields} | {
        "BillingCountry": field(source, "BillingCountry", FieldType.STRING),
        "BillingState": field(source, "BillingState", FieldType.STRING),
    }
    query = SourceQuery(
        source.name("Invoice"),
        fields,
        tuple(
            Restriction(by_name[name], operator, value) for name, operator, value in restrictions
        ),
        tuple(Ordering(by_name[name], descending) for name, descending in options.pop("order", ())),
        key_fields=(invoice_id,),
        **options,
    )
    return list(stream_rows(source.engine, query))


def test_counts_agree(source_engines: ChinookSource) -> None:
    country = field(source_engines, "BillingCountry", FieldType.STRING)
    query = SourceQuery(
        source_engines.name("Invoice"), (country,), (Restriction(country, "eq", "USA"),)
    )
    assert count_rows(source_engines.engine, query) == 91


def test_value_types_agree(source_engines: ChinookSource) -> None:
    (row,) = invoice_rows(source_engines, ("InvoiceId", "eq", 1))
    assert row == (1, dt.datetime(2021, 1, 1), Decimal("1.98"))
    assert [type(value) for value in row] == [int, dt.datetime, Decimal]


def test_order_by_decimal_paged(source_engines: ChinookSource) -> None:
    rows = invoice_rows(source_engines, order=[("Total", True)], skip=5, limit=4)
    assert [row[0] for row in rows] == [201, 88, 306, 313]


def test_order_by_date_filtered(source_engines: ChinookSource) -> None:
    rows = invoice_rows(
        source_engines,
        ("InvoiceDate", "between", "2021-01-01,2021-01-31T23:59:59"),
        order=[("InvoiceDate", True)],
    )
    assert [row[0] for row in rows] == [6, 5, 4, 3, 2, 1]


def test_date_equality_agrees(source_engines: ChinookSource) -> None:
    rows = invoice_rows(source_engines, ("InvoiceDate", "eq", "2021-01-02"))
    assert [row[0] for row in rows] == [2]


def test_nulls_first_ascending(source_engines: ChinookSource) -> None:
    rows = invoice_rows(source_engines, order=[("BillingState", False)], limit=3)
    assert [row[0] for row in rows] == [1, 2, 3]


def test_nulls_last_descending(source_engines: ChinookSource) -> None:
    rows = invoice_rows(source_engines, order=[("BillingState", True)])
    assert [row[0] for row in rows[-3:]] == [410, 411, 412]


def test_in_and_empty_agree(source_engines: ChinookSource) -> None:
    rows = invoice_rows(
        source_engines, ("InvoiceId", "in", "3,1,2,999"), ("BillingState", "empty", None)
    )
    assert [row[0] for row in rows] == [1, 2, 3]


def test_contains_case_insensitive(source_engines: ChinookSource) -> None:
    rows = invoice_rows(source_engines, ("BillingCountry", "contains", "gERMAN"), limit=2)
    assert [row[0] for row in rows] == [1, 6]


def test_contains_percent_literal(source_engines: ChinookSource) -> None:
    assert invoice_rows(source_engines, ("BillingCountry", "contains", "%")) == []


def test_non_ascii_filter_agrees(source_engines: ChinookSource) -> None:
    first = field(source_engines, "FirstName", FieldType.STRING)
    last = field(source_engines, "LastName", FieldType.STRING)
    query = SourceQuery(
        source_engines.name("Customer"), (first, last), (Restriction(first, "eq", "František"),)
    )
    assert list(stream_rows(source_engines.engine, query)) == [("František", "Wichterlová")]
