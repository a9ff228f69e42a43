"""Custom lists: fixed restrictions, chosen fields, variables with relative defaults."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services

from ..conftest import FakeClock
from .conftest import API, Api, ApiConnector
from .saved_support import api_user


def recent_invoices(
    api: Api, chinook: ApiConnector, default: str = "days_ago:30", **extra: Any
) -> Any:
    fields = api.fields(chinook.entity_id("Invoice"))
    body = {
        "Name": "Recent German invoices",
        "Fields": [fields["InvoiceId"], fields["InvoiceDate"], fields["BillingCountry"]],
        "Restrictions": [
            {"EntityFieldId": fields["BillingCountry"], "Operator": "eq", "Value": "Germany"},
            {"EntityFieldId": fields["InvoiceDate"], "Operator": "ge", "Variable": "StartDate"},
        ],
        "Variables": [{"Name": "StartDate", "Type": "date", "Default": default}],
        **extra,
    }
    return api.client.post(
        f"{API}/entity/{chinook.entity_id('Invoice')}/custom-list",
        json=body,
        headers=api.login.headers,
    )


def german_invoices_since(path: Path, start: str) -> list[int]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT InvoiceId FROM Invoice WHERE BillingCountry = 'Germany' "
            "AND substr(InvoiceDate, 1, 10) >= ? ORDER BY InvoiceId",
            (start,),
        ).fetchall()
    return [row[0] for row in rows]


def data(api: Api, entity_id: str, **params: Any) -> Any:
    return api.client.get(
        f"{API}/entity/{entity_id}/data",
        params={"MaxRecords": 1000, **params},
        headers=api.login.headers,
    )


def test_relative_default_follows_clock(
    api: Api, chinook: ApiConnector, clock: FakeClock, chinook_sqlite_path: Path
) -> None:
    clock.current = datetime(2025, 5, 15, 9, 30, tzinfo=UTC)
    created = recent_invoices(api, chinook, default="days_ago:100")
    assert created.status_code == 201, created.text
    entity_id = created.json()["EntityId"]

    response = data(api, entity_id, orderby="InvoiceId")
    assert response.status_code == 200, response.text
    assert [row["InvoiceId"] for row in response.json()] == german_invoices_since(
        chinook_sqlite_path, "2025-02-04"
    )
    assert set(response.json()[0]) == {"InvoiceId", "InvoiceDate", "BillingCountry"}

    clock.current = datetime(2024, 3, 1, tzinfo=UTC)
    moved = data(api, entity_id, orderby="InvoiceId")
    assert [row["InvoiceId"] for row in moved.json()] == german_invoices_since(
        chinook_sqlite_path, "2023-11-22"
    )


@pytest.mark.parametrize(
    ("default", "today", "start"),
    [
        ("start_of_month", datetime(2025, 2, 20, tzinfo=UTC), "2025-02-01"),
        ("start_of_year", datetime(2025, 2, 20, tzinfo=UTC), "2025-01-01"),
        ("today", datetime(2025, 2, 20, tzinfo=UTC), "2025-02-20"),
        ("2024-06-01", datetime(2025, 2, 20, tzinfo=UTC), "2024-06-01"),
    ],
)
def test_relative_defaults(
    api: Api,
    chinook: ApiConnector,
    clock: FakeClock,
    chinook_sqlite_path: Path,
    default: str,
    today: datetime,
    start: str,
) -> None:
    clock.current = today
    entity_id = recent_invoices(api, chinook, default=default).json()["EntityId"]
    rows = data(api, entity_id, orderby="InvoiceId").json()
    assert [row["InvoiceId"] for row in rows] == german_invoices_since(chinook_sqlite_path, start)


def test_variable_overridden_by_query(
    api: Api, chinook: ApiConnector, chinook_sqlite_path: Path
) -> None:
    entity_id = recent_invoices(api, chinook).json()["EntityId"]
    rows = data(api, entity_id, StartDate="2023-01-01", orderby="InvoiceId").json()
    assert [row["InvoiceId"] for row in rows] == german_invoices_since(
        chinook_sqlite_path, "2023-01-01"
    )
    bad = data(api, entity_id, StartDate="someday")
    assert bad.status_code == 400
    assert "StartDate" in bad.json()["error"]


def test_fixed_restriction_always_applies(api: Api, chinook: ApiConnector) -> None:
    entity_id = recent_invoices(api, chinook).json()["EntityId"]
    rows = data(api, entity_id, StartDate="2000-01-01").json()
    assert rows
    assert {row["BillingCountry"] for row in rows} == {"Germany"}
    query = api.query(
        {
            "Id": entity_id,
            "Query": {
                "Restrictions": [{"EntityFieldId": "x", "Operator": "ne", "Value": "Germany"}]
            },
        }
    )
    assert query.status_code == 400


def test_fields_outside_the_custom_list_are_unknown(api: Api, chinook: ApiConnector) -> None:
    entity_id = recent_invoices(api, chinook).json()["EntityId"]
    response = data(api, entity_id, fields="InvoiceId,Total")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"Variables": [{"Name": "StartDate", "Type": "date", "Default": "next_tuesday"}]}, 400),
        ({"Variables": [{"Name": "token", "Type": "date", "Default": "today"}]}, 400),
        ({"Variables": [{"Name": "StartDate", "Type": "colour", "Default": None}]}, 400),
        ({"Fields": ["nope"]}, 400),
        ({"Name": "Invoice"}, 409),
        ({"Extra": 1}, 422),
    ],
)
def test_bad_definitions(
    api: Api, chinook: ApiConnector, change: dict[str, Any], status: int
) -> None:
    response = recent_invoices(api, chinook, **change)
    assert response.status_code == status, response.text


def test_contributor_role_needed(
    client: TestClient, services: Services, api: Api, chinook: ApiConnector
) -> None:
    fields = api.fields(chinook.entity_id("Invoice"))
    url = f"{API}/entity/{chinook.entity_id('Invoice')}/custom-list"
    body = {"Name": "Mine", "Fields": [fields["InvoiceId"]]}
    user = api_user(services, "user", ["ApiReader"], connector_id=chinook.id)
    refused = client.post(url, json=body, headers=user.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing_role"
    contributor = api_user(
        services,
        "contributor",
        ["ApiReader"],
        connector_id=chinook.id,
        connector_roles=["User", "CustomListContributor"],
    )
    created = client.post(url, json=body, headers=contributor.headers)
    assert created.status_code == 201, created.text
    listed = client.get(
        f"{API}/entity/{created.json()['EntityId']}/data", headers=contributor.headers
    )
    assert listed.status_code == 200, listed.text


def test_only_custom_lists_can_be_deleted(api: Api, chinook: ApiConnector) -> None:
    table = api.client.delete(
        f"{API}/entity/{chinook.entity_id('Invoice')}", headers=api.login.headers
    )
    assert table.status_code == 400
    assert table.json()["code"] == "not_custom_list"
    entity_id = recent_invoices(api, chinook).json()["EntityId"]
    assert (
        api.client.delete(f"{API}/entity/{entity_id}", headers=api.login.headers).status_code == 204
    )
    assert data(api, entity_id).status_code == 404
