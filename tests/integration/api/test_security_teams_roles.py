"""Teams, their members and roles, and custom roles built from the permission list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .conftest import API, ApiConnector
from .security_support import Caller, add_principal, error_code, put_grant

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import Login

    from listdock.app import Services


@pytest.fixture
def robot(services: Services) -> Caller:
    """An API user with no role."""
    return add_principal(services, "Robot")


def create_team(client: TestClient, admin: Login, name: str = "Sales") -> str:
    response = client.post(f"{API}/team", json={"Name": name}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["TeamId"])


def add_to_team(client: TestClient, admin: Login, team_id: str, principal_id: str) -> Any:
    return client.post(
        f"{API}/team/{team_id}/member", json={"UserId": principal_id}, headers=admin.headers
    )


def role_id(client: TestClient, admin: Login, name: str, scope: str = "system") -> str:
    roles = client.get(f"{API}/role", headers=admin.headers).json()
    return next(role["RoleId"] for role in roles if role["Name"] == name and role["Scope"] == scope)


def audit_readable(client: TestClient, caller: Caller) -> int:
    return int(client.get(f"{API}/audit", headers=caller.headers).status_code)


# Teams ------------------------------------------------------------------------------------


def test_create_team_201(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/team", json={"Name": "Sales", "Description": "Sales desk"}, headers=admin.headers
    )

    assert response.status_code == 201
    assert response.json()["Name"] == "Sales"
    assert response.json()["Description"] == "Sales desk"


def test_team_name_taken_409(client: TestClient, admin: Login) -> None:
    create_team(client, admin, "Sales")

    response = client.post(f"{API}/team", json={"Name": "SALES"}, headers=admin.headers)

    assert response.status_code == 409
    assert error_code(response) == "name_taken"


def test_unknown_team_key_422(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/team", json={"Name": "Sales", "Owner": "me"}, headers=admin.headers
    )

    assert response.status_code == 422


def test_members_users_and_api_users(
    client: TestClient, admin: Login, services: Services, robot: Caller
) -> None:
    person = add_principal(services, "Person", kind="user")
    team_id = create_team(client, admin)

    added = [add_to_team(client, admin, team_id, who.principal_id) for who in (robot, person)]
    members = client.get(f"{API}/team/{team_id}/member", headers=admin.headers)

    assert [response.status_code for response in added] == [201, 201]
    assert {(member["UserId"], member["Kind"]) for member in members.json()} == {
        (robot.principal_id, "api"),
        (person.principal_id, "user"),
    }


def test_member_added_twice_409(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = create_team(client, admin)
    add_to_team(client, admin, team_id, robot.principal_id)

    response = add_to_team(client, admin, team_id, robot.principal_id)

    assert response.status_code == 409
    assert error_code(response) == "already_member"


def test_remove_unknown_member_404(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = create_team(client, admin)

    response = client.delete(
        f"{API}/team/{team_id}/member/{robot.principal_id}", headers=admin.headers
    )

    assert response.status_code == 404
    assert error_code(response) == "member_not_found"


def test_member_sees_own_team_only(client: TestClient, admin: Login, robot: Caller) -> None:
    mine = create_team(client, admin, "Mine")
    other = create_team(client, admin, "Other")
    add_to_team(client, admin, mine, robot.principal_id)

    listed = client.get(f"{API}/team", headers=robot.headers)
    hidden = client.get(f"{API}/team/{other}", headers=robot.headers)

    assert [team["TeamId"] for team in listed.json()] == [mine]
    assert hidden.status_code == 404


# Team roles -------------------------------------------------------------------------------


def test_team_role_inherited_at_once(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = create_team(client, admin)
    add_to_team(client, admin, team_id, robot.principal_id)
    before = audit_readable(client, robot)

    response = client.put(
        f"{API}/team/{team_id}/role", json={"Roles": ["SecurityManager"]}, headers=admin.headers
    )
    after = audit_readable(client, robot)

    assert response.json() == {"Roles": ["SecurityManager"]}
    assert before == 403
    assert after == 200


def test_team_role_removed_at_once(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = create_team(client, admin)
    add_to_team(client, admin, team_id, robot.principal_id)
    roles_path = f"{API}/team/{team_id}/role"
    client.put(roles_path, json={"Roles": ["SecurityManager"]}, headers=admin.headers)

    client.put(roles_path, json={"Roles": []}, headers=admin.headers)

    assert audit_readable(client, robot) == 403


def test_removed_member_loses_team_role(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = create_team(client, admin)
    add_to_team(client, admin, team_id, robot.principal_id)
    client.put(
        f"{API}/team/{team_id}/role", json={"Roles": ["SecurityManager"]}, headers=admin.headers
    )

    client.delete(f"{API}/team/{team_id}/member/{robot.principal_id}", headers=admin.headers)

    assert audit_readable(client, robot) == 403


def test_deleted_team_loses_role(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = create_team(client, admin)
    add_to_team(client, admin, team_id, robot.principal_id)
    client.put(
        f"{API}/team/{team_id}/role", json={"Roles": ["SecurityManager"]}, headers=admin.headers
    )

    deleted = client.delete(f"{API}/team/{team_id}", headers=admin.headers)

    assert deleted.status_code == 204
    assert audit_readable(client, robot) == 403


def test_team_grants_api_reader_data(
    client: TestClient, admin: Login, robot: Caller, chinook: ApiConnector
) -> None:
    team_id = create_team(client, admin)
    add_to_team(client, admin, team_id, robot.principal_id)
    put_grant(client, admin.headers, f"/team/{team_id}", chinook.id)
    data_path = f"{API}/entity/{chinook.entity_id('Invoice')}/data"
    before = client.get(data_path, headers=robot.headers)

    client.put(f"{API}/team/{team_id}/role", json={"Roles": ["ApiReader"]}, headers=admin.headers)
    after = client.get(data_path, headers=robot.headers)

    assert before.status_code == 403
    assert error_code(before) == "missing_role"
    assert after.status_code == 200


def test_unknown_team_role_400(client: TestClient, admin: Login) -> None:
    team_id = create_team(client, admin)

    response = client.put(
        f"{API}/team/{team_id}/role", json={"Roles": ["Overlord"]}, headers=admin.headers
    )

    assert response.status_code == 400
    assert error_code(response) == "unknown_role"


# User roles -------------------------------------------------------------------------------


def test_user_role_assignment_round_trip(client: TestClient, admin: Login, robot: Caller) -> None:
    path = f"{API}/user/{robot.principal_id}/role"

    put = client.put(path, json={"Roles": ["apireader", "Developer"]}, headers=admin.headers)
    read = client.get(path, headers=admin.headers)

    assert put.status_code == 200
    assert read.json() == {"Roles": ["ApiReader", "Developer"]}


def test_unknown_user_role_400(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.put(
        f"{API}/user/{robot.principal_id}/role", json={"Roles": ["Overlord"]}, headers=admin.headers
    )

    assert response.status_code == 400
    assert error_code(response) == "unknown_role"


def test_connector_role_not_system_400(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.put(
        f"{API}/user/{robot.principal_id}/role", json={"Roles": ["Reader"]}, headers=admin.headers
    )

    assert response.status_code == 400
    assert error_code(response) == "unknown_role"


def test_user_role_removed_at_once(client: TestClient, admin: Login, robot: Caller) -> None:
    path = f"{API}/user/{robot.principal_id}/role"
    client.put(path, json={"Roles": ["SecurityManager"]}, headers=admin.headers)
    before = audit_readable(client, robot)

    client.put(path, json={"Roles": []}, headers=admin.headers)

    assert before == 200
    assert audit_readable(client, robot) == 403


# Roles ------------------------------------------------------------------------------------


def test_built_in_roles_listed(client: TestClient, robot: Caller) -> None:
    response = client.get(f"{API}/role", headers=robot.headers)

    names = {(role["Scope"], role["Name"]) for role in response.json() if role["BuiltIn"]}
    assert ("system", "Administrator") in names
    assert ("system", "ApiReader") in names
    assert ("connector", "Reader") in names
    assert ("connector", "TextExporter") in names


@pytest.mark.parametrize(
    ("method", "body"),
    [("PATCH", {"Permissions": ["api.read"]}), ("PATCH", {"Name": "Boss"}), ("DELETE", None)],
    ids=["change permissions", "rename", "delete"],
)
def test_built_in_role_is_read_only(
    client: TestClient, admin: Login, method: str, body: Any
) -> None:
    administrator = role_id(client, admin, "Administrator")

    response = client.request(
        method, f"{API}/role/{administrator}", json=body, headers=admin.headers
    )

    assert response.status_code == 403
    assert error_code(response) == "built_in_role"


def test_custom_role_from_permissions(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/role",
        json={"Name": "Auditor", "Scope": "system", "Permissions": ["security.manage"]},
        headers=admin.headers,
    )

    assert response.status_code == 201
    assert response.json()["Permissions"] == ["security.manage"]
    assert response.json()["BuiltIn"] is False


@pytest.mark.parametrize(
    ("scope", "permission"),
    [("system", "everything"), ("system", "connector.view_data"), ("connector", "api.read")],
)
def test_unknown_permission_400(
    client: TestClient, admin: Login, scope: str, permission: str
) -> None:
    response = client.post(
        f"{API}/role",
        json={"Name": "Odd", "Scope": scope, "Permissions": [permission]},
        headers=admin.headers,
    )

    assert response.status_code == 400
    assert error_code(response) == "unknown_permission"


def test_custom_role_name_clash_409(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/role",
        json={"Name": "administrator", "Scope": "system", "Permissions": []},
        headers=admin.headers,
    )

    assert response.status_code == 409


def test_custom_role_assigned_and_changed(client: TestClient, admin: Login, robot: Caller) -> None:
    created = client.post(
        f"{API}/role",
        json={"Name": "Auditor", "Scope": "system", "Permissions": ["security.manage"]},
        headers=admin.headers,
    ).json()
    client.put(
        f"{API}/user/{robot.principal_id}/role", json={"Roles": ["Auditor"]}, headers=admin.headers
    )
    before = audit_readable(client, robot)

    changed = client.patch(
        f"{API}/role/{created['RoleId']}", json={"Permissions": []}, headers=admin.headers
    )

    assert before == 200
    assert changed.status_code == 200
    assert audit_readable(client, robot) == 403


def test_deleted_custom_role_unassigned(client: TestClient, admin: Login, robot: Caller) -> None:
    created = client.post(
        f"{API}/role",
        json={"Name": "Auditor", "Scope": "system", "Permissions": ["security.manage"]},
        headers=admin.headers,
    ).json()
    client.put(
        f"{API}/user/{robot.principal_id}/role", json={"Roles": ["Auditor"]}, headers=admin.headers
    )

    deleted = client.delete(f"{API}/role/{created['RoleId']}", headers=admin.headers)
    roles = client.get(f"{API}/user/{robot.principal_id}/role", headers=admin.headers)

    assert deleted.status_code == 204
    assert roles.json() == {"Roles": []}
    assert audit_readable(client, robot) == 403


def test_custom_connector_role_in_grant(
    client: TestClient, admin: Login, services: Services, chinook: ApiConnector
) -> None:
    reader = add_principal(services, "Reader", ("ApiReader",))
    client.post(
        f"{API}/role",
        json={"Name": "Viewer", "Scope": "connector", "Permissions": ["connector.view_data"]},
        headers=admin.headers,
    )
    invoice = chinook.entity_id("Invoice")

    granted = put_grant(
        client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Roles=["Viewer"]
    )
    response = client.get(f"{API}/entity/{invoice}/data", headers=reader.headers)

    assert granted.status_code == 200
    assert response.status_code == 200
