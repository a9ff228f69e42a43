"""Connectors through the REST API: creation, refusals, secrets, refresh and the read routes."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from listdock.domain.models import Connector

from .conftest import API, Api, connector_body, server_settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.conftest import ServerDatabase
    from tests.integration.conftest import Login

    from listdock.app import Services


def closed_port() -> int:
    """Return a loopback port that nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chinook_body(request: pytest.FixtureRequest, connector_type: str) -> dict[str, Any]:
    if connector_type == "sqlite":
        path: Path = request.getfixturevalue("chinook_sqlite_path")
        return connector_body("Chinook", "sqlite", [str(path)])
    fixture = "chinook_postgres" if connector_type == "postgresql" else "chinook_mariadb"
    database: ServerDatabase = request.getfixturevalue(fixture)
    return connector_body(
        "Chinook", connector_type, [database.database_name], server_settings(database)
    )


# Creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("connector_type", ["sqlite", "postgresql", "mysql"])
def test_create_chinook_connector(
    api: Api, request: pytest.FixtureRequest, connector_type: str
) -> None:
    response = api.client.post(
        f"{API}/connector", json=chinook_body(request, connector_type), headers=api.login.headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ConnectorId"]
    assert body["Type"] == connector_type
    assert [company["Name"] for company in body["Companies"]] == ["Company 1"]
    assert body["Companies"][0]["CompanyId"]
    entities = api.client.get(
        f"{API}/connector/{body['ConnectorId']}/entity", headers=api.login.headers
    )
    names = {entity["Name"].replace("_", "").casefold() for entity in entities.json()}
    assert {"invoice", "invoiceline", "track", "customer"} <= names
    assert len(names) == 11


def test_create_northwind_connector(api: Api, northwind_sqlite_path: Path) -> None:
    connector = api.create_connector(
        connector_body("Northwind", "sqlite", [str(northwind_sqlite_path)])
    )

    assert connector.entities["Order Details"]["Type"] == "table"
    assert connector.entities["Invoices"]["Type"] == "view"
    assert sum(entity["Type"] == "view" for entity in connector.entities.values()) == 16


def test_create_two_companies(api: Api, chinook_sqlite_path: Path, tmp_path: Path) -> None:
    copies = [tmp_path / "east.sqlite", tmp_path / "west.sqlite"]
    for copy in copies:
        copy.write_bytes(chinook_sqlite_path.read_bytes())

    connector = api.create_connector(
        connector_body("Two", "sqlite", [str(copy) for copy in copies])
    )

    assert len(set(connector.company_ids)) == 2


# Refusals ---------------------------------------------------------------------------------


def failing_bodies(request: pytest.FixtureRequest, case: str) -> tuple[dict[str, Any], str]:
    """Return a connector body that cannot connect and the words its error must contain."""
    if case == "sqlite_missing_file":
        return connector_body("Bad", "sqlite", ["/nonexistent/listdock/chinook.db"]), (
            "Database file not found: /nonexistent/listdock/chinook.db"
        )
    port = closed_port()
    if case == "postgresql_closed_port":
        settings = {"Host": "127.0.0.1", "Port": port, "Username": "postgres"}
        return connector_body("Bad", "postgresql", ["postgres"], settings), (
            f"Cannot connect to 127.0.0.1:{port}"
        )
    if case == "mysql_closed_port":
        settings = {"Host": "127.0.0.1", "Port": port, "Username": "root"}
        return connector_body("Bad", "mysql", ["mysql"], settings), (
            f"Cannot connect to 127.0.0.1:{port}"
        )
    if case == "postgresql_missing_database":
        database: ServerDatabase = request.getfixturevalue("chinook_postgres")
        settings = server_settings(database)
        return connector_body("Bad", "postgresql", ["listdock_no_such_db"], settings), (
            "Database does not exist: listdock_no_such_db"
        )
    if case == "mysql_missing_database":
        database = request.getfixturevalue("chinook_mariadb")
        settings = server_settings(database)
        return connector_body("Bad", "mysql", ["listdock_no_such_db"], settings), (
            "Database does not exist: listdock_no_such_db"
        )
    assert case == "mysql_bad_password"
    database = request.getfixturevalue("chinook_mariadb")
    settings = {**server_settings(database), "Password": "not-the-password-41"}
    return connector_body("Bad", "mysql", [database.database_name], settings), (
        "Login failed for user root"
    )


FAILURE_CASES = [
    "sqlite_missing_file",
    "postgresql_closed_port",
    "mysql_closed_port",
    "postgresql_missing_database",
    "mysql_missing_database",
    "mysql_bad_password",
]


@pytest.mark.parametrize("case", FAILURE_CASES)
def test_failed_connection_names_cause(api: Api, request: pytest.FixtureRequest, case: str) -> None:
    body, expected = failing_bodies(request, case)

    response = api.client.post(f"{API}/connector", json=body, headers=api.login.headers)

    assert response.status_code == 400
    assert response.json()["code"] == "connection_failed"
    assert expected in response.json()["error"]
    assert "not-the-password-41" not in response.text
    assert api.client.get(f"{API}/connector", headers=api.login.headers).json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"Name": "X", "Type": "sqlite", "Companies": [{"Name": "A", "DatabaseName": "a"}],
             "Colour": "red"},
            "Unknown key Colour",
        ),
        (
            {"Name": "X", "Type": "sqlite", "Settings": {"Hots": "a"},
             "Companies": [{"Name": "A", "DatabaseName": "a"}]},
            "Unknown key Settings.Hots",
        ),
        (
            {"Name": "X", "Type": "sqlite",
             "Companies": [{"Name": "A", "DatabaseName": "a", "Db": 1}]},
            "Unknown key Companies.0.Db",
        ),
        ({"Type": "sqlite", "Companies": [{"Name": "A", "DatabaseName": "a"}]}, "Missing Name"),
        (
            {"Name": "X", "Type": "oracle", "Companies": [{"Name": "A", "DatabaseName": "a"}]},
            "Type",
        ),
        ({"Name": "X", "Type": "sqlite", "Companies": []}, "Companies"),
        (
            {"Name": "X", "Type": "postgresql", "Settings": {"Port": "five"},
             "Companies": [{"Name": "A", "DatabaseName": "a"}]},
            "Settings.Port",
        ),
        ([1, 2], "body"),
    ],
    ids=[
        "unknown_top_key",
        "unknown_settings_key",
        "unknown_company_key",
        "missing_name",
        "unknown_type",
        "no_companies",
        "port_not_integer",
        "not_an_object",
    ],
)  # fmt: skip
def test_malformed_body_is_422(api: Api, body: Any, message: str) -> None:
    response = api.client.post(f"{API}/connector", json=body, headers=api.login.headers)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_body"
    assert message in response.json()["error"]


