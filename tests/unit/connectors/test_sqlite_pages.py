"""PageReader and json_page give exactly what stream_rows and render give, on real data."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from listdock.connectors.discovery import discover
from listdock.connectors.engines import ConnectionSettings, create_source_engine
from listdock.connectors.formats import SMALL_FLOAT_TEXTS, json_page, render, render_json
from listdock.connectors.query import Ordering, Restriction, SourceQuery, stream_rows
from listdock.connectors.sqlite_pages import PageReader, PageTooSlowError
from listdock.connectors.types import FieldType, SourceField, TableInfo

pytestmark = pytest.mark.sources

PAGE = 1000


def open_engine(path: Path) -> Iterator[sa.Engine]:
    engine = create_source_engine("sqlite", ConnectionSettings(), str(path))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def chinook(chinook_sqlite_path: Path) -> Iterator[sa.Engine]:
    yield from open_engine(chinook_sqlite_path)


@pytest.fixture(scope="module")
def northwind(northwind_sqlite_path: Path) -> Iterator[sa.Engine]:
    yield from open_engine(northwind_sqlite_path)


def table_query(table: TableInfo) -> SourceQuery:
    fields = tuple(
        SourceField(column.name, column.name, column.name, column.type) for column in table.columns
    )
    keys = tuple(
        field for field, column in zip(fields, table.columns, strict=True) if column.primary_key
    )
    return SourceQuery(table.name, fields, key_fields=keys, limit=PAGE)


def pages(engine: sa.Engine) -> Iterator[SourceQuery]:
    """Yield a query per page of every table and view, covering every row."""
    for table in discover(engine):
        query = table_query(table)
        with engine.connect() as connection:
            total = connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(table.name))
            ).scalar_one()
        for skip in range(0, max(total, 1), PAGE):
            yield SourceQuery(
                query.table, query.fields, key_fields=query.key_fields, skip=skip, limit=PAGE
            )


@pytest.mark.parametrize("database", ["chinook", "northwind"])
def test_pages_match_streamed_rows(database: str, request: pytest.FixtureRequest) -> None:
    engine: sa.Engine = request.getfixturevalue(database)
    reader = PageReader()
    rendered_fast = 0
    for query in pages(engine):
        expected = list(stream_rows(engine, query))

        assert reader.read(engine, query, budget=60) == expected, query.table
        for format in ("json", "csv", "xml"):
            assert b"".join(
                render(format, query.fields, reader.read(engine, query, budget=60))
            ) == (b"".join(render(format, query.fields, expected)))

        as_read = reader.read(engine, query, budget=60, decimals_as_read=True)
        body = json_page(query.fields, as_read, decimals_as_read=True)
        if body is not None:
            rendered_fast += 1
            assert body == b"".join(render_json(query.fields, expected)), query.table
    # Binary columns (Northwind's pictures) are base64 text, so every page renders in C.
    assert rendered_fast > 0


def test_restricted_pages_match_streamed_rows(chinook: sa.Engine) -> None:
    invoice_id = SourceField("InvoiceId", "InvoiceId", "InvoiceId", FieldType.INTEGER)
    date = SourceField("InvoiceDate", "InvoiceDate", "InvoiceDate", FieldType.DATETIME)
    total = SourceField("Total", "Total", "Total", FieldType.DECIMAL)
    country = SourceField("BillingCountry", "BillingCountry", "Country", FieldType.STRING)
    restriction_sets: list[tuple[Restriction, ...]] = [
        (Restriction(country, "eq", "USA"),),
        (Restriction(country, "contains", "an"), Restriction(total, "ge", "5.5")),
        (Restriction(date, "between", "2010-01-01,2010-12-31T23:59:59"),),
        (Restriction(invoice_id, "in", "3,5,7,400"), Restriction(country, "ne", "Brazil")),
        (Restriction(country, "startswith", "_"),),
        (Restriction(country, "endswith", "a"), Restriction(total, "notempty", None)),
    ]
    reader = PageReader()
    for restrictions in restriction_sets:
        for skip in (0, 3):
            query = SourceQuery(
                "Invoice",
                (invoice_id, date, total, country),
                restrictions,
                (Ordering(total, descending=True),),
                key_fields=(invoice_id,),
                skip=skip,
                limit=20,
            )
            expected = list(stream_rows(chinook, query))

            assert reader.read(chinook, query, budget=60) == expected
            counted = replace(query, skip=0, limit=None)
            matching = len(list(stream_rows(chinook, counted)))
            assert reader.count(chinook, query, budget=60) == matching
            assert reader.count_and_read(chinook, query, budget=60) == (matching, expected)


def test_read_over_budget_marks_slow(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        connection.executemany(
            "INSERT INTO t (v) VALUES (?)", ((f"value {n}",) for n in range(200_000))
        )
    engine = next(open_engine(path))
    value = SourceField("v", "v", "v", FieldType.STRING)
    # No index on v, so the filter scans the whole table and sorting it takes a while.
    query = SourceQuery(
        "t", (value,), (Restriction(value, "contains", "9"),), (Ordering(value),), limit=10
    )
    reader = PageReader()
    try:
        with pytest.raises(PageTooSlowError):
            reader.read(engine, query, budget=0.0001)
        assert reader.is_slow(query)
        # The reader no longer runs the shape at all, so callers read it elsewhere at once.
        with pytest.raises(PageTooSlowError):
            reader.read(engine, query, budget=60)
        assert PageReader().read(engine, query, budget=60) == list(stream_rows(engine, query))

        # Counting and reading share one budget; the statement that ran out is marked.
        other = PageReader()
        with pytest.raises(PageTooSlowError):
            other.count_and_read(engine, query, budget=0.0001)
        assert other.is_slow(query, with_count=True)
        with pytest.raises(PageTooSlowError):
            other.count_and_read(engine, query, budget=60)
    finally:
        engine.dispose()


FIELD_VALUES = {
    FieldType.STRING: st.one_of(st.none(), st.text(), st.integers()),
    FieldType.INTEGER: st.one_of(st.none(), st.integers(), st.booleans()),
    FieldType.FLOAT: st.one_of(st.none(), st.floats()),
    FieldType.BOOLEAN: st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, 2])),
    FieldType.DECIMAL: st.one_of(st.none(), st.decimals(), st.integers()),
    FieldType.DATETIME: st.one_of(st.none(), st.datetimes(), st.text(max_size=5)),
    FieldType.DATE: st.one_of(st.none(), st.dates()),
    FieldType.TIME: st.one_of(st.none(), st.times()),
    FieldType.BINARY: st.one_of(st.none(), st.binary()),
}


@st.composite
def typed_rows(draw: st.DrawFn) -> tuple[tuple[SourceField, ...], list[tuple[Any, ...]]]:
    types = draw(st.lists(st.sampled_from(list(FIELD_VALUES)), min_size=1, max_size=5))
    names = draw(
        st.lists(
            st.sampled_from(["a", "b", "Ä", 'q"', "e"]), min_size=len(types), max_size=len(types)
        )
    )
    fields = tuple(SourceField(n, n, n, t) for n, t in zip(names, types, strict=True))
    rows = draw(st.lists(st.tuples(*(FIELD_VALUES[t] for t in types)), max_size=4))
    return fields, rows


@settings(max_examples=300, deadline=None)
@given(typed_rows())
def test_json_page_matches_render_json(page: tuple[Any, Any]) -> None:
    fields, rows = page
    body = json_page(fields, rows, decimals_as_read=False)
    if body is not None:
        assert body == b"".join(render_json(fields, rows))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(), st.integers(-(2**70), 2**70)), max_size=6))
def test_decimals_as_read_render_exactly(values: list[Any]) -> None:
    field = SourceField("Total", "Total", "Total", FieldType.DECIMAL)
    rows = [(value,) for value in values]
    body = json_page((field,), rows, decimals_as_read=True)
    # What ExactDecimal makes of the same values as SQLite returns them.
    exact = [
        (
            None
            if value is None
            else Decimal(repr(value))
            if isinstance(value, float)
            else Decimal(value),
        )
        for value in values
    ]
    if body is not None:
        assert body == b"".join(render_json((field,), exact))
    else:
        assert any(
            isinstance(value, float) and (not math.isfinite(value) or "e" in repr(value))
            for value in values
        )


def test_json_page_dates_iso() -> None:
    field = SourceField("When", "When", "When", FieldType.DATETIME)
    rows = [(dt.datetime(2024, 1, 2, 3, 4, 5),), ("not a date",), (None,)]
    assert json_page((field,), rows, decimals_as_read=False) == (
        b'[{"When":"2024-01-02T03:04:05"},{"When":"not a date"},{"When":null}]'
    )


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_orjson_writes_floats_as_json_module(value: float) -> None:
    text = orjson.dumps(value)
    marked = any(part in text for part in SMALL_FLOAT_TEXTS)

    if 0 < abs(value) < 1e-4:
        # json_page sends such pages to the json module.
        assert marked
    elif not marked:
        assert text == json.dumps(value).encode()


def test_json_page_small_float_uses_json_module() -> None:
    field = SourceField("Ratio", "Ratio", "Ratio", FieldType.FLOAT)
    rows = [(1.5e-05,), (0.25,)]

    assert json_page((field,), rows, decimals_as_read=False) == (
        b'[{"Ratio":1.5e-05},{"Ratio":0.25}]'
    )
