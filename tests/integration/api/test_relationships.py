"""Details: discovery from Chinook's foreign keys, related rows, grants, manual details."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from listdock.app import Services

from .conftest import API, Api, ApiConnector
from .saved_support import api_user


def invoice_detail(api: Api, chinook: ApiConnector) -> dict[str, Any]:
    response = api.client.get(
        f"{API}/entity/{chinook.entity_id('Customer')}/relationship", headers=api.login.headers
    )
    assert response.status_code == 200, response.text
    details = {item["Name"]: item for item in response.json()}
    return details["Invoice"]


def test_discovered_from_foreign_keys(api: Api, chinook: ApiConnector) -> None:
    detail = invoice_detail(api, chinook)
    customer_fields = api.fields(chinook.entity_id("Customer"))
    invoice_fields = api.fields(chinook.entity_id("Invoice"))
    assert detail["Discovered"] is True
    assert detail["ToEntityId"] == chinook.entity_id("Invoice")
    assert detail["Fields"] == [
        {
            "FromEntityFieldId": customer_fields["CustomerId"],
            "ToEntityFieldId": invoice_fields["CustomerId"],
        }
    ]


def test_refresh_does_not_duplicate(api: Api, chinook: ApiConnector) -> None:
    before = api.client.get(
        f"{API}/entity/{chinook.entity_id('Customer')}/relationship", headers=api.login.headers
    )
    refreshed = api.client.post(f"{API}/connector/{chinook.id}/refresh", headers=api.login.headers)
    assert refreshed.status_code == 200, refreshed.text
    after = api.client.get(
        f"{API}/entity/{chinook.entity_id('Customer')}/relationship", headers=api.login.headers
    )
    assert after.json() == before.json()


def test_related_rows_match_sql(api: Api, chinook: ApiConnector, chinook_sqlite_path: Path) -> None:
    detail = invoice_detail(api, chinook)
    for customer in (1, 17, 59):
        response = api.client.get(
            f"{API}/relationship/{detail['RelationshipId']}/data",
            params={"CustomerId": customer, "orderby": "InvoiceId", "format": "json"},
            headers=api.login.headers,
        )
        assert response.status_code == 200, response.text
        with sqlite3.connect(chinook_sqlite_path) as connection:
            expected = [
                row[0]
                for row in connection.execute(
                    "SELECT InvoiceId FROM Invoice WHERE CustomerId = ? ORDER BY InvoiceId",
                    (customer,),
                )
            ]
        assert [row["InvoiceId"] for row in response.json()] == expected


def test_missing_and_unknown_keys_are_400(api: Api, chinook: ApiConnector) -> None:
    url = f"{API}/relationship/{invoice_detail(api, chinook)['RelationshipId']}/data"
    missing = api.client.get(url, headers=api.login.headers)
    assert missing.status_code == 400
    assert missing.json()["code"] == "missing_parameter"
    unknown = api.client.get(url, params={"CustomerId": 1, "Email": "x"}, headers=api.login.headers)
    assert unknown.status_code == 400
    assert "accepted: CustomerId" in unknown.json()["error"]
    wrong = api.client.get(url, params={"CustomerId": "abc"}, headers=api.login.headers)
    assert wrong.status_code == 400


def test_detail_grant_needed(
    client: TestClient, services: Services, api: Api, chinook: ApiConnector
) -> None:
    detail_id = invoice_detail(api, chinook)["RelationshipId"]
    url = f"{API}/relationship/{detail_id}/data"
    without = api_user(services, "nodetail", ["ApiReader"], connector_id=chinook.id, details=[])
    assert client.get(url, params={"CustomerId": 1}, headers=without.headers).status_code == 404
    listed = client.get(
        f"{API}/entity/{chinook.entity_id('Customer')}/relationship", headers=without.headers
    )
    assert listed.json() == []
    granted = api_user(
        services, "detail", ["ApiReader"], connector_id=chinook.id, details=[detail_id]
    )
    assert client.get(url, params={"CustomerId": 1}, headers=granted.headers).status_code == 200


def test_target_list_grant_needed(
    client: TestClient, services: Services, api: Api, chinook: ApiConnector
) -> None:
    detail_id = invoice_detail(api, chinook)["RelationshipId"]
    customer_only = api_user(
        services,
        "customers",
        ["ApiReader"],
        connector_id=chinook.id,
        lists=[chinook.entity_id("Customer")],
    )
    response = client.get(
        f"{API}/relationship/{detail_id}/data",
        params={"CustomerId": 1},
        headers=customer_only.headers,
    )
    assert response.status_code == 404


def test_manual_detail_and_delete(
    client: TestClient, services: Services, api: Api, chinook: ApiConnector
) -> None:
    artist = api.fields(chinook.entity_id("Artist"))
    album = api.fields(chinook.entity_id("Album"))
    body = {
        "Name": "Records",
        "ToEntityId": chinook.entity_id("Album"),
        "Fields": [{"FromEntityFieldId": artist["ArtistId"], "ToEntityFieldId": album["ArtistId"]}],
    }
    url = f"{API}/entity/{chinook.entity_id('Artist')}/relationship"
    user = api_user(services, "user", ["ApiReader"], connector_id=chinook.id)
    refused = client.post(url, json=body, headers=user.headers)
    assert refused.status_code == 403
    created = client.post(url, json=body, headers=api.login.headers)
    assert created.status_code == 201, created.text
    clash = client.post(url, json={**body, "Name": "RECORDS"}, headers=api.login.headers)
    assert clash.status_code == 409
    detail_id = created.json()["RelationshipId"]
    rows = client.get(
        f"{API}/relationship/{detail_id}/data", params={"ArtistId": 1}, headers=api.login.headers
    )
    assert {row["ArtistId"] for row in rows.json()} == {1}
    assert (
        client.delete(f"{API}/relationship/{detail_id}", headers=api.login.headers).status_code
        == 204
    )
    assert (
        client.get(f"{API}/relationship/{detail_id}", headers=api.login.headers).status_code == 404
    )
