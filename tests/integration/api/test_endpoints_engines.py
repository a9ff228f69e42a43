"""The same endpoint definitions over Chinook on SQLite, PostgreSQL and MariaDB agree."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from .conftest import API, Api, connector_body, server_settings

CASES = [
    (2, None, None),
    (17, "2022-01-01", "2023-12-31"),
    (40, "2024-01-01", None),
    (999, None, None),
]


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def expected(path: Path, customer: int, start: str | None, end: str | None) -> list[int]:
    sql = "SELECT InvoiceId FROM Invoice WHERE CustomerId = ?"
    values: list[object] = [customer]
    if start:
        sql += " AND substr(InvoiceDate, 1, 10) >= ?"
        values.append(start)
    if end:
        sql += " AND substr(InvoiceDate, 1, 10) <= ?"
        values.append(end)
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute(sql + " ORDER BY InvoiceId", values)]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql", "mysql"])
def test_endpoint_agrees_across_engines(
    api: Api, request: pytest.FixtureRequest, chinook_sqlite_path: Path, engine: str
) -> None:
    name = (lambda text: text) if engine != "postgresql" else snake_case
    if engine == "sqlite":
        body = connector_body("Chinook", "sqlite", [str(chinook_sqlite_path)])
    else:
        database = request.getfixturevalue(
            "chinook_postgres" if engine == "postgresql" else "chinook_mariadb"
        )
        body = connector_body(
            "Chinook", engine, [database.database_name], server_settings(database)
        )
    connector = api.create_connector(body)
    invoice = connector.entity_id(name("Invoice"))
    listed = api.client.get(f"{API}/entity/{invoice}/field", headers=api.login.headers).json()
    by_column = {field["Name"]: field for field in listed}
    customer, date, key = (
        by_column[name("CustomerId")],
        by_column[name("InvoiceDate")],
        by_column[name("InvoiceId")],
    )
    created = api.client.post(
        f"{API}/endpoint",
        json={
            "Endpoint": "InvoicesByCustomer",
            "EntityId": invoice,
            "MaxRecords": 1000,
            "Parameters": [
                {"Name": "customer", "EntityFieldId": customer["EntityFieldId"], "Required": True},
                {"Name": "from", "EntityFieldId": date["EntityFieldId"], "Operator": "ge"},
                {"Name": "to", "EntityFieldId": date["EntityFieldId"], "Operator": "le"},
            ],
        },
        headers=api.login.headers,
    )
    assert created.status_code == 201, created.text

    for customer_id, start, end in CASES:
        params: dict[str, object] = {"customer": customer_id, "orderby": key["ApiName"]}
        if start:
            params["from"] = start
        if end:
            params["to"] = end
        response = api.client.get(
            f"{API}/favorite/InvoicesByCustomer", params=params, headers=api.login.headers
        )
        assert response.status_code == 200, response.text
        found = [row[key["ApiName"]] for row in response.json()]
        assert found == expected(chinook_sqlite_path, customer_id, start, end), (
            customer_id,
            start,
            end,
        )
