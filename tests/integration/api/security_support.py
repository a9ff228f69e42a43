"""Helpers for the security tests: principals with roles and a token, grants, error checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .conftest import API, ApiConnector

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import Login

    from listdock.app import Services

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Caller:
    """A principal made for a test, with one token."""

    principal_id: str
    token_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_principal(
    services: Services, name: str, roles: tuple[str, ...] = (), *, kind: str = "api"
) -> Caller:
    """Create a user (``kind="user"``) or API user with system ``roles`` and a token."""
    with services.sessions.begin() as session:
        if kind == "user":
            principal = services.principals.create_user(
                session,
                name=name,
                email=f"{name.lower().replace(' ', '.')}@example.com",
                password=PASSWORD,
                actor_id=None,
            )
        else:
            principal = services.principals.create_api_user(session, name=name, actor_id=None)
        if roles:
            services.principals.assign_system_roles(session, principal, list(roles), actor_id=None)
        issued = services.tokens.create(session, principal, "tests", created_by=None)
        return Caller(principal.id, issued.token.id, issued.value)


def add_widget_token(services: Services, principal_id: str) -> str:
    """Create a widget token for the principal and return its value."""
    with services.sessions.begin() as session:
        owner = services.principals.get(session, principal_id)
        issued = services.tokens.create(
            session, owner, "widget", created_by=None, widget_id="some-widget-id"
        )
        return issued.value


def put_grant(
    client: TestClient,
    headers: dict[str, str],
    path: str,
    connector_id: str,
    **parts: Any,
) -> Any:
    """PUT a grant on ``{path}/connector/{connector_id}``, where ``path`` is ``/user/…`` or
    ``/team/…``. Parts not named default to a User grant on every company and list.
    """
    body = {"Roles": ["User"], "Companies": "all", "Lists": "all"}
    body.update(parts)
    return client.put(f"{API}{path}/connector/{connector_id}", json=body, headers=headers)


def error_code(response: Any) -> str | None:
    """Return the ``code`` of an error body, or None for a body that is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def invoice_action_id(client: TestClient, admin: Login, connector: ApiConnector) -> str:
    """Define a delete action on the connector's Invoice list and return its id."""
    response = client.post(
        f"{API}/entity/{connector.entity_id('Invoice')}/action",
        json={"Name": "Remove invoice", "ActionType": "delete"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["ActionId"])
