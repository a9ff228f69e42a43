"""Favorites: saving, sharing with teams, data that cannot be widened, a deleted list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services

from ..conftest import Login
from .conftest import API, Api, ApiConnector
from .saved_support import api_user, team_with


def french_orders(
    api: Api, northwind: ApiConnector, login: Login | None = None, **extra: Any
) -> Any:
    fields = api.fields(northwind.entity_id("Orders"))
    body = {
        "Name": "French orders",
        "EntityId": northwind.entity_id("Orders"),
        "Fields": [fields["OrderID"], fields["CustomerID"], fields["ShipCountry"]],
        "Restrictions": [
            {"EntityFieldId": fields["ShipCountry"], "Operator": "eq", "Value": "France"}
        ],
        "OrderBy": [{"EntityFieldId": fields["OrderID"], "Descending": True}],
        "MaxRecords": 20,
        **extra,
    }
    return api.client.post(f"{API}/favorite", json=body, headers=(login or api.login).headers)


@pytest.fixture
def favorite(api: Api, northwind: ApiConnector) -> dict[str, Any]:
    response = french_orders(api, northwind)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_data_uses_saved_settings(api: Api, favorite: dict[str, Any]) -> None:
    response = api.client.get(
        f"{API}/favorite/{favorite['FavoriteId']}/data", headers=api.login.headers
    )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(rows) == 20
    assert set(rows[0]) == {"OrderID", "CustomerID", "ShipCountry"}
    assert {row["ShipCountry"] for row in rows} == {"France"}
    assert [row["OrderID"] for row in rows] == sorted(
        (row["OrderID"] for row in rows), reverse=True
    )


def test_restrictions_cannot_be_widened(api: Api, favorite: dict[str, Any]) -> None:
    url = f"{API}/favorite/{favorite['FavoriteId']}/data"
    widened = api.client.get(url, params={"ShipCountry": "Germany"}, headers=api.login.headers)
    assert widened.status_code == 400
    assert widened.json()["code"] == "unknown_parameter"
    larger = api.client.get(url, params={"MaxRecords": 21}, headers=api.login.headers)
    assert larger.status_code == 400
    paged = api.client.get(
        url, params={"MaxRecords": 5, "skip": 5, "count": "true"}, headers=api.login.headers
    )
    assert paged.status_code == 200
    assert paged.headers["X-Total-Count"] == "77"


def test_read_list_and_entity_favorites(
    api: Api, favorite: dict[str, Any], northwind: ApiConnector
) -> None:
    read = api.client.get(f"{API}/favorite/{favorite['FavoriteId']}", headers=api.login.headers)
    assert read.json()["Name"] == "French orders"
    assert [
        item["FavoriteId"]
        for item in api.client.get(f"{API}/favorite", headers=api.login.headers).json()
    ] == [favorite["FavoriteId"]]
    by_list = api.client.get(
        f"{API}/entity/{northwind.entity_id('Orders')}/favorite", headers=api.login.headers
    )
    assert len(by_list.json()) == 1


def test_sharing_with_team(
    client: TestClient, services: Services, api: Api, northwind: ApiConnector
) -> None:
    developer = api_user(services, "dev", ["Developer", "ApiReader"], connector_id=northwind.id)
    member = api_user(services, "member", ["ApiReader"], connector_id=northwind.id)
    outsider = api_user(services, "outsider", ["ApiReader"], connector_id=northwind.id)
    team_id = team_with(services, "Sales", [member.principal_id])
    created = french_orders(api, northwind, developer, Teams=[team_id])
    assert created.status_code == 201, created.text
    favorite_id = created.json()["FavoriteId"]

    assert (
        client.get(f"{API}/favorite/{favorite_id}/data", headers=member.headers).status_code == 200
    )
    assert [
        item["FavoriteId"] for item in client.get(f"{API}/favorite", headers=member.headers).json()
    ] == [favorite_id]
    assert client.get(f"{API}/favorite/{favorite_id}", headers=outsider.headers).status_code == 404
    changed = client.patch(
        f"{API}/favorite/{favorite_id}", json={"Name": "Mine"}, headers=member.headers
    )
    assert changed.status_code == 403
    assert changed.json()["code"] == "not_owner"


def test_sharing_needs_developer(
    client: TestClient, services: Services, api: Api, northwind: ApiConnector
) -> None:
    reader = api_user(services, "reader", ["ApiReader"], connector_id=northwind.id)
    team_id = team_with(services, "Sales", [reader.principal_id])
    own = french_orders(api, northwind, reader)
    assert own.status_code == 201, own.text
    shared = french_orders(api, northwind, reader, Teams=[team_id])
    assert shared.status_code == 403
    assert shared.json()["code"] == "missing_role"


def test_creating_needs_a_role(services: Services, api: Api, northwind: ApiConnector) -> None:
    nobody = api_user(services, "nobody", [], connector_id=northwind.id)
    response = french_orders(api, northwind, nobody)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Fields": ["nope"]}, "unknown_field"),
        (
            {"Restrictions": [{"EntityFieldId": "nope", "Operator": "eq", "Value": 1}]},
            "unknown_field",
        ),
        ({"MaxRecords": 0}, "invalid_max_records"),
    ],
)
def test_bad_definitions_are_400(
    api: Api, northwind: ApiConnector, change: dict[str, Any], code: str
) -> None:
    response = french_orders(api, northwind, **change)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_bad_restriction_value_is_400(api: Api, northwind: ApiConnector) -> None:
    fields = api.fields(northwind.entity_id("Orders"))
    bad = [{"EntityFieldId": fields["OrderID"], "Operator": "eq", "Value": "ten"}]
    response = french_orders(api, northwind, Restrictions=bad)
    assert response.status_code == 400
    assert "OrderID" in response.json()["error"]


def test_deleted_list_gives_clear_404(api: Api, northwind: ApiConnector) -> None:
    orders = northwind.entity_id("Orders")
    custom = api.client.post(
        f"{API}/entity/{orders}/custom-list", json={"Name": "All orders"}, headers=api.login.headers
    )
    assert custom.status_code == 201, custom.text
    custom_id = custom.json()["EntityId"]
    body = {"Name": "Over custom", "EntityId": custom_id}
    favorite = api.client.post(f"{API}/favorite", json=body, headers=api.login.headers)
    assert favorite.status_code == 201, favorite.text
    favorite_id = favorite.json()["FavoriteId"]
    endpoint = api.client.post(
        f"{API}/endpoint",
        json={"Endpoint": "OverFavorite", "FavoriteId": favorite_id},
        headers=api.login.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    assert (
        api.client.get(f"{API}/favorite/OverFavorite", headers=api.login.headers).status_code == 200
    )

    assert (
        api.client.delete(f"{API}/entity/{custom_id}", headers=api.login.headers).status_code == 204
    )
    data = api.client.get(f"{API}/favorite/{favorite_id}/data", headers=api.login.headers)
    assert data.status_code == 404
    assert data.json() == {
        "error": "The favorite's list no longer exists",
        "code": "favorite_list_missing",
    }
    call = api.client.get(f"{API}/favorite/OverFavorite", headers=api.login.headers)
    assert call.status_code == 404
    assert call.json()["error"] == "The favorite's list no longer exists"


def test_deleted_favorite_breaks_endpoint_clearly(api: Api, favorite: dict[str, Any]) -> None:
    body = {"Endpoint": "Saved", "FavoriteId": favorite["FavoriteId"], "MaxRecords": 10}
    assert (
        api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers).status_code == 201
    )
    rows = api.client.get(f"{API}/favorite/Saved", headers=api.login.headers).json()
    assert {row["ShipCountry"] for row in rows} == {"France"}
    assert (
        api.client.delete(
            f"{API}/favorite/{favorite['FavoriteId']}", headers=api.login.headers
        ).status_code
        == 204
    )
    call = api.client.get(f"{API}/favorite/Saved", headers=api.login.headers)
    assert call.status_code == 404
    assert call.json()["error"] == "The endpoint's favorite was deleted"


def test_endpoint_over_favorite_cannot_use_other_fields(api: Api, favorite: dict[str, Any]) -> None:
    body = {"Endpoint": "Saved", "FavoriteId": favorite["FavoriteId"]}
    assert (
        api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers).status_code == 201
    )
    response = api.client.get(
        f"{API}/favorite/Saved", params={"orderby": "ShipCity"}, headers=api.login.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"
