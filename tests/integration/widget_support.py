"""Helpers for widget, action and embed tests: a writable Chinook copy and API shortcuts."""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from .api.conftest import ApiConnector, connector_body, create_connector
from .conftest import Login

API = "/api/v2"
READER_GRANT: dict[str, Any] = {
    "Roles": ["User"],
    "Companies": "all",
    "Lists": "all",
    "Details": "all",
    "Actions": "all",
}
SESSION_PATTERN = re.compile(r"lde_[A-Za-z0-9_.\-]+")


def writable_chinook(source: Path, folder: Path) -> Path:
    """Return a copy of Chinook in ``folder`` that tests may change."""
    target = folder / "chinook-copy.sqlite"
    shutil.copyfile(source, target)
    return target


def sql_value(path: Path, sql: str, *parameters: Any) -> Any:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(sql, parameters).fetchone()
    finally:
        connection.close()
    return None if row is None else row[0]


def session_value(html: str) -> str:
    """Return the embed session token a widget page carries."""
    match = SESSION_PATTERN.search(html)
    assert match is not None, "the page carries no embed session"
    return match.group(0)


@dataclass
class WidgetWorld:
    """Chinook (a writable copy) connected by an administrator, with API shortcuts."""

    client: TestClient
    admin: Login
    connector: ApiConnector
    path: Path

    @classmethod
    def create(cls, client: TestClient, admin: Login, chinook_copy: Path) -> WidgetWorld:
        connector = create_connector(
            client, admin, connector_body("Chinook", "sqlite", [str(chinook_copy)])
        )
        return cls(client, admin, connector, chinook_copy)

    @property
    def company_id(self) -> str:
        return self.connector.company_ids[0]

    def post(self, path: str, body: Any, login: Login | None = None) -> Any:
        return self.client.post(f"{API}{path}", json=body, headers=(login or self.admin).headers)

    def get(self, path: str, login: Login | None = None) -> Any:
        return self.client.get(f"{API}{path}", headers=(login or self.admin).headers)

    def fields(self, list_name: str) -> dict[str, str]:
        """Return ``{ApiName: EntityFieldId}`` of a list's visible fields."""
        response = self.get(f"/entity/{self.connector.entity_id(list_name)}/field")
        assert response.status_code == 200, response.text
        return {field["ApiName"]: field["EntityFieldId"] for field in response.json()}

    def create_widget(
        self,
        list_name: str = "Invoice",
        *,
        fields: list[str] | None = None,
        parameters: list[tuple[str, str, bool]] = (),  # type: ignore[assignment]
        **extra: Any,
    ) -> dict[str, Any]:
        """Create a widget; ``fields`` and parameter fields are ApiNames of the list."""
        ids = self.fields(list_name)
        body: dict[str, Any] = {
            "Name": extra.pop("Name", f"{list_name} widget"),
            "Type": extra.pop("Type", "grid"),
            "EntityId": self.connector.entity_id(list_name),
            "CompanyId": self.company_id,
            "Fields": [ids[name] for name in fields or []],
            "Parameters": [
                {"Name": name, "EntityFieldId": ids[api_name], "Required": required}
                for name, api_name, required in parameters
            ],
            **extra,
        }
        response = self.post("/widget", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def create_action(self, list_name: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(f"/entity/{self.connector.entity_id(list_name)}/action", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def api_user(
        self,
        name: str,
        roles: list[str] | None = None,
        grant: dict[str, Any] | None = None,
    ) -> str:
        """Create an API user with system ``roles`` and a connector grant; return its id."""
        response = self.post("/user", {"Name": name, "Kind": "api"})
        assert response.status_code == 201, response.text
        user_id = str(response.json()["UserId"])
        response = self.client.put(
            f"{API}/user/{user_id}/role",
            json={"Roles": ["WidgetReader"] if roles is None else roles},
            headers=self.admin.headers,
        )
        assert response.status_code == 200, response.text
        response = self.client.put(
            f"{API}/user/{user_id}/connector/{self.connector.id}",
            json=READER_GRANT if grant is None else grant,
            headers=self.admin.headers,
        )
        assert response.status_code == 200, response.text
        return user_id

    def widget_token(
        self, widget_id: str, user_id: str, name: str = "embed", *, read_only: bool = False
    ) -> dict[str, Any]:
        response = self.post(
            f"/widget/{widget_id}/token", {"UserId": user_id, "Name": name, "ReadOnly": read_only}
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["Token"])

    def open(self, embed_id: str, token: str, **parameters: Any) -> Any:
        return self.client.get(f"/embed/{embed_id}", params={"token": token, **parameters})
