"""Named endpoints: management, calls on Northwind, bad input and access rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from listdock.app import Services
from listdock.domain.models import EntityField, Token

from ..conftest import Login
from .conftest import API, Api, ApiConnector
from .saved_support import api_user, rows_of

FORMATS = ["json", "csv", "xml", "xlsx"]


def orders_endpoint(
    api: Api, northwind: ApiConnector, name: str = "OrdersByCustomer", as_user: Login | None = None
) -> Any:
    """Create the OrdersByCustomer endpoint, as the administrator unless ``as_user`` is given."""
    fields = api.fields(northwind.entity_id("Orders"))
    body = {
        "Endpoint": name,
        "EntityId": northwind.entity_id("Orders"),
        "CompanyId": northwind.company_ids[0],
        "MaxRecords": 500,
        "Parameters": [
            {"Name": "customer", "EntityFieldId": fields["CustomerID"], "Required": True},
            {"Name": "from", "EntityFieldId": fields["OrderDate"], "Operator": "ge"},
            {"Name": "to", "EntityFieldId": fields["OrderDate"], "Operator": "le"},
        ],
    }
    headers = (as_user or api.login).headers
    return api.client.post(f"{API}/endpoint", json=body, headers=headers)


def expected_orders(path: Path, customer: str, start: str | None, end: str | None) -> list[str]:
    sql = "SELECT OrderID FROM Orders WHERE CustomerID = ?"
    values: list[str] = [customer]
    if start:
        sql += " AND substr(OrderDate, 1, 10) >= ?"
        values.append(start)
    if end:
        sql += " AND substr(OrderDate, 1, 10) <= ?"
        values.append(end)
    with sqlite3.connect(path) as connection:
        rows = connection.execute(sql + " ORDER BY OrderID", values).fetchall()
    return [str(row[0]) for row in rows]


@pytest.fixture
def created(api: Api, northwind: ApiConnector) -> dict[str, Any]:
    response = orders_endpoint(api, northwind)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("output", FORMATS)
@pytest.mark.parametrize(
    ("customer", "start", "end"),
    [
        ("VINET", None, None),
        ("ALFKI", "1997-01-01", "1997-12-31"),
        ("ERNSH", "1996-07-01", "1997-06-30"),
        ("QUICK", "1998-01-01", None),
        ("NOBODY", None, None),
    ],
)
def test_call_matches_sql(
    api: Api,
    created: dict[str, Any],
    northwind_sqlite_path: Path,
    output: str,
    customer: str,
    start: str | None,
    end: str | None,
) -> None:
    params = {"customer": customer, "format": output, "orderby": "OrderID"}
    if start:
        params["from"] = start
    if end:
        params["to"] = end
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer", params=params, headers=api.login.headers
    )
    assert response.status_code == 200, response.text
    assert rows_of(response, "OrderID") == expected_orders(
        northwind_sqlite_path, customer, start, end
    )


def test_alias_route_and_case_insensitive_name(api: Api, created: dict[str, Any]) -> None:
    first = api.client.get(
        f"{API}/endpoint/ordersbycustomer/data",
        params={"customer": "VINET"},
        headers=api.login.headers,
    )
    second = api.client.get(
        f"{API}/favorite/ORDERSBYCUSTOMER", params={"Customer": "VINET"}, headers=api.login.headers
    )
    assert first.status_code == 200, first.text
    assert first.json() == second.json()


def test_paging_count_and_link(api: Api, created: dict[str, Any]) -> None:
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer",
        params={"customer": "SAVEA", "MaxRecords": 5, "count": "true", "token": api.login.token},
    )
    assert response.status_code == 200, response.text
    assert len(response.json()) == 5
    assert int(response.headers["X-Total-Count"]) > 5
    assert "skip=5" in response.headers["Link"]
    assert "token=" not in response.headers["Link"]


def test_max_records_capped_by_endpoint(api: Api, created: dict[str, Any]) -> None:
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer",
        params={"customer": "SAVEA", "MaxRecords": 501},
        headers=api.login.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_max_records"


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({"customer": "VINET", "region": "x"}, "unknown_parameter", "region"),
        ({"from": "1997-01-01"}, "missing_parameter", "customer"),
        ({"customer": "VINET", "from": "soon"}, "invalid_parameter_value", "from"),
        ({"customer": "VINET", "to": "1997-13-01"}, "invalid_parameter_value", "to"),
        ({"customer": "VINET", "company": "x"}, "unknown_parameter", "company"),
    ],
)
def test_bad_parameters_are_400(
    api: Api, created: dict[str, Any], params: dict[str, str], code: str, named: str
) -> None:
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer", params=params, headers=api.login.headers
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code
    assert named in body["error"]
    assert "customer, from, to" in body["error"]


def test_repeated_parameter_is_400(api: Api, created: dict[str, Any]) -> None:
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer?customer=VINET&customer=ALFKI", headers=api.login.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_parameter"


def test_orderby_unexposed_field_is_400(api: Api, created: dict[str, Any]) -> None:
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer",
        params={"customer": "VINET", "orderby": "Nonexistent desc"},
        headers=api.login.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_fixed_parameter_applies_and_cannot_be_passed(api: Api, northwind: ApiConnector) -> None:
    fields = api.fields(northwind.entity_id("Orders"))
    body = {
        "Endpoint": "FrenchOrders",
        "EntityId": northwind.entity_id("Orders"),
        "CompanyId": northwind.company_ids[0],
        "Parameters": [
            {
                "Name": "country",
                "EntityFieldId": fields["ShipCountry"],
                "Default": "France",
                "Fixed": True,
            },
            {"Name": "city", "EntityFieldId": fields["ShipCity"]},
        ],
    }
    assert (
        api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers).status_code == 201
    )
    rows = api.client.get(f"{API}/favorite/FrenchOrders", headers=api.login.headers)
    assert rows.status_code == 200, rows.text
    assert {row["ShipCountry"] for row in rows.json()} == {"France"}
    passed = api.client.get(
        f"{API}/favorite/FrenchOrders", params={"country": "USA"}, headers=api.login.headers
    )
    assert passed.status_code == 400
    assert passed.json()["code"] == "fixed_parameter"
    assert "accepted: city" in passed.json()["error"]


def test_in_and_startswith_operators(api: Api, northwind: ApiConnector) -> None:
    fields = api.fields(northwind.entity_id("Orders"))
    body = {
        "Endpoint": "OrdersIn",
        "EntityId": northwind.entity_id("Orders"),
        "Parameters": [
            {"Name": "customers", "EntityFieldId": fields["CustomerID"], "Operator": "in"},
            {"Name": "ship", "EntityFieldId": fields["ShipName"], "Operator": "startswith"},
        ],
    }
    assert (
        api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers).status_code == 201
    )
    rows = api.client.get(
        f"{API}/favorite/OrdersIn",
        params={"customers": "VINET,ALFKI", "ship": "vins", "MaxRecords": 100},
        headers=api.login.headers,
    ).json()
    assert rows
    assert {row["CustomerID"] for row in rows} == {"VINET"}


# Management ------------------------------------------------------------------------------


def test_name_clash_ignores_case(
    api: Api, northwind: ApiConnector, created: dict[str, Any]
) -> None:
    response = orders_endpoint(api, northwind, name="ordersBYcustomer")
    assert response.status_code == 409
    assert response.json()["code"] == "name_taken"


@pytest.mark.parametrize(
    "name", ["", "has space", "x" * 65, "semi;colon", "0b4c1f8e-1a2b-4c3d-8e9f-0123456789ab"]
)
def test_invalid_names_rejected(api: Api, northwind: ApiConnector, name: str) -> None:
    response = orders_endpoint(api, northwind, name=name)
    assert response.status_code in (400, 422), response.text


def test_unknown_operator_lists_accepted(api: Api, northwind: ApiConnector) -> None:
    fields = api.fields(northwind.entity_id("Orders"))
    body = {
        "Endpoint": "Bad",
        "EntityId": northwind.entity_id("Orders"),
        "Parameters": [{"Name": "x", "EntityFieldId": fields["ShipCity"], "Operator": "between"}],
    }
    response = api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers)
    assert response.status_code == 400
    assert "eq, ne, gt, ge, lt, le, contains, startswith, in" in response.json()["error"]


def test_unknown_body_key_is_422(api: Api, northwind: ApiConnector) -> None:
    body = {"Endpoint": "X", "EntityId": northwind.entity_id("Orders"), "Colour": "red"}
    response = api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers)
    assert response.status_code == 422


def test_read_update_delete(api: Api, created: dict[str, Any]) -> None:
    endpoint_id = created["EndpointId"]
    read = api.client.get(f"{API}/endpoint/{endpoint_id}", headers=api.login.headers)
    assert read.json()["Endpoint"] == "OrdersByCustomer"
    parameters = api.client.get(
        f"{API}/endpoint/{endpoint_id}/parameters", headers=api.login.headers
    )
    assert [item["Name"] for item in parameters.json()] == ["customer", "from", "to"]
    assert [item["Type"] for item in parameters.json()] == ["string", "datetime", "datetime"]
    listed = api.client.get(f"{API}/endpoint", headers=api.login.headers).json()
    assert [item["EndpointId"] for item in listed] == [endpoint_id]

    patched = api.client.patch(
        f"{API}/endpoint/{endpoint_id}",
        json={"Endpoint": "Orders2", "MaxRecords": 10},
        headers=api.login.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["MaxRecords"] == 10
    assert (
        api.client.get(
            f"{API}/favorite/Orders2", params={"customer": "VINET"}, headers=api.login.headers
        ).status_code
        == 200
    )

    deleted = api.client.delete(f"{API}/endpoint/{endpoint_id}", headers=api.login.headers)
    assert deleted.status_code == 204
    gone = api.client.get(
        f"{API}/favorite/Orders2", params={"customer": "VINET"}, headers=api.login.headers
    )
    assert gone.status_code == 404


def test_hidden_field_leaves_output_and_blocks_its_parameter(
    api: Api, services: Services, created: dict[str, Any], northwind: ApiConnector
) -> None:
    fields = api.fields(northwind.entity_id("Orders"))
    with services.sessions.begin() as session:
        session.execute(
            update(EntityField)
            .where(EntityField.id.in_([fields["ShipCity"], fields["OrderDate"]]))
            .values(hidden=True)
        )
    plain = api.client.get(
        f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"}, headers=api.login.headers
    )
    assert plain.status_code == 200, plain.text
    assert "ShipCity" not in plain.json()[0]
    assert "OrderDate" not in plain.json()[0]
    filtered = api.client.get(
        f"{API}/favorite/OrdersByCustomer",
        params={"customer": "VINET", "from": "1997-01-01"},
        headers=api.login.headers,
    )
    assert filtered.status_code == 409
    assert filtered.json()["code"] == "endpoint_field_unavailable"


# Access ----------------------------------------------------------------------------------


def test_developer_role_needed_to_create(
    client: TestClient, services: Services, northwind: ApiConnector, api: Api
) -> None:
    reader = api_user(services, "reader", ["ApiReader"], connector_id=northwind.id)
    response = orders_endpoint(api, northwind, as_user=reader)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_role"


def test_developer_must_see_the_list(api: Api, services: Services, northwind: ApiConnector) -> None:
    developer = api_user(services, "dev", ["Developer"])
    response = orders_endpoint(api, northwind, as_user=developer)
    assert response.status_code == 404


def test_caller_without_api_reader_is_403(
    client: TestClient, services: Services, northwind: ApiConnector, created: dict[str, Any]
) -> None:
    developer = api_user(services, "dev", ["Developer"], connector_id=northwind.id)
    response = client.get(
        f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"}, headers=developer.headers
    )
    assert response.status_code == 403
    assert response.json()["code"] == "missing_role"


def test_caller_without_grant_is_404(
    client: TestClient, services: Services, northwind: ApiConnector, created: dict[str, Any]
) -> None:
    reader = api_user(services, "reader", ["ApiReader"])
    response = client.get(
        f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"}, headers=reader.headers
    )
    assert response.status_code == 404


def test_reader_role_without_data_is_403(
    client: TestClient, services: Services, northwind: ApiConnector, created: dict[str, Any]
) -> None:
    reader = api_user(
        services, "reader", ["ApiReader"], connector_id=northwind.id, connector_roles=["Reader"]
    )
    response = client.get(
        f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"}, headers=reader.headers
    )
    assert response.status_code == 403
    assert response.json()["code"] == "no_data_grant"


def test_granted_api_reader_reads(
    client: TestClient, services: Services, northwind: ApiConnector, created: dict[str, Any]
) -> None:
    reader = api_user(services, "reader", ["ApiReader"], connector_id=northwind.id)
    response = client.get(
        f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"}, headers=reader.headers
    )
    assert response.status_code == 200, response.text
    assert len(response.json()) == 5


def test_widget_token_is_403(
    client: TestClient, services: Services, admin: Login, created: dict[str, Any]
) -> None:
    with services.sessions.begin() as session:
        owner = services.principals.get(session, admin.principal_id)
        issued = services.tokens.create(
            session,
            owner,
            "widget",
            created_by=None,
            widget_id="5d4c0a56-0000-4000-8000-000000000001",
        )
    response = client.get(
        f"{API}/favorite/OrdersByCustomer",
        params={"customer": "VINET"},
        headers={"Authorization": f"Bearer {issued.value}"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


def test_missing_token_is_401(client: TestClient, created: dict[str, Any]) -> None:
    response = client.get(f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_required"


def test_last_used_surface_is_endpoint(
    api: Api, services: Services, created: dict[str, Any]
) -> None:
    response = api.client.get(
        f"{API}/favorite/OrdersByCustomer", params={"customer": "VINET"}, headers=api.login.headers
    )
    assert response.status_code == 200
    services.usage.flush()
    with services.sessions() as session:
        tokens = services.tokens.list_for_principal(session, api.login.principal_id)
    assert [token.last_used_surface for token in tokens] == ["endpoint"]
    assert isinstance(tokens[0], Token)
