"""Generate the sample order-management database that `listdock demo` connects.

The database is a SQLite file with four tables and one view:

    Customers   500 companies, some with non-ASCII names, one with quotes and HTML in it
    Products    200 products in eight categories
    Orders      5,000 orders; ShippedDate is NULL unless the order has shipped
    OrderLines  1 to 7 lines per order, about 20,000 in all
    OrderTotals one row per order: customer, date, line count and total

Money columns are declared ``NUMERIC(10,2)`` and computed with ``Decimal`` rounded half up to
cents. SQLite stores them as INTEGER or REAL, and they read back exactly through ``str()``
because no value has more than 15 significant digits. The same seed always gives the same rows.
"""

from __future__ import annotations

import datetime
import os
import random
import secrets
import sqlite3
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

CUSTOMER_COUNT = 500
PRODUCT_COUNT = 200
ORDER_COUNT = 5_000
MAX_LINES_PER_ORDER = 7

CENT = Decimal("0.01")
FIRST_CUSTOMER_DATE = datetime.date(2020, 1, 1)
LAST_CUSTOMER_DATE = datetime.date(2022, 12, 31)
LAST_ORDER_DATE = datetime.date(2024, 12, 31)
ORDER_STATUSES = ("Pending", "Processing", "Shipped", "Delivered", "Cancelled")
SHIPPED_STATUSES = frozenset({"Shipped", "Delivered"})
DISCOUNTS = tuple(Decimal(value) for value in ("0.00", "0.05", "0.10", "0.15", "0.20"))
DISCOUNT_WEIGHTS = (70, 10, 10, 5, 5)

SCHEMA = """
CREATE TABLE Customers (
    CustomerId  INTEGER PRIMARY KEY,
    CompanyName TEXT NOT NULL,
    ContactName TEXT NOT NULL,
    Email       TEXT NOT NULL,
    City        TEXT NOT NULL,
    Country     TEXT NOT NULL,
    Created     DATE NOT NULL
);

CREATE TABLE Products (
    ProductId    INTEGER PRIMARY KEY,
    ProductName  TEXT NOT NULL,
    Category     TEXT NOT NULL,
    UnitPrice    NUMERIC(10,2) NOT NULL,
    UnitsInStock INTEGER NOT NULL,
    Discontinued BOOLEAN NOT NULL CHECK (Discontinued IN (0, 1))
);

CREATE TABLE Orders (
    OrderId      INTEGER PRIMARY KEY,
    CustomerId   INTEGER NOT NULL REFERENCES Customers (CustomerId),
    OrderDate    DATE NOT NULL,
    RequiredDate DATE NOT NULL,
    ShippedDate  DATE,
    Status       TEXT NOT NULL
        CHECK (Status IN ('Pending', 'Processing', 'Shipped', 'Delivered', 'Cancelled')),
    Freight      NUMERIC(10,2) NOT NULL
);

CREATE TABLE OrderLines (
    OrderLineId INTEGER PRIMARY KEY,
    OrderId     INTEGER NOT NULL REFERENCES Orders (OrderId),
    ProductId   INTEGER NOT NULL REFERENCES Products (ProductId),
    Quantity    INTEGER NOT NULL CHECK (Quantity > 0),
    UnitPrice   NUMERIC(10,2) NOT NULL,
    Discount    NUMERIC(3,2) NOT NULL CHECK (Discount >= 0 AND Discount < 1)
);

CREATE INDEX OrdersCustomerId ON Orders (CustomerId);
CREATE INDEX OrderLinesOrderId ON OrderLines (OrderId);
CREATE INDEX OrderLinesProductId ON OrderLines (ProductId);

-- A line's amount is Quantity * UnitPrice * (1 - Discount) rounded half up to cents, and an
-- order's total is the sum of its line amounts (freight excluded). The arithmetic runs on
-- integers (cents times percent) so that no floating-point rounding can shift a cent.
CREATE VIEW OrderTotals AS
SELECT
    o.OrderId AS OrderId,
    c.CompanyName AS Customer,
    o.OrderDate AS OrderDate,
    COUNT(l.OrderLineId) AS LineCount,
    SUM(
        (l.Quantity
            * CAST(ROUND(l.UnitPrice * 100) AS INTEGER)
            * (100 - CAST(ROUND(l.Discount * 100) AS INTEGER))
            + 50) / 100
    ) / 100.0 AS Total
FROM Orders AS o
JOIN Customers AS c ON c.CustomerId = o.CustomerId
JOIN OrderLines AS l ON l.OrderId = o.OrderId
GROUP BY o.OrderId, c.CompanyName, o.OrderDate;
"""

# Customers that every seed contains, first in id order, so the web app and tests always show
# non-ASCII text, an apostrophe, double quotes and markup that must be escaped.
FIXED_CUSTOMERS = (
    ("Müller GmbH", "Jürgen Müller", "München", "Germany"),
    ("Łódź Handel Sp. z o.o.", "Małgorzata Wiśniewska", "Łódź", "Poland"),
    ("Padaria São Jorge Ltda.", "João Gonçalves", "São Paulo", "Brazil"),
    ('O\'Brien & "Sons" <b>Wholesale</b>', "Siobhán O'Brien", "Dublin", "Ireland"),
    ("Øresund Fisk AB", "Søren Håkansson", "Malmö", "Sweden"),
    ("株式会社 東京商事", "田中 花子", "東京", "Japan"),
)

