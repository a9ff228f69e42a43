"""Tests of the sample order-management database generator."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from listdock.demo_data import generate_demo_database

TABLES = ("Customers", "Products", "Orders", "OrderLines")
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database shared by the tests that only read it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    generate_demo_database(path)
    return path


@pytest.fixture()
def demo(demo_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{demo_path}?mode=ro", uri=True)
    yield connection
    connection.close()


def dump_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in (*TABLES, "OrderTotals")
        }
    finally:
        connection.close()


def to_decimal(value: object) -> Decimal:
    return Decimal(str(value))


def test_counts_match_tables(tmp_path: Path) -> None:
    counts = generate_demo_database(tmp_path / "demo.sqlite")
    connection = sqlite3.connect(tmp_path / "demo.sqlite")
    stored = {
        table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES
    }
    connection.close()

    assert counts == stored
    assert counts["Customers"] == 500
    assert counts["Products"] == 200
    assert counts["Orders"] == 5_000
    assert 15_000 <= counts["OrderLines"] <= 25_000


def test_same_seed_same_rows(tmp_path: Path) -> None:
    generate_demo_database(tmp_path / "first.sqlite", seed=11)
    generate_demo_database(tmp_path / "second.sqlite", seed=11)

    assert dump_rows(tmp_path / "first.sqlite") == dump_rows(tmp_path / "second.sqlite")


def test_other_seed_other_rows(tmp_path: Path) -> None:
    generate_demo_database(tmp_path / "first.sqlite", seed=1)
    generate_demo_database(tmp_path / "second.sqlite", seed=2)
    first = dump_rows(tmp_path / "first.sqlite")
    second = dump_rows(tmp_path / "second.sqlite")

    assert first["Orders"] != second["Orders"]
    assert first["OrderLines"] != second["OrderLines"]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("Customers", "CustomerId"),
        ("Products", "ProductId"),
        ("Orders", "OrderId"),
        ("OrderLines", "OrderLineId"),
    ],
)
def test_primary_key_declared(demo: sqlite3.Connection, table: str, key: str) -> None:
    columns = demo.execute(f"PRAGMA table_info({table})").fetchall()
    primary_keys = [column[1] for column in columns if column[5]]

    assert primary_keys == [key]


@pytest.mark.parametrize(
    ("table", "column", "parent", "parent_column"),
    [
        ("Orders", "CustomerId", "Customers", "CustomerId"),
        ("OrderLines", "OrderId", "Orders", "OrderId"),
        ("OrderLines", "ProductId", "Products", "ProductId"),
    ],
)
def test_foreign_key_declared(
    demo: sqlite3.Connection, table: str, column: str, parent: str, parent_column: str
) -> None:
    foreign_keys = demo.execute(f"PRAGMA foreign_key_list({table})").fetchall()
    declared = {(key[3], key[2], key[4]) for key in foreign_keys}

    assert (column, parent, parent_column) in declared


def test_foreign_key_check_clean(demo: sqlite3.Connection) -> None:
    assert demo.execute("PRAGMA foreign_key_check").fetchall() == []


def test_every_line_order_exists(demo: sqlite3.Connection) -> None:
    orphans = demo.execute(
        "SELECT COUNT(*) FROM OrderLines AS l"
        " LEFT JOIN Orders AS o ON o.OrderId = l.OrderId WHERE o.OrderId IS NULL"
    ).fetchone()[0]

    assert orphans == 0


def test_every_order_has_lines(demo: sqlite3.Connection) -> None:
    empty = demo.execute(
        "SELECT COUNT(*) FROM Orders AS o"
        " WHERE NOT EXISTS (SELECT 1 FROM OrderLines AS l WHERE l.OrderId = o.OrderId)"
    ).fetchone()[0]

    assert empty == 0


def test_shipped_date_only_when_shipped(demo: sqlite3.Connection) -> None:
    rows = demo.execute("SELECT Status, ShippedDate FROM Orders").fetchall()
    shipped_without_date = [
        row for row in rows if row[0] in ("Shipped", "Delivered") and not row[1]
    ]
    date_without_shipping = [
        row for row in rows if row[0] not in ("Shipped", "Delivered") and row[1]
    ]

    assert any(row[1] is None for row in rows)
    assert shipped_without_date == []
    assert date_without_shipping == []


def test_money_has_two_places(demo: sqlite3.Connection) -> None:
    prices = [row[0] for row in demo.execute("SELECT UnitPrice FROM OrderLines")]
    freights = [row[0] for row in demo.execute("SELECT Freight FROM Orders")]

    assert all(to_decimal(price) == to_decimal(price).quantize(CENT) for price in prices)
    assert all(to_decimal(freight) == to_decimal(freight).quantize(CENT) for freight in freights)


@pytest.mark.parametrize("order_id", [1, 2, 2_500, 5_000])
def test_view_totals_match_lines(demo: sqlite3.Connection, order_id: int) -> None:
    lines = demo.execute(
        "SELECT Quantity, UnitPrice, Discount FROM OrderLines WHERE OrderId = ?", (order_id,)
    ).fetchall()
    expected = sum(
        (
            (quantity * to_decimal(price) * (1 - to_decimal(discount))).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            for quantity, price, discount in lines
        ),
        start=Decimal(0),
    )
    line_count, total = demo.execute(
        "SELECT LineCount, Total FROM OrderTotals WHERE OrderId = ?", (order_id,)
    ).fetchone()

    assert line_count == len(lines)
    assert to_decimal(total) == expected


def test_view_rounds_half_up(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    generate_demo_database(path)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO Orders VALUES (9001, 1, '2024-01-02', '2024-01-20', NULL, 'Pending', 0)"
        )
        # 3 x 19.99 less 15% is 50.9745, so 50.97. 1 x 0.05 less 10% is 0.045, so 0.05 half up.
        connection.execute("INSERT INTO OrderLines VALUES (90001, 9001, 1, 3, '19.99', '0.15')")
        connection.execute("INSERT INTO OrderLines VALUES (90002, 9001, 2, 1, '0.05', '0.10')")
    customer, line_count, total = connection.execute(
        "SELECT Customer, LineCount, Total FROM OrderTotals WHERE OrderId = 9001"
    ).fetchone()
    connection.close()

    assert customer == "Müller GmbH"
    assert line_count == 2
    assert to_decimal(total) == Decimal("51.02")


def test_non_ascii_round_trip(demo: sqlite3.Connection) -> None:
    companies = {row[0] for row in demo.execute("SELECT CompanyName FROM Customers")}
    cities = {row[0] for row in demo.execute("SELECT City FROM Customers")}

    assert "Müller GmbH" in companies
    assert "株式会社 東京商事" in companies
    assert "Łódź" in cities
    assert "São Paulo" in cities


def test_markup_name_stored_verbatim(demo: sqlite3.Connection) -> None:
    companies = {row[0] for row in demo.execute("SELECT CompanyName FROM Customers")}

    assert 'O\'Brien & "Sons" <b>Wholesale</b>' in companies


def test_emails_are_ascii(demo: sqlite3.Connection) -> None:
    emails = [row[0] for row in demo.execute("SELECT Email FROM Customers")]

    assert all(email.isascii() for email in emails)
    assert len(set(emails)) == len(emails)


def test_existing_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    path.write_bytes(b"keep me")

    with pytest.raises(FileExistsError):
        generate_demo_database(path)
    assert path.read_bytes() == b"keep me"


def test_no_temporary_file_left(tmp_path: Path) -> None:
    generate_demo_database(tmp_path / "demo.sqlite")

    assert [path.name for path in tmp_path.iterdir()] == ["demo.sqlite"]