def test_invalid_json_is_422(api: Api) -> None:
    response = api.client.post(
        f"{API}/connector",
        content=b'{"Name": "X",',
        headers={**api.login.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json() == {"error": "Body is not valid JSON", "code": "invalid_body"}


def test_duplicate_name_is_409(api: Api, chinook_sqlite_path: Path) -> None:
    api.create_connector(connector_body("Chinook", "sqlite", [str(chinook_sqlite_path)]))

    response = api.client.post(
        f"{API}/connector",
        json=connector_body("CHINOOK", "sqlite", [str(chinook_sqlite_path)]),
        headers=api.login.headers,
    )

    assert response.status_code == 409
    assert response.json() == {
        "error": "A connector with this name already exists",
        "code": "name_taken",
    }


# Passwords --------------------------------------------------------------------------------

PASSWORD = "pg-trust-ignores-this-9Qx"


@pytest.fixture
def with_password(api: Api, chinook_postgres: ServerDatabase) -> dict[str, Any]:
    """A PostgreSQL connector created with a password (the server's trust login ignores it)."""
    settings = {**server_settings(chinook_postgres), "Password": PASSWORD}
    connector = api.create_connector(
        connector_body("Secret", "postgresql", [chinook_postgres.database_name], settings)
    )
    return connector.body


def test_password_not_in_create_response(with_password: dict[str, Any]) -> None:
    assert PASSWORD not in json.dumps(with_password)
    assert with_password["Settings"]["HasPassword"] is True
    assert "Password" not in with_password["Settings"]


def test_password_not_in_read_routes(api: Api, with_password: dict[str, Any]) -> None:
    connector_id = with_password["ConnectorId"]
    paths = [
        "/connector",
        f"/connector/{connector_id}",
        f"/connector/{connector_id}/company",
        f"/connector/{connector_id}/entity",
        f"/connector/{connector_id}/entityGroup",
        "/entity",
        "/entityGroup",
        "/account",
        "/user",
    ]
    for path in paths:
        response = api.client.get(f"{API}{path}", headers=api.login.headers)
        assert response.status_code == 200, path
        assert PASSWORD not in response.text, path


def test_password_encrypted_in_store(services: Services, with_password: dict[str, Any]) -> None:
    with services.sessions() as session:
        stored = session.scalar(
            select(Connector.password_encrypted).where(Connector.id == with_password["ConnectorId"])
        )

    assert stored
    assert PASSWORD not in stored


def test_password_used_for_data(api: Api, with_password: dict[str, Any]) -> None:
    connector_id = with_password["ConnectorId"]
    entities = api.client.get(f"{API}/connector/{connector_id}/entity", headers=api.login.headers)
    genre = next(entity for entity in entities.json() if entity["Name"] == "genre")

    response = api.data(genre["EntityId"], count="true")

    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "25"


# Refresh ----------------------------------------------------------------------------------


def test_refresh_finds_new_table(api: Api, chinook_sqlite_path: Path, tmp_path: Path) -> None:
    import sqlite3

    copy = tmp_path / "chinook.sqlite"
    copy.write_bytes(chinook_sqlite_path.read_bytes())
    connector = api.create_connector(connector_body("Copy", "sqlite", [str(copy)]))
    with sqlite3.connect(copy) as connection:
        connection.execute('CREATE TABLE "Gift Card" (Id INTEGER PRIMARY KEY, "Value €" TEXT)')
    connection.close()

    response = api.client.post(f"{API}/connector/{connector.id}/refresh", headers=api.login.headers)

    assert response.status_code == 200
    assert response.json() == {"ConnectorId": connector.id, "Lists": 12}
    entities = api.client.get(f"{API}/connector/{connector.id}/entity", headers=api.login.headers)
    gift = next(entity for entity in entities.json() if entity["Name"] == "Gift Card")
    assert list(api.fields(gift["EntityId"])) == ["Id", "Value"]


def test_refresh_unknown_connector_404(api: Api) -> None:
    response = api.client.post(
        f"{API}/connector/00000000-0000-0000-0000-000000000000/refresh",
        headers=api.login.headers,
    )

    assert response.status_code == 404
    assert response.json()["code"] == "connector_not_found"


# Read routes ------------------------------------------------------------------------------


def test_read_routes_describe_chinook(
    client: TestClient, admin: Login, chinook: Any, chinook_sqlite_path: Path
) -> None:
    headers = admin.headers

    connectors = client.get(f"{API}/connector", headers=headers).json()
    companies = client.get(f"{API}/connector/{chinook.id}/company", headers=headers).json()
    groups = client.get(f"{API}/connector/{chinook.id}/entityGroup", headers=headers).json()
    all_groups = client.get(f"{API}/entityGroup", headers=headers).json()
    entities = client.get(f"{API}/entity", headers=headers).json()

    assert [connector["Name"] for connector in connectors] == ["Chinook"]
    assert companies == [
        {
            "CompanyId": chinook.company_ids[0],
            "ConnectorId": chinook.id,
            "Name": "Company 1",
            "DatabaseName": str(chinook_sqlite_path),
        }
    ]
    assert [group["Name"] for group in groups] == ["Tables"]
    assert all_groups == groups
    assert len(entities) == 11
    assert {entity["EntityGroupId"] for entity in entities} == {groups[0]["EntityGroupId"]}


def test_entity_key_fields(api: Api, chinook: Any) -> None:
    entity_id = chinook.entity_id("InvoiceLine")
    fields = api.fields(entity_id)

    response = api.client.get(f"{API}/entity/{entity_id}", headers=api.login.headers)

    assert response.json()["KeyFields"] == [fields["InvoiceLineId"]]
    assert response.json()["ItemSingular"] == "InvoiceLine"


def test_field_routes_list_types(api: Api, chinook: Any) -> None:
    entity_id = chinook.entity_id("Invoice")

    fields = api.client.get(f"{API}/entity/{entity_id}/field", headers=api.login.headers).json()
    defaults = api.client.get(
        f"{API}/entity/{entity_id}/default-field", headers=api.login.headers
    ).json()

    types = {field["ApiName"]: field["Type"] for field in fields}
    assert types["InvoiceId"] == "integer"
    assert types["InvoiceDate"] == "datetime"
    assert types["Total"] == "decimal"
    assert next(f for f in fields if f["ApiName"] == "Total")["DecimalPlaces"] == 2
    assert defaults == fields


def test_binary_not_default_field(api: Api, northwind: Any) -> None:
    entity_id = northwind.entity_id("Categories")

    fields = api.client.get(f"{API}/entity/{entity_id}/field", headers=api.login.headers).json()
    defaults = api.client.get(
        f"{API}/entity/{entity_id}/default-field", headers=api.login.headers
    ).json()

    assert [field["ApiName"] for field in fields] == [
        "CategoryID",
        "CategoryName",
        "Description",
        "Picture",
    ]
    assert [field["ApiName"] for field in defaults] == [
        "CategoryID",
        "CategoryName",
        "Description",
    ]


def test_account_and_user_routes(api: Api, admin: Login) -> None:
    account = api.client.get(f"{API}/account", headers=admin.headers)
    users = api.client.get(f"{API}/user", headers=admin.headers)

    assert account.status_code == 200
    assert account.json()["AccountId"]
    assert [(user["UserId"], user["Email"], user["Kind"]) for user in users.json()] == [
        (admin.principal_id, "ada@example.com", "user")
    ]
    assert "password" not in users.text.lower()


@pytest.mark.parametrize(
    "path",
    [
        "/connector/{missing}",
        "/connector/{missing}/company",
        "/connector/{missing}/entity",
        "/connector/{missing}/entityGroup",
        "/entity/{missing}",
        "/entity/{missing}/field",
        "/entity/{missing}/default-field",
        "/entity/{missing}/data",
    ],
)
def test_unknown_id_is_404(api: Api, path: str) -> None:
    missing = "7b0c4b6e-0d8e-4b7e-9a55-3f1f0b0b0b0b"

    response = api.client.get(f"{API}{path.format(missing=missing)}", headers=api.login.headers)

    assert response.status_code == 404
    assert response.json()["code"] in ("connector_not_found", "entity_not_found")