# fmt: off
FIRST_NAMES = (
    "Anna", "Björn", "Chloé", "Dmitri", "Elif", "François", "Grace", "Hiroshi", "Inés",
    "Jakub", "Kateřina", "Liam", "Maëlle", "Noah", "Olga", "Pål", "Rosa", "Stefan", "Tomás",
    "Zoë", "Ahmed", "Mei", "Lukas", "Sofia",
)
LAST_NAMES = (
    "Schröder", "Nowak", "Dvořák", "Öztürk", "Núñez", "Sørensen", "Smith", "Rossi", "Dubois",
    "Kowalski", "Ivanova", "Tanaka", "García", "Lefèvre", "Jensen", "Novák", "Costa", "Weiß",
    "Fernández", "Brown", "Murphy", "Kim", "Nguyen", "Larsen",
)
COMPANY_SUFFIXES = (
    "GmbH", "Ltd", "S.A.", "Inc.", "AB", "Sp. z o.o.", "Ltda.", "& Co.", "Trading",
    "Imports", "Foods", "Market",
)
CITIES = (
    ("Berlin", "Germany"), ("Köln", "Germany"), ("Zürich", "Switzerland"),
    ("Kraków", "Poland"), ("Łódź", "Poland"), ("Praha", "Czechia"), ("Wien", "Austria"),
    ("São Paulo", "Brazil"), ("Bogotá", "Colombia"), ("Ciudad de México", "Mexico"),
    ("Montréal", "Canada"), ("Toronto", "Canada"), ("Reykjavík", "Iceland"),
    ("İstanbul", "Türkiye"), ("Göteborg", "Sweden"), ("København", "Denmark"),
    ("Lyon", "France"), ("Málaga", "Spain"), ("Porto", "Portugal"), ("London", "UK"),
    ("Chicago", "USA"), ("Seattle", "USA"), ("Osaka", "Japan"), ("Hà Nội", "Vietnam"),
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
# Latin letters that NFKD leaves whole, so dropping non-ASCII characters would lose them.
LETTERS_WITHOUT_DECOMPOSITION = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D"}
)

PRODUCT_CATEGORIES = {
    "Beverages": ("Coffee", "Green tea", "Lemonade", "Cola", "Mineral water", "Cider"),
    "Condiments": ("Mustard", "Jalapeño sauce", "Ketchup", "Pesto", "Chutney", "Aioli"),
    "Confections": ("Crème brûlée", "Chocolate", "Marzipan", "Toffee", "Nougat", "Biscotti"),
    "Dairy": ("Gruyère", "Feta", "Yoghurt", "Butter", "Mozzarella", "Skyr"),
    "Grains": ("Spaghetti", "Rye bread", "Couscous", "Basmati rice", "Oats", "Pumpernickel"),
    "Meat": ("Pâté", "Salami", "Bratwurst", "Prosciutto", "Chorizo", "Smoked ham"),
    "Produce": ("Tofu", "Dried apples", "Piñon nuts", "Olives", "Chestnuts", "Mushrooms"),
    "Seafood": ("Smørrebrød herring", "Salmon", "Anchovies", "Crab meat", "Squid", "Caviar"),
}
PRODUCT_ADJECTIVES = (
    "Organic", "Classic", "Spicy", "Premium", "Alpine", "Nordic", "Rustic", "Golden",
)
# fmt: on


class Customer(NamedTuple):
    customer_id: int
    company_name: str
    contact_name: str
    email: str
    city: str
    country: str
    created: datetime.date


class Product(NamedTuple):
    product_id: int
    name: str
    category: str
    unit_price: Decimal
    units_in_stock: int
    discontinued: bool


class Order(NamedTuple):
    order_id: int
    customer_id: int
    order_date: datetime.date
    required_date: datetime.date
    shipped_date: datetime.date | None
    status: str
    freight: Decimal


class OrderLine(NamedTuple):
    order_line_id: int
    order_id: int
    product_id: int
    quantity: int
    unit_price: Decimal
    discount: Decimal


