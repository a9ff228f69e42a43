from pathlib import Path

import pytest

from listdock.connectors.discovery import discover
from listdock.connectors.engines import ConnectionSettings, create_source_engine
from listdock.connectors.types import FieldType, ForeignKeyInfo, TableInfo


def _discover(path: Path) -> dict[str, TableInfo]:
    engine = create_source_engine("sqlite", ConnectionSettings(), str(path))
    try:
        return {table.name: table for table in discover(engine)}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def chinook(chinook_sqlite_path: Path) -> dict[str, TableInfo]:
    return _discover(chinook_sqlite_path)


@pytest.fixture(scope="module")
def northwind(northwind_sqlite_path: Path) -> dict[str, TableInfo]:
    return _discover(northwind_sqlite_path)


def test_chinook_has_eleven_tables(chinook: dict[str, TableInfo]) -> None:
    assert len(chinook) == 11
    assert all(table.kind == "table" for table in chinook.values())


def test_discovery_sorted_by_name(chinook: dict[str, TableInfo]) -> None:
    assert list(chinook) == sorted(chinook, key=str.casefold)


def test_chinook_primary_keys(chinook: dict[str, TableInfo]) -> None:
    keys = [column.name for column in chinook["PlaylistTrack"].columns if column.primary_key]
    assert keys == ["PlaylistId", "TrackId"]


def test_chinook_money_is_decimal(chinook: dict[str, TableInfo]) -> None:
    total = next(column for column in chinook["Invoice"].columns if column.name == "Total")
    assert total.type is FieldType.DECIMAL
    assert total.decimal_places == 2
    assert total.source_type == "NUMERIC(10, 2)"


def test_chinook_column_types(chinook: dict[str, TableInfo]) -> None:
    types = {column.name: column.type for column in chinook["Invoice"].columns}
    assert types["InvoiceId"] is FieldType.INTEGER
    assert types["InvoiceDate"] is FieldType.DATETIME
    assert types["BillingCity"] is FieldType.STRING


def test_chinook_nullability(chinook: dict[str, TableInfo]) -> None:
    nullable = {column.name: column.nullable for column in chinook["Customer"].columns}
    assert nullable["Email"] is False
    assert nullable["Company"] is True


def test_chinook_foreign_keys(chinook: dict[str, TableInfo]) -> None:
    expected = ForeignKeyInfo(("CustomerId",), "Customer", ("CustomerId",))
    assert chinook["Invoice"].foreign_keys == (expected,)


def test_northwind_tables_and_views(northwind: dict[str, TableInfo]) -> None:
    assert northwind["Order Details"].kind == "table"
    assert northwind["Order Details Extended"].kind == "view"
    assert sum(table.kind == "view" for table in northwind.values()) == 16


def test_northwind_views_have_no_keys(northwind: dict[str, TableInfo]) -> None:
    view = northwind["Order Details Extended"]
    assert not any(column.primary_key for column in view.columns)
    assert view.foreign_keys == ()


def test_northwind_blob_columns_binary(northwind: dict[str, TableInfo]) -> None:
    picture = next(c for c in northwind["Categories"].columns if c.name == "Picture")
    photo = next(c for c in northwind["Employees"].columns if c.name == "Photo")
    assert picture.type is FieldType.BINARY
    assert photo.type is FieldType.BINARY


def test_northwind_order_details_key(northwind: dict[str, TableInfo]) -> None:
    keys = [c.name for c in northwind["Order Details"].columns if c.primary_key]
    assert keys == ["OrderID", "ProductID"]


def test_sqlite_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "types.db"
    engine = create_source_engine("sqlite", ConnectionSettings(), str(path))
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE t (flag "bit", picture image, name NVARCHAR(40), at DATETIME,'
            " price NUMERIC(10,2), data BLOB, n INTEGER PRIMARY KEY)"
        )
    connection.close()
    try:
        (table,) = discover(engine)
    finally:
        engine.dispose()
    types = {column.name: column.type for column in table.columns}
    assert types["flag"] is FieldType.BOOLEAN
    assert types["picture"] is FieldType.BINARY
    assert types["name"] is FieldType.STRING
    assert types["at"] is FieldType.DATETIME
    assert types["price"] is FieldType.DECIMAL
    assert types["data"] is FieldType.BINARY
    assert types["n"] is FieldType.INTEGER


def test_postgres_discovery(chinook_postgres) -> None:  # type: ignore[no-untyped-def]
    engine = create_source_engine(
        "postgresql", chinook_postgres.settings, chinook_postgres.database_name
    )
    try:
        tables = {table.name: table for table in discover(engine)}
    finally:
        engine.dispose()
    total = next(c for c in tables["invoice"].columns if c.name == "total")
    assert len(tables) == 11
    assert total.type is FieldType.DECIMAL
    assert total.decimal_places == 2


def test_mariadb_discovery(chinook_mariadb) -> None:  # type: ignore[no-untyped-def]
    engine = create_source_engine("mysql", chinook_mariadb.settings, chinook_mariadb.database_name)
    try:
        tables = {table.name: table for table in discover(engine)}
    finally:
        engine.dispose()
    total = next(c for c in tables["Invoice"].columns if c.name == "Total")
    assert len(tables) == 11
    assert total.decimal_places == 2
    assert tables["Invoice"].foreign_keys[0].referred_table == "Customer"
