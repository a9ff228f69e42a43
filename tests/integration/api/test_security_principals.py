"""Users and API users through the REST API: creation, changes, disabling and deletion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from listdock.domain.models import Principal, Token

from .conftest import API
from .security_support import PASSWORD, add_principal, error_code

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import Login

    from listdock.app import Services

NEW_TOKEN_KEYS = {
    "TokenId",
    "Name",
    "Value",
    "Prefix",
    "UserId",
    "WidgetId",
    "ReadOnly",
    "ExpiresAt",
    "Created",
}


def create_user(client: TestClient, admin: Login, email: str, **extra: object) -> object:
    body = {"Name": "Grace", "Email": email, "Password": PASSWORD, **extra}
    return client.post(f"{API}/user", json=body, headers=admin.headers)


# Users ------------------------------------------------------------------------------------


def test_create_user_returns_201(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "grace@example.com", "Password": PASSWORD},
        headers=admin.headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["Kind"] == "user"
    assert body["Email"] == "grace@example.com"
    assert body["Status"] == "Active"
    assert body["Token"] is None


def test_user_password_stored_as_argon2(
    client: TestClient, admin: Login, services: Services
) -> None:
    response = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "grace@example.com", "Password": PASSWORD},
        headers=admin.headers,
    )

    with services.sessions() as session:
        stored = session.get(Principal, response.json()["UserId"])
        assert stored is not None
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2")
        assert PASSWORD not in stored.password_hash


def test_user_responses_omit_password(client: TestClient, admin: Login) -> None:
    created = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "grace@example.com", "Password": PASSWORD},
        headers=admin.headers,
    )
    user_id = created.json()["UserId"]

    read = client.get(f"{API}/user/{user_id}", headers=admin.headers)
    listed = client.get(f"{API}/user", headers=admin.headers)

    for response in (created, read, listed):
        assert PASSWORD not in response.text
        assert "argon2" not in response.text
        assert "Password" not in response.text


def test_duplicate_email_case_insensitive_409(client: TestClient, admin: Login) -> None:
    first = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "grace@example.com", "Password": PASSWORD},
        headers=admin.headers,
    )
    second = client.post(
        f"{API}/user",
        json={"Name": "Grace 2", "Email": "GRACE@Example.COM", "Password": PASSWORD},
        headers=admin.headers,
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert error_code(second) == "email_taken"


def test_user_without_password_400(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user", json={"Name": "Grace", "Email": "g@example.com"}, headers=admin.headers
    )

    assert response.status_code == 400
    assert error_code(response) == "missing_credentials"


def test_user_short_password_400(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "g@example.com", "Password": "short"},
        headers=admin.headers,
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_password"


def test_unknown_user_key_422(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "g@example.com", "Password": PASSWORD, "Admin": True},
        headers=admin.headers,
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_body"


def test_unknown_patch_key_422(client: TestClient, admin: Login, services: Services) -> None:
    target = add_principal(services, "Robot")

    response = client.patch(
        f"{API}/user/{target.principal_id}", json={"Email": "x@example.com"}, headers=admin.headers
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_body"


# API users --------------------------------------------------------------------------------


def test_api_user_with_token_201(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user",
        json={"Name": "Robot", "Kind": "api", "TokenName": "x"},
        headers=admin.headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["Kind"] == "api"
    assert body["Email"] is None
    assert set(body["Token"]) == NEW_TOKEN_KEYS
    assert body["Token"]["Name"] == "x"
    assert body["Token"]["UserId"] == body["UserId"]
    assert body["Token"]["WidgetId"] is None
    assert body["Token"]["ReadOnly"] is False
    assert body["Token"]["Value"].startswith(body["Token"]["Prefix"])


def test_api_user_token_works(client: TestClient, admin: Login) -> None:
    created = client.post(
        f"{API}/user",
        json={"Name": "Robot", "Kind": "api", "TokenName": "x"},
        headers=admin.headers,
    ).json()
    headers = {"Authorization": f"Bearer {created['Token']['Value']}"}

    response = client.get(f"{API}/user/{created['UserId']}", headers=headers)

    assert response.status_code == 200
    assert response.json()["Name"] == "Robot"


def test_api_user_without_token(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user", json={"Name": "Robot", "Kind": "api"}, headers=admin.headers
    )

    assert response.status_code == 201
    assert response.json()["Token"] is None


def test_api_user_with_password_400(client: TestClient, admin: Login) -> None:
    response = client.post(
        f"{API}/user",
        json={"Name": "Robot", "Kind": "api", "Password": PASSWORD},
        headers=admin.headers,
    )

    assert response.status_code == 400
    assert error_code(response) == "api_user_credentials"


def test_api_user_stores_no_credentials(
    client: TestClient, admin: Login, services: Services
) -> None:
    response = client.post(
        f"{API}/user", json={"Name": "Robot", "Kind": "api"}, headers=admin.headers
    )

    with services.sessions() as session:
        stored = session.get(Principal, response.json()["UserId"])
        assert stored is not None
        assert stored.email is None
        assert stored.password_hash is None


# Changes ----------------------------------------------------------------------------------


def test_rename_principal(client: TestClient, admin: Login, services: Services) -> None:
    target = add_principal(services, "Robot")

    response = client.patch(
        f"{API}/user/{target.principal_id}", json={"Name": "Robot Two"}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["Name"] == "Robot Two"


def test_disable_stops_tokens_at_once(client: TestClient, admin: Login, services: Services) -> None:
    target = add_principal(services, "Robot")
    own = f"{API}/user/{target.principal_id}"
    before = client.get(own, headers=target.headers)

    disabled = client.patch(own, json={"Status": "Disabled"}, headers=admin.headers)
    after = client.get(own, headers=target.headers)

    assert before.status_code == 200
    assert disabled.json()["Status"] == "Disabled"
    assert after.status_code == 401
    assert error_code(after) == "invalid_token"


def test_enable_restores_tokens(client: TestClient, admin: Login, services: Services) -> None:
    target = add_principal(services, "Robot")
    own = f"{API}/user/{target.principal_id}"
    client.patch(own, json={"Status": "Disabled"}, headers=admin.headers)

    client.patch(own, json={"Status": "Active"}, headers=admin.headers)
    response = client.get(own, headers=target.headers)

    assert response.status_code == 200


def test_delete_removes_principal_tokens(
    client: TestClient, admin: Login, services: Services
) -> None:
    target = add_principal(services, "Robot")

    deleted = client.delete(f"{API}/user/{target.principal_id}", headers=admin.headers)
    used = client.get(f"{API}/user", headers=target.headers)
    metadata = client.get(f"{API}/token/{target.token_id}", headers=admin.headers)

    assert deleted.status_code == 204
    assert used.status_code == 401
    assert metadata.status_code == 404
    with services.sessions() as session:
        remaining = session.scalars(
            select(Token.id).where(Token.principal_id == target.principal_id)
        ).all()
        assert remaining == []


def test_deleted_principal_is_404(client: TestClient, admin: Login, services: Services) -> None:
    target = add_principal(services, "Robot")
    client.delete(f"{API}/user/{target.principal_id}", headers=admin.headers)

    response = client.get(f"{API}/user/{target.principal_id}", headers=admin.headers)

    assert response.status_code == 404
    assert error_code(response) == "user_not_found"


def test_last_administrator_cannot_be_disabled(client: TestClient, admin: Login) -> None:
    response = client.patch(
        f"{API}/user/{admin.principal_id}", json={"Status": "Disabled"}, headers=admin.headers
    )

    assert response.status_code == 409
    assert error_code(response) == "last_administrator"


def test_last_administrator_cannot_be_deleted(client: TestClient, admin: Login) -> None:
    response = client.delete(f"{API}/user/{admin.principal_id}", headers=admin.headers)

    assert response.status_code == 409
    assert error_code(response) == "last_administrator"


def test_last_administrator_keeps_role(client: TestClient, admin: Login) -> None:
    response = client.put(
        f"{API}/user/{admin.principal_id}/role", json={"Roles": []}, headers=admin.headers
    )

    assert response.status_code == 409
    assert error_code(response) == "last_administrator"


def test_second_administrator_allows_disable(
    client: TestClient, admin: Login, services: Services
) -> None:
    add_principal(services, "Second Admin", ("Administrator",), kind="user")

    response = client.patch(
        f"{API}/user/{admin.principal_id}", json={"Status": "Disabled"}, headers=admin.headers
    )

    assert response.status_code == 200


def test_user_list_shows_self_only(client: TestClient, admin: Login, services: Services) -> None:
    reader = add_principal(services, "Reader", ("ApiReader",))

    response = client.get(f"{API}/user", headers=reader.headers)

    assert response.status_code == 200
    assert [user["UserId"] for user in response.json()] == [reader.principal_id]


def test_other_principal_is_404(client: TestClient, admin: Login, services: Services) -> None:
    reader = add_principal(services, "Reader", ("ApiReader",))

    response = client.get(f"{API}/user/{admin.principal_id}", headers=reader.headers)

    assert response.status_code == 404
    assert error_code(response) == "user_not_found"