def generate_demo_database(path: Path, *, seed: int = 7) -> dict[str, int]:
    """Create the sample database at ``path`` and return the row count of each table.

    Raises FileExistsError when ``path`` exists; an existing file is never changed. The file
    appears only once it is complete: the rows go to a temporary file beside ``path``, which is
    then linked into place.
    """
    if path.exists():
        raise FileExistsError(f"Demo database {path} already exists; choose a new path.")

    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    customers = _generate_customers(rng)
    products = _generate_products(rng)
    orders = _generate_orders(rng, customers)
    lines = _generate_order_lines(rng, orders, products)

    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        counts = _write_database(temporary, customers, products, orders, lines)
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise FileExistsError(
                f"Demo database {path} already exists; choose a new path."
            ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return counts


def _generate_customers(rng: random.Random) -> list[Customer]:
    customers = []
    for index in range(CUSTOMER_COUNT):
        customer_id = index + 1
        if index < len(FIXED_CUSTOMERS):
            company_name, contact_name, city, country = FIXED_CUSTOMERS[index]
        else:
            first_name = rng.choice(FIRST_NAMES)
            last_name = rng.choice(LAST_NAMES)
            contact_name = f"{first_name} {last_name}"
            company_name = f"{rng.choice(LAST_NAMES)} {rng.choice(COMPANY_SUFFIXES)}"
            city, country = rng.choice(CITIES)

        email = f"{_email_local_part(contact_name, customer_id)}@{rng.choice(EMAIL_DOMAINS)}"
        created = _random_date(rng, FIRST_CUSTOMER_DATE, LAST_CUSTOMER_DATE)
        customers.append(
            Customer(customer_id, company_name, contact_name, email, city, country, created)
        )
    return customers


def _generate_products(rng: random.Random) -> list[Product]:
    names = [
        (f"{adjective} {noun}", category)
        for category, nouns in PRODUCT_CATEGORIES.items()
        for noun in nouns
        for adjective in PRODUCT_ADJECTIVES
    ]
    rng.shuffle(names)

    products = []
    for index, (name, category) in enumerate(names[:PRODUCT_COUNT]):
        unit_price = Decimal(rng.randint(150, 25_000)) * CENT
        units_in_stock = rng.randint(0, 500)
        discontinued = rng.random() < 0.08
        products.append(
            Product(index + 1, name, category, unit_price, units_in_stock, discontinued)
        )
    return products


def _generate_orders(rng: random.Random, customers: Sequence[Customer]) -> list[Order]:
    orders = []
    for index in range(ORDER_COUNT):
        customer = rng.choice(customers)
        order_date = _random_date(rng, customer.created, LAST_ORDER_DATE)
        required_date = order_date + datetime.timedelta(days=rng.randint(7, 30))
        status = rng.choices(ORDER_STATUSES, weights=(5, 10, 25, 55, 5))[0]
        shipped_date = None
        if status in SHIPPED_STATUSES:
            shipped_date = order_date + datetime.timedelta(days=rng.randint(1, 14))
        freight = Decimal(rng.randint(0, 50_000)) * CENT
        orders.append(
            Order(
                index + 1,
                customer.customer_id,
                order_date,
                required_date,
                shipped_date,
                status,
                freight,
            )
        )
    return orders


def _generate_order_lines(
    rng: random.Random, orders: Sequence[Order], products: Sequence[Product]
) -> list[OrderLine]:
    lines: list[OrderLine] = []
    for order in orders:
        line_count = rng.randint(1, MAX_LINES_PER_ORDER)
        for product in rng.sample(products, line_count):
            quantity = rng.randint(1, 50)
            discount = rng.choices(DISCOUNTS, weights=DISCOUNT_WEIGHTS)[0]
            lines.append(
                OrderLine(
                    len(lines) + 1,
                    order.order_id,
                    product.product_id,
                    quantity,
                    product.unit_price,
                    discount,
                )
            )
    return lines


def _write_database(
    path: Path,
    customers: Sequence[Customer],
    products: Sequence[Product],
    orders: Sequence[Order],
    lines: Sequence[OrderLine],
) -> dict[str, int]:
    """Write every table to a new SQLite file at ``path`` in one transaction."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(SCHEMA)
        with connection:
            connection.executemany(
                "INSERT INTO Customers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*customer[:-1], customer.created.isoformat()) for customer in customers],
            )
            connection.executemany(
                "INSERT INTO Products VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        product.product_id,
                        product.name,
                        product.category,
                        str(product.unit_price),
                        product.units_in_stock,
                        int(product.discontinued),
                    )
                    for product in products
                ],
            )
            connection.executemany(
                "INSERT INTO Orders VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        order.order_id,
                        order.customer_id,
                        order.order_date.isoformat(),
                        order.required_date.isoformat(),
                        order.shipped_date.isoformat() if order.shipped_date else None,
                        order.status,
                        str(order.freight),
                    )
                    for order in orders
                ],
            )
            connection.executemany(
                "INSERT INTO OrderLines VALUES (?, ?, ?, ?, ?, ?)",
                [(*line[:4], str(line.unit_price), str(line.discount)) for line in lines],
            )

        tables = ("Customers", "Products", "Orders", "OrderLines")
        return {
            table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }
    finally:
        connection.close()


def _random_date(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


def _email_local_part(contact_name: str, customer_id: int) -> str:
    """Return an ASCII mailbox name such as ``jurgen.muller.1`` built from ``contact_name``."""
    transliterated = contact_name.translate(LETTERS_WITHOUT_DECOMPOSITION)
    decomposed = unicodedata.normalize("NFKD", transliterated)
    ascii_name = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    words = ["".join(char for char in word if char.isalnum()) for word in ascii_name.split()]
    words = [word for word in words if word]
    if not words:
        words = ["contact"]
    return ".".join([*words, str(customer_id)])
