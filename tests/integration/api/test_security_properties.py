"""Security properties over random grants, and one test per common access-control mistake.

The property test draws random connector grants (lists, companies, connector roles, given to
the user directly or through a team). The REST API must let a token read exactly what
``load_access`` computes for its owner, and let a widget token read nothing.
The regression tests each pin one mistake: a disabled owner's token still working, a widget
token reaching other routes, one user seeing another's tokens, a refused token accepted beside
a session cookie, usage recorded on the wrong token, and rights left after a deletion.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listdock.security.policy import load_access
from listdock.services.grants import GrantSpec

from .conftest import API, ApiConnector, connector_body, create_connector
from .security_support import PASSWORD, Caller, add_principal, error_code, put_grant

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import FakeClock, Login

    from listdock.app import Services

CONNECTOR_ROLES = ("User", "Reader")


# Random grants -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantScene:
    """A two-company Chinook connector, an ApiReader in one team, and its widget token."""

    connector: ApiConnector
    owner: Caller
    team_id: str
    widget_token: str

    @property
    def list_ids(self) -> list[str]:
        return sorted(str(entity["EntityId"]) for entity in self.connector.entities.values())


@pytest.fixture
def grant_scene(
    client: TestClient,
    admin: Login,
    services: Services,
    chinook_sqlite_path: Path,
    tmp_path: Path,
) -> GrantScene:
    copies = []
    for name in ("north.sqlite", "south.sqlite"):
        copy = tmp_path / name
        shutil.copyfile(chinook_sqlite_path, copy)
        copies.append(str(copy))
    connector = create_connector(client, admin, connector_body("Chinook", "sqlite", copies))
    owner = add_principal(services, "Owner", ("ApiReader",), kind="user")

    with services.sessions.begin() as session:
        principal = services.principals.get(session, owner.principal_id)
        team = services.teams.create(session, name="Readers", description="", actor_id=None)
        services.teams.add_member(session, team, principal, actor_id=None)
        widget = services.tokens.create(
            session, principal, "widget", created_by=None, widget_id="x"
        )
        team_id = team.id
    return GrantScene(connector, owner, team_id, widget.value)


def id_choice(ids: list[str]) -> st.SearchStrategy[Any]:
    """Draw ``"all"`` or a subset of ``ids`` as a list."""
    return st.one_of(st.just("all"), st.lists(st.sampled_from(ids), unique=True))


def grant_specs(scene: GrantScene) -> st.SearchStrategy[GrantSpec | None]:
    """Draw no grant, or a grant with random connector roles, companies and lists."""
    spec = st.builds(
        GrantSpec,
        roles=st.lists(st.sampled_from(CONNECTOR_ROLES), unique=True),
        companies=id_choice(scene.connector.company_ids),
        lists=id_choice(scene.list_ids),
        details=st.just([]),
        actions=st.just([]),
    )
    return st.one_of(st.none(), spec)


def replace_grants(
    services: Services, scene: GrantScene, direct: GrantSpec | None, team: GrantSpec | None
) -> None:
    """Remove the owner's and the team's grants, then give the drawn ones."""
    connector_id = scene.connector.id
    with services.sessions.begin() as session:
        for holder in ({"principal_id": scene.owner.principal_id}, {"team_id": scene.team_id}):
            existing = services.grants.find(session, connector_id, **holder)
            if existing is not None:
                services.grants.remove(session, existing, actor_id=None)
        session.flush()
        if direct is not None:
            services.grants.put(
                session, connector_id, direct, principal_id=scene.owner.principal_id, actor_id=None
            )
        if team is not None:
            services.grants.put(session, connector_id, team, team_id=scene.team_id, actor_id=None)


def readable_pairs(client: TestClient, scene: GrantScene, token: str) -> set[tuple[str, str]]:
    """Return the (list, company) pairs whose data ``token`` reads through the REST API."""
    headers = {"Authorization": f"Bearer {token}"}
    readable = set()
    for entity_id in scene.list_ids:
        for company_id in scene.connector.company_ids:
            response = client.get(
                f"{API}/entity/{entity_id}/data",
                params={"company": company_id, "MaxRecords": 1},
                headers=headers,
            )
            if response.status_code == 200:
                readable.add((entity_id, company_id))
    return readable


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_api_reads_match_policy(
    client: TestClient, services: Services, grant_scene: GrantScene, data: st.DataObject
) -> None:
    scene = grant_scene
    direct = data.draw(grant_specs(scene), label="direct grant")
    team = data.draw(grant_specs(scene), label="team grant")
    replace_grants(services, scene, direct, team)
    with services.sessions() as session:
        access = load_access(session, scene.owner.principal_id)
    connector_id = scene.connector.id
    allowed_lists = {
        entity_id for entity_id in scene.list_ids if access.reads_list_data(connector_id, entity_id)
    }
    expected = {
        (entity_id, company_id)
        for entity_id in allowed_lists
        for company_id in scene.connector.company_ids
        if access.sees_company(connector_id, company_id)
    }

    readable = readable_pairs(client, scene, scene.owner.token)
    widget_readable = readable_pairs(client, scene, scene.widget_token)

    assert {entity_id for entity_id, _ in readable} <= allowed_lists
    assert readable == expected
    assert widget_readable == set()


# A disabled owner ---------------------------------------------------------------------------


@pytest.fixture
def reader(client: TestClient, admin: Login, services: Services, chinook: ApiConnector) -> Caller:
    """A user with ApiReader and a User grant on every Chinook list and company."""
    caller = add_principal(services, "Reader", ("ApiReader",), kind="user")
    granted = put_grant(client, admin.headers, f"/user/{caller.principal_id}", chinook.id)
    assert granted.status_code == 200, granted.text
    return caller


def invoice_data(client: TestClient, chinook: ApiConnector, headers: dict[str, str]) -> Any:
    return client.get(
        f"{API}/entity/{chinook.entity_id('Invoice')}/data",
        params={"MaxRecords": 1},
        headers=headers,
    )


def test_disabled_user_token_refused(
    client: TestClient, admin: Login, chinook: ApiConnector, reader: Caller
) -> None:
    before = invoice_data(client, chinook, reader.headers)

    disabled = client.patch(
        f"{API}/user/{reader.principal_id}", json={"Status": "Disabled"}, headers=admin.headers
    )
    after = invoice_data(client, chinook, reader.headers)

    assert before.status_code == 200, before.text
    assert disabled.status_code == 200, disabled.text
    assert after.status_code == 401
    assert error_code(after) == "invalid_token"


# Widget tokens on other routes --------------------------------------------------------------


@dataclass(frozen=True)
class WidgetScene:
    """A widget on Invoice, its token, and a named endpoint on another list."""

    widget_token: str
    customer_id: str
    endpoint_name: str


@pytest.fixture
def widget_scene(
    client: TestClient, admin: Login, services: Services, chinook: ApiConnector, reader: Caller
) -> WidgetScene:
    company_id = chinook.company_ids[0]
    widget = client.post(
        f"{API}/widget",
        json={
            "Name": "Invoices",
            "Type": "grid",
            "EntityId": chinook.entity_id("Invoice"),
            "CompanyId": company_id,
        },
        headers=admin.headers,
    )
    assert widget.status_code == 201, widget.text
    customer_id = chinook.entity_id("Customer")
    endpoint = client.post(
        f"{API}/endpoint",
        json={"Endpoint": "Customers", "EntityId": customer_id, "CompanyId": company_id},
        headers=admin.headers,
    )
    assert endpoint.status_code == 201, endpoint.text

    with services.sessions.begin() as session:
        owner = services.principals.get(session, reader.principal_id)
        issued = services.tokens.create(
            session, owner, "widget", created_by=None, widget_id=widget.json()["WidgetId"]
        )
        value = issued.value
    return WidgetScene(value, customer_id, "Customers")


# Each route: method, path, and whether the token goes in the query string, not the header.
WIDGET_ESCAPES = {
    "query": ("POST", "/query", False),
    "entity data": ("GET", "/entity/{customer}/data", False),
    "entity data by query token": ("GET", "/entity/{customer}/data", True),
    "named endpoint": ("GET", "/favorite/{endpoint}", False),
    "named endpoint alias": ("GET", "/endpoint/{endpoint}/data", False),
}


@pytest.mark.parametrize("route", WIDGET_ESCAPES)
def test_widget_token_reads_no_list(
    client: TestClient, widget_scene: WidgetScene, reader: Caller, route: str
) -> None:
    method, template, in_query = WIDGET_ESCAPES[route]
    scene = widget_scene
    path = API + template.format(customer=scene.customer_id, endpoint=scene.endpoint_name)
    body = {"Id": scene.customer_id} if method == "POST" else None
    if in_query:
        params, headers = {"token": scene.widget_token}, {}
    else:
        params, headers = {}, {"Authorization": f"Bearer {scene.widget_token}"}

    by_widget_token = client.request(method, path, json=body, params=params, headers=headers)
    by_owner_token = client.request(method, path, json=body, headers=reader.headers)

    assert by_owner_token.status_code == 200, by_owner_token.text
    assert by_widget_token.status_code == 403, by_widget_token.text
    assert error_code(by_widget_token) == "token_scope"


# Other users' tokens ------------------------------------------------------------------------


@pytest.fixture
def other(services: Services) -> Caller:
    return add_principal(services, "Other", ("ApiReader",), kind="user")


def test_user_cannot_list_others_tokens(client: TestClient, reader: Caller, other: Caller) -> None:
    response = client.get(f"{API}/user/{other.principal_id}/token", headers=reader.headers)

    assert response.status_code == 404
    assert error_code(response) == "user_not_found"
    assert other.token_id not in response.text


def test_user_cannot_read_others_token(client: TestClient, reader: Caller, other: Caller) -> None:
    response = client.get(f"{API}/token/{other.token_id}", headers=reader.headers)

    assert response.status_code == 404
    assert error_code(response) == "token_not_found"


# A failed token next to a valid web session -------------------------------------------------


@pytest.mark.parametrize("path", ["/user", "/audit"])
def test_revoked_token_beside_session_cookie(
    client: TestClient, admin: Login, services: Services, path: str
) -> None:
    # The admin's own session: a cookie that would allow every route if the API fell back to it.
    assert admin.email is not None
    cookie = services.web_sessions.login(admin.email, PASSWORD, ip="127.0.0.1")
    with services.sessions() as session:
        token_id = services.tokens.list_for_principal(session, admin.principal_id)[0].id
    revoked = client.delete(f"{API}/token/{token_id}", headers=admin.headers)
    client.cookies.set("listdock_session", cookie)

    response = client.get(f"{API}{path}", headers=admin.headers)

    assert revoked.status_code == 200, revoked.text
    assert services.web_sessions.resolve(cookie) is not None
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


# Usage of one token among several -----------------------------------------------------------


def test_last_used_moves_one_token(
    client: TestClient, admin: Login, services: Services, clock: FakeClock, reader: Caller
) -> None:
    with services.sessions.begin() as session:
        owner = services.principals.get(session, reader.principal_id)
        second = services.tokens.create(session, owner, "second", created_by=None)
        second_id, second_value = second.token.id, second.value
    second_headers = {"Authorization": f"Bearer {second_value}"}
    client.get(f"{API}/user/{reader.principal_id}", headers=reader.headers)
    client.get(f"{API}/user/{reader.principal_id}", headers=second_headers)
    services.usage.flush()
    first_before = client.get(f"{API}/token/{reader.token_id}", headers=admin.headers).json()
    second_before = client.get(f"{API}/token/{second_id}", headers=admin.headers).json()

    clock.advance(minutes=10)
    client.get(f"{API}/user/{reader.principal_id}", headers=reader.headers)
    services.usage.flush()
    first_after = client.get(f"{API}/token/{reader.token_id}", headers=admin.headers).json()
    second_after = client.get(f"{API}/token/{second_id}", headers=admin.headers).json()

    assert first_after["LastUsed"] != first_before["LastUsed"]
    assert first_after["UseCount"] == first_before["UseCount"] + 1
    assert second_after["LastUsed"] == second_before["LastUsed"]
    assert second_after["UseCount"] == second_before["UseCount"]


# Rights lost when a team or a role is deleted -----------------------------------------------


def create_role(client: TestClient, admin: Login, name: str, scope: str, permission: str) -> str:
    response = client.post(
        f"{API}/role",
        json={"Name": name, "Scope": scope, "Permissions": [permission]},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["RoleId"])


def create_team_with(client: TestClient, admin: Login, member: Caller) -> str:
    created = client.post(f"{API}/team", json={"Name": "Analysts"}, headers=admin.headers)
    assert created.status_code == 201, created.text
    team_id = str(created.json()["TeamId"])
    added = client.post(
        f"{API}/team/{team_id}/member", json={"UserId": member.principal_id}, headers=admin.headers
    )
    assert added.status_code == 201, added.text
    return team_id


@dataclass(frozen=True)
class LossCase:
    """How the right reaches the user, what is deleted, and the refusal expected after."""

    role_holder: str  # "user" or "team", assigned the custom system role with api.read
    grant_holder: str  # "user" or "team", given the connector grant
    deleted: str  # "team" or "role"
    status: int
    code: str


LOSS_CASES = {
    "team grant, team deleted": LossCase("user", "team", "team", 404, "entity_not_found"),
    "team role, team deleted": LossCase("team", "user", "team", 403, "missing_role"),
    "user role, role deleted": LossCase("user", "user", "role", 403, "missing_role"),
    "team role, role deleted": LossCase("team", "user", "role", 403, "missing_role"),
}


@pytest.mark.parametrize("case_name", LOSS_CASES)
def test_deletion_removes_data_rights(
    client: TestClient,
    admin: Login,
    services: Services,
    chinook: ApiConnector,
    case_name: str,
) -> None:
    case = LOSS_CASES[case_name]
    user = add_principal(services, "Analyst", kind="user")
    team_id = create_team_with(client, admin, user)
    role_id = create_role(client, admin, "Api access", "system", "api.read")
    role_path = f"/team/{team_id}" if case.role_holder == "team" else f"/user/{user.principal_id}"
    grant_path = f"/team/{team_id}" if case.grant_holder == "team" else f"/user/{user.principal_id}"
    roles = client.put(
        f"{API}{role_path}/role", json={"Roles": ["Api access"]}, headers=admin.headers
    )
    granted = put_grant(client, admin.headers, grant_path, chinook.id)
    before = invoice_data(client, chinook, user.headers)

    deleted_path = f"/team/{team_id}" if case.deleted == "team" else f"/role/{role_id}"
    deleted = client.delete(f"{API}{deleted_path}", headers=admin.headers)
    after = invoice_data(client, chinook, user.headers)

    assert roles.status_code == 200, roles.text
    assert granted.status_code == 200, granted.text
    assert before.status_code == 200, before.text
    assert deleted.status_code == 204, deleted.text
    assert after.status_code == case.status, after.text
    assert error_code(after) == case.code


@pytest.fixture
def viewer(client: TestClient, admin: Login, services: Services, chinook: ApiConnector) -> Caller:
    """An ApiReader whose only connector role is the custom role Viewer (connector.view_data)."""
    user = add_principal(services, "Viewer user", ("ApiReader",), kind="user")
    create_role(client, admin, "Viewer", "connector", "connector.view_data")
    granted = put_grant(
        client, admin.headers, f"/user/{user.principal_id}", chinook.id, Roles=["Viewer"]
    )
    assert granted.status_code == 200, granted.text
    return user


def delete_role_named(client: TestClient, admin: Login, name: str) -> Any:
    roles = client.get(f"{API}/role", headers=admin.headers).json()
    role_id = next(role["RoleId"] for role in roles if role["Name"] == name)
    return client.delete(f"{API}/role/{role_id}", headers=admin.headers)


def test_deleted_connector_role_removes_data(
    client: TestClient, admin: Login, chinook: ApiConnector, viewer: Caller
) -> None:
    before = invoice_data(client, chinook, viewer.headers)

    deleted = delete_role_named(client, admin, "Viewer")
    after = invoice_data(client, chinook, viewer.headers)

    assert before.status_code == 200, before.text
    assert deleted.status_code == 204, deleted.text
    assert after.status_code == 404, after.text
    assert error_code(after) == "entity_not_found"


def test_recreated_role_name_restores_nothing(
    client: TestClient, admin: Login, chinook: ApiConnector, viewer: Caller
) -> None:
    delete_role_named(client, admin, "Viewer")
    # Later, someone creates an unrelated role under the freed name.
    create_role(client, admin, "Viewer", "connector", "connector.view_data")

    response = invoice_data(client, chinook, viewer.headers)

    assert response.status_code == 404, response.text
