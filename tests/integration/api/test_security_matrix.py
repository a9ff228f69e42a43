"""Who may do what: management routes against the system role of the token's owner.

Creating users and tokens, rotating and enabling tokens, and changing roles, grants, teams and
custom roles need an owner who is an Administrator or SecurityManager. Any other token gets 403
``missing_role``. A SecurityManager cannot manage an Administrator, and a widget token works on
no REST route at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import API
from .security_support import Caller, add_principal, add_widget_token, error_code

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import Login

    from listdock.app import Services

    from .conftest import ApiConnector

OWNER_ROLES = {
    "Administrator": ("Administrator",),
    "SecurityManager": ("SecurityManager",),
    "Developer": ("Developer",),
    "ApiReader": ("ApiReader",),
    "no role": (),
}
MANAGERS = ("Administrator", "SecurityManager")


@dataclass(frozen=True)
class Scene:
    """A caller with one owner role, a plain target principal, and a team."""

    caller: Caller
    target: Caller
    team_id: str
    request: pytest.FixtureRequest

    def connector_id(self) -> str:
        chinook: ApiConnector = self.request.getfixturevalue("chinook")
        return chinook.id


# Each route: (method, path built from the scene, JSON body, status for managers).
ROUTES: dict[str, tuple[str, Any, Any, int]] = {
    "create user": ("POST", lambda s: "/user", {"Name": "New", "Kind": "api"}, 201),
    "create token for another": (
        "POST",
        lambda s: f"/user/{s.target.principal_id}/token",
        {"Name": "minted"},
        201,
    ),
    "rotate token": ("POST", lambda s: f"/token/{s.target.token_id}/rotate", None, 200),
    "change user roles": (
        "PUT",
        lambda s: f"/user/{s.target.principal_id}/role",
        {"Roles": ["ApiReader"]},
        200,
    ),
    "disable user": (
        "PATCH",
        lambda s: f"/user/{s.target.principal_id}",
        {"Status": "Disabled"},
        200,
    ),
    "delete user": ("DELETE", lambda s: f"/user/{s.target.principal_id}", None, 204),
    "put user grant": (
        "PUT",
        lambda s: f"/user/{s.target.principal_id}/connector/{s.connector_id()}",
        {"Roles": ["User"], "Companies": "all", "Lists": "all"},
        200,
    ),
    "put team grant": (
        "PUT",
        lambda s: f"/team/{s.team_id}/connector/{s.connector_id()}",
        {"Roles": ["Reader"], "Lists": "all"},
        200,
    ),
    "create team": ("POST", lambda s: "/team", {"Name": "Another team"}, 201),
    "add team member": (
        "POST",
        lambda s: f"/team/{s.team_id}/member",
        {"UserId": "TARGET"},
        201,
    ),
    "change team roles": (
        "PUT",
        lambda s: f"/team/{s.team_id}/role",
        {"Roles": ["ApiReader"]},
        200,
    ),
    "create role": (
        "POST",
        lambda s: "/role",
        {"Name": "Exporter", "Scope": "connector", "Permissions": ["connector.export_text"]},
        201,
    ),
    "read audit": ("GET", lambda s: "/audit", None, 200),
}

MATRIX = [
    pytest.param(
        route,
        role,
        ROUTES[route][3] if role in MANAGERS else 403,
        None if role in MANAGERS else "missing_role",
        id=f"{route}-{role}",
    )
    for route in ROUTES
    for role in OWNER_ROLES
]


@pytest.fixture
def target(services: Services) -> Caller:
    return add_principal(services, "Target")


@pytest.fixture
def team_id(client: TestClient, admin: Login) -> str:
    response = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["TeamId"])


def send(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method, f"{API}{path}", json=body, headers=headers)


@pytest.mark.parametrize(("route", "role", "status", "code"), MATRIX)
def test_management_route_by_role(
    client: TestClient,
    services: Services,
    target: Caller,
    team_id: str,
    request: pytest.FixtureRequest,
    route: str,
    role: str,
    status: int,
    code: str | None,
) -> None:
    caller = add_principal(services, "Caller", OWNER_ROLES[role])
    scene = Scene(caller, target, team_id, request)
    method, path, body, _ = ROUTES[route]
    if body == {"UserId": "TARGET"}:
        body = {"UserId": target.principal_id}

    response = send(client, method, path(scene), body, caller.headers)

    assert response.status_code == status, response.text
    if code is not None:
        assert error_code(response) == code


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("Administrator", 200, None),
        ("SecurityManager", 200, None),
        ("Developer", 404, "token_not_found"),
        ("ApiReader", 404, "token_not_found"),
        ("no role", 404, "token_not_found"),
    ],
)
def test_enable_other_token_by_role(
    client: TestClient,
    admin: Login,
    services: Services,
    target: Caller,
    role: str,
    status: int,
    code: str | None,
) -> None:
    path = f"{API}/token/{target.token_id}"
    client.patch(path, json={"Status": "Disabled"}, headers=admin.headers)
    caller = add_principal(services, "Caller", OWNER_ROLES[role])

    response = client.patch(path, json={"Status": "Active"}, headers=caller.headers)

    assert response.status_code == status, response.text
    if code is not None:
        assert error_code(response) == code


# A SecurityManager and Administrators --------------------------------------------------


@pytest.fixture
def manager(services: Services) -> Caller:
    return add_principal(services, "Manager", ("SecurityManager",))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/user/{admin}", {"Status": "Disabled"}),
        ("PATCH", "/user/{admin}", {"Name": "Renamed"}),
        ("DELETE", "/user/{admin}", None),
        ("PUT", "/user/{admin}/role", {"Roles": ["ApiReader"]}),
        ("POST", "/user/{admin}/token", {"Name": "minted"}),
        ("PUT", "/user/{target}/role", {"Roles": ["Administrator"]}),
        ("PUT", "/user/{manager}/role", {"Roles": ["Administrator"]}),
        ("PUT", "/team/{team}/role", {"Roles": ["Administrator"]}),
    ],
    ids=[
        "disable admin",
        "rename admin",
        "delete admin",
        "change admin roles",
        "mint admin token",
        "grant admin to other",
        "grant admin to self",
        "grant admin to team",
    ],
)
def test_manager_cannot_manage_administrator(
    client: TestClient,
    admin: Login,
    manager: Caller,
    target: Caller,
    team_id: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    resolved = path.format(
        admin=admin.principal_id,
        target=target.principal_id,
        manager=manager.principal_id,
        team=team_id,
    )

    response = send(client, method, resolved, body, manager.headers)

    assert response.status_code == 403, response.text
    assert error_code(response) == "cannot_manage"


def test_manager_cannot_rotate_admin_token(
    client: TestClient, admin: Login, manager: Caller, services: Services
) -> None:
    with services.sessions() as session:
        token_id = services.tokens.list_for_principal(session, admin.principal_id)[0].id

    response = client.post(f"{API}/token/{token_id}/rotate", headers=manager.headers)

    assert response.status_code == 403
    assert error_code(response) == "cannot_manage"


def test_manager_cannot_revoke_admin_token(
    client: TestClient, admin: Login, manager: Caller, services: Services
) -> None:
    with services.sessions() as session:
        token_id = services.tokens.list_for_principal(session, admin.principal_id)[0].id

    response = client.delete(f"{API}/token/{token_id}", headers=manager.headers)

    assert response.status_code == 403
    assert error_code(response) == "cannot_manage"
    assert client.get(f"{API}/user", headers=admin.headers).status_code == 200


def test_manager_cannot_grant_admin(
    client: TestClient, admin: Login, manager: Caller, chinook: ApiConnector
) -> None:
    response = client.put(
        f"{API}/user/{admin.principal_id}/connector/{chinook.id}",
        json={"Roles": ["Reader"], "Lists": "all"},
        headers=manager.headers,
    )

    assert response.status_code == 403
    assert error_code(response) == "cannot_manage"


def test_manager_grants_without_own_grant(
    client: TestClient, manager: Caller, target: Caller, chinook: ApiConnector
) -> None:
    path = f"{API}/user/{target.principal_id}/connector/{chinook.id}"

    put = client.put(
        path, json={"Roles": ["User"], "Companies": "all", "Lists": "all"}, headers=manager.headers
    )
    read = client.get(path, headers=manager.headers)

    assert put.status_code == 200, put.text
    assert read.status_code == 200


# Owners of tokens -------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [(), ("ApiReader",), ("Developer",)], ids=str)
def test_plain_owner_cannot_mint_own(
    client: TestClient, services: Services, roles: tuple[str, ...]
) -> None:
    owner = add_principal(services, "Owner", roles, kind="user")

    response = client.post(
        f"{API}/user/{owner.principal_id}/token", json={"Name": "more"}, headers=owner.headers
    )

    assert response.status_code == 403
    assert error_code(response) == "missing_role"


def test_manager_mints_own_token(client: TestClient, manager: Caller) -> None:
    response = client.post(
        f"{API}/user/{manager.principal_id}/token", json={"Name": "more"}, headers=manager.headers
    )

    assert response.status_code == 201


def test_owner_lists_own_tokens(client: TestClient, target: Caller) -> None:
    response = client.get(f"{API}/user/{target.principal_id}/token", headers=target.headers)

    assert response.status_code == 200
    assert [token["TokenId"] for token in response.json()] == [target.token_id]


def test_owner_disables_own_token(client: TestClient, target: Caller) -> None:
    response = client.patch(
        f"{API}/token/{target.token_id}", json={"Status": "Disabled"}, headers=target.headers
    )

    assert response.status_code == 200
    assert client.get(f"{API}/user", headers=target.headers).status_code == 401


def test_owner_revokes_own_token(client: TestClient, target: Caller) -> None:
    response = client.delete(f"{API}/token/{target.token_id}", headers=target.headers)

    assert response.status_code == 200
    assert client.get(f"{API}/user", headers=target.headers).status_code == 401


def test_owner_cannot_enable_own_token(
    client: TestClient, services: Services, target: Caller
) -> None:
    with services.sessions.begin() as session:
        owner = services.principals.get(session, target.principal_id)
        spare = services.tokens.create(session, owner, "spare", created_by=None)
    path = f"{API}/token/{spare.token.id}"
    client.patch(path, json={"Status": "Disabled"}, headers=target.headers)

    response = client.patch(path, json={"Status": "Active"}, headers=target.headers)

    assert response.status_code == 403
    assert error_code(response) == "missing_role"


def test_owner_cannot_rotate_own_token(client: TestClient, target: Caller) -> None:
    response = client.post(f"{API}/token/{target.token_id}/rotate", headers=target.headers)

    assert response.status_code == 403
    assert error_code(response) == "missing_role"


def test_owner_cannot_change_own_roles(client: TestClient, target: Caller) -> None:
    response = client.put(
        f"{API}/user/{target.principal_id}/role",
        json={"Roles": ["SecurityManager"]},
        headers=target.headers,
    )

    assert response.status_code == 403
    assert error_code(response) == "missing_role"


# Widget tokens ----------------------------------------------------------------------------

WIDGET_TOKEN_ROUTES = [
    ("GET", "/user", None),
    ("GET", "/user/{owner}", None),
    ("GET", "/user/{owner}/token", None),
    ("GET", "/team", None),
    ("GET", "/role", None),
    ("GET", "/audit", None),
    ("GET", "/connector", None),
    ("GET", "/entity", None),
    ("GET", "/account", None),
    ("POST", "/user", {"Name": "New", "Kind": "api"}),
    ("POST", "/team", {"Name": "New"}),
    ("POST", "/query", {"Id": "x", "Query": {}}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    WIDGET_TOKEN_ROUTES,
    ids=[f"{method} {path}" for method, path, _ in WIDGET_TOKEN_ROUTES],
)
def test_widget_token_out_of_scope(
    client: TestClient,
    admin: Login,
    services: Services,
    method: str,
    path: str,
    body: Any,
) -> None:
    value = add_widget_token(services, admin.principal_id)

    response = send(
        client,
        method,
        path.format(owner=admin.principal_id),
        body,
        {"Authorization": f"Bearer {value}"},
    )

    assert response.status_code == 403, response.text
    assert error_code(response) == "token_scope"
