"""Helpers for REST API tests: connectors created through the API and lookups by name."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.conftest import ServerDatabase
    from tests.integration.conftest import Login

API = "/api/v2"


@dataclass(frozen=True)
class ApiConnector:
    """A connector created through ``POST /connector`` and its lists, by name."""

    body: dict[str, Any]
    entities: dict[str, dict[str, Any]]

    @property
    def id(self) -> str:
        return str(self.body["ConnectorId"])

    @property
    def company_ids(self) -> list[str]:
        return [company["CompanyId"] for company in self.body["Companies"]]

    def entity_id(self, name: str) -> str:
        """Return the id of the list named ``name``, matched case-insensitively."""
        for entity_name, entity in self.entities.items():
            if entity_name.casefold() == name.casefold():
                return str(entity["EntityId"])
        raise KeyError(name)


def sql_rows(path: Path, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Return the rows of ``sql`` run read-only on the SQLite file at ``path``."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def ids(response: Any, key: str = "InvoiceId") -> list[int]:
    assert response.status_code == 200, response.text
    return [row[key] for row in response.json()]


class Api:
    """The test client and the administrator's token, with the lookups most tests need."""

    def __init__(self, client: TestClient, login: Login) -> None:
        self.client = client
        self.login = login

    def create_connector(self, body: dict[str, Any]) -> ApiConnector:
        return create_connector(self.client, self.login, body)

    def fields(self, entity_id: str) -> dict[str, str]:
        return field_ids(self.client, self.login, entity_id)

    def data(self, entity_id: str, **params: Any) -> Any:
        """Return the response of ``GET /entity/{entity_id}/data`` with ``params``."""
        return self.client.get(
            f"{API}/entity/{entity_id}/data", params=params, headers=self.login.headers
        )

    def query(self, body: dict[str, Any]) -> Any:
        return self.client.post(f"{API}/query", json=body, headers=self.login.headers)


def connector_body(
    name: str,
    connector_type: str,
    databases: list[str],
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": connector_type,
        "Settings": settings or {},
        "Companies": [
            {"Name": f"Company {index + 1}", "DatabaseName": database}
            for index, database in enumerate(databases)
        ],
    }


def server_settings(database: ServerDatabase) -> dict[str, Any]:
    settings = database.settings
    return {
        "Host": settings.host,
        "Port": settings.port,
        "Username": settings.username,
        "Password": settings.password,
    }


def create_connector(client: TestClient, login: Login, body: dict[str, Any]) -> ApiConnector:
    """Create a connector through the API and load its lists; fails the test on any error."""
    response = client.post(f"{API}/connector", json=body, headers=login.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    listed = client.get(f"{API}/connector/{created['ConnectorId']}/entity", headers=login.headers)
    assert listed.status_code == 200, listed.text
    return ApiConnector(created, {entity["Name"]: entity for entity in listed.json()})


def field_ids(client: TestClient, login: Login, entity_id: str) -> dict[str, str]:
    """Return the visible fields of a list as ``{ApiName: EntityFieldId}``."""
    response = client.get(f"{API}/entity/{entity_id}/field", headers=login.headers)
    assert response.status_code == 200, response.text
    return {field["ApiName"]: field["EntityFieldId"] for field in response.json()}


@pytest.fixture
def api(client: TestClient, admin: Login) -> Api:
    return Api(client, admin)


@pytest.fixture
def chinook(client: TestClient, admin: Login, chinook_sqlite_path: Path) -> ApiConnector:
    """Chinook (SQLite) connected through the API, with one company."""
    return create_connector(
        client, admin, connector_body("Chinook", "sqlite", [str(chinook_sqlite_path)])
    )


@pytest.fixture
def northwind(client: TestClient, admin: Login, northwind_sqlite_path: Path) -> ApiConnector:
    """Northwind (SQLite) connected through the API, with one company."""
    return create_connector(
        client, admin, connector_body("Northwind", "sqlite", [str(northwind_sqlite_path)])
    )
