"""Token lifecycle through the REST API: creation, presentation, expiry, disable, revoke, rotate.

Time moves with the ``clock`` fixture, so expiry and grace periods need no sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import update

from listdock.domain.models import Account

from .conftest import API
from .security_support import Caller, add_principal, error_code

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import FakeClock, Login

    from listdock.app import Services

TOKEN_METADATA_KEYS = {
    "TokenId",
    "Name",
    "UserId",
    "WidgetId",
    "ReadOnly",
    "Prefix",
    "Status",
    "Created",
    "CreatedBy",
    "ExpiresAt",
    "LastUsed",
    "LastUsedSurface",
    "UseCount",
    "LastRefusalReason",
    "LastRefused",
}


def new_token(
    client: TestClient, admin: Login, owner_id: str, name: str = "build", **extra: Any
) -> Any:
    return client.post(
        f"{API}/user/{owner_id}/token", json={"Name": name, **extra}, headers=admin.headers
    )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def whoami(client: TestClient, value: str) -> Any:
    return client.get(f"{API}/user", headers=bearer(value))


def set_max_lifetime(services: Services, days: int | None) -> None:
    with services.sessions.begin() as session:
        session.execute(update(Account).values(max_token_lifetime_days=days))


@pytest.fixture
def robot(services: Services) -> Caller:
    return add_principal(services, "Robot", ("ApiReader",))


# Creation ---------------------------------------------------------------------------------


def test_create_token_returns_value(client: TestClient, admin: Login, robot: Caller) -> None:
    response = new_token(client, admin, robot.principal_id)

    assert response.status_code == 201, response.text
    token = response.json()["Token"]
    assert token["Name"] == "build"
    assert token["UserId"] == robot.principal_id
    assert token["Value"].startswith("ldk_")
    assert len(token["Value"]) == 40
    assert token["Prefix"] == token["Value"][:8]
    assert token["ReadOnly"] is False
    assert token["WidgetId"] is None


def test_created_token_authenticates(client: TestClient, admin: Login, robot: Caller) -> None:
    value = new_token(client, admin, robot.principal_id).json()["Token"]["Value"]

    response = whoami(client, value)

    assert response.status_code == 200
    assert [user["UserId"] for user in response.json()] == [robot.principal_id]


def test_read_only_user_token_422(client: TestClient, admin: Login, robot: Caller) -> None:
    response = new_token(client, admin, robot.principal_id, ReadOnly=True)

    assert response.status_code == 422
    assert error_code(response) == "invalid_body"
    assert response.json()["error"] == "Invalid ReadOnly: ReadOnly applies only to widget tokens"


@pytest.mark.parametrize("second_name", ["build", "BUILD", " Build "])
def test_token_name_taken_409(
    client: TestClient, admin: Login, robot: Caller, second_name: str
) -> None:
    new_token(client, admin, robot.principal_id, "build")

    response = new_token(client, admin, robot.principal_id, second_name)

    assert response.status_code == 409
    assert error_code(response) == "token_name_taken"


def test_same_name_other_owner_allowed(
    client: TestClient, admin: Login, robot: Caller, services: Services
) -> None:
    other = add_principal(services, "Other")
    new_token(client, admin, robot.principal_id, "build")

    response = new_token(client, admin, other.principal_id, "build")

    assert response.status_code == 201


def test_expiry_in_past_400(
    client: TestClient, admin: Login, robot: Caller, clock: FakeClock
) -> None:
    past = (clock.now() - timedelta(minutes=1)).isoformat()

    response = new_token(client, admin, robot.principal_id, ExpiresAt=past)

    assert response.status_code == 400
    assert error_code(response) == "invalid_expiry"


def test_expiry_over_account_cap_400(
    client: TestClient, admin: Login, robot: Caller, services: Services, clock: FakeClock
) -> None:
    set_max_lifetime(services, 30)
    late = (clock.now() + timedelta(days=31)).isoformat()

    response = new_token(client, admin, robot.principal_id, ExpiresAt=late)

    assert response.status_code == 400
    assert error_code(response) == "invalid_expiry"


def test_expiry_within_cap_kept(
    client: TestClient, admin: Login, robot: Caller, services: Services, clock: FakeClock
) -> None:
    set_max_lifetime(services, 30)
    soon = clock.now() + timedelta(days=29)

    response = new_token(client, admin, robot.principal_id, ExpiresAt=soon.isoformat())

    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["Token"]["ExpiresAt"]) == soon


def test_no_expiry_gets_account_cap(
    client: TestClient, admin: Login, robot: Caller, services: Services, clock: FakeClock
) -> None:
    set_max_lifetime(services, 30)

    response = new_token(client, admin, robot.principal_id)

    expires_at = datetime.fromisoformat(response.json()["Token"]["ExpiresAt"])
    assert expires_at == clock.now() + timedelta(days=30)


def test_api_user_token_capped_too(
    client: TestClient, admin: Login, services: Services, clock: FakeClock
) -> None:
    set_max_lifetime(services, 7)

    response = client.post(
        f"{API}/user",
        json={"Name": "Robot", "Kind": "api", "TokenName": "x"},
        headers=admin.headers,
    )

    expires_at = datetime.fromisoformat(response.json()["Token"]["ExpiresAt"])
    assert expires_at == clock.now() + timedelta(days=7)


# Presenting a token -----------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer {}", "bearer {}", "BEARER   {}  ", "  Bearer {}"])
def test_bearer_header_forms_accepted(client: TestClient, robot: Caller, header: str) -> None:
    response = client.get(f"{API}/user", headers={"Authorization": header.format(robot.token)})

    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Basic {}", "Token {}", "{}", "Bearer", "Bearer x{}"])
def test_malformed_header_401(client: TestClient, robot: Caller, header: str) -> None:
    response = client.get(f"{API}/user", headers={"Authorization": header.format(robot.token)})

    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token", "code": "invalid_token"}
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_token_value_is_case_sensitive(client: TestClient, robot: Caller) -> None:
    changed = robot.token[:4] + robot.token[4:].swapcase()

    response = whoami(client, changed)

    assert response.status_code == 401


def test_missing_token_401_required(client: TestClient) -> None:
    response = client.get(f"{API}/user")

    assert response.status_code == 401
    assert error_code(response) == "token_required"
    assert "WWW-Authenticate" in response.headers


def test_query_token_on_get(client: TestClient, robot: Caller) -> None:
    response = client.get(f"{API}/user", params={"token": robot.token})

    assert response.status_code == 200


def test_query_token_on_post_400(client: TestClient, robot: Caller) -> None:
    response = client.post(f"{API}/team", params={"token": robot.token}, json={"Name": "Team"})

    assert response.status_code == 400
    assert error_code(response) == "token_in_query"


def test_token_in_header_and_query_400(client: TestClient, robot: Caller) -> None:
    response = client.get(f"{API}/user", params={"token": robot.token}, headers=robot.headers)

    assert response.status_code == 400
    assert error_code(response) == "token_conflict"


# Expiry, disable, enable, revoke ----------------------------------------------------------


def test_expired_token_refused(
    client: TestClient, admin: Login, robot: Caller, clock: FakeClock
) -> None:
    expiry = (clock.now() + timedelta(hours=1)).isoformat()
    value = new_token(client, admin, robot.principal_id, ExpiresAt=expiry).json()["Token"]["Value"]
    before = whoami(client, value)

    clock.advance(hours=1, seconds=1)
    after = whoami(client, value)

    assert before.status_code == 200
    assert after.status_code == 401
    assert error_code(after) == "invalid_token"


def test_disabled_token_refused(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.patch(
        f"{API}/token/{robot.token_id}", json={"Status": "Disabled"}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["Status"] == "Disabled"
    assert whoami(client, robot.token).status_code == 401


def test_enabled_token_works_again(client: TestClient, admin: Login, robot: Caller) -> None:
    path = f"{API}/token/{robot.token_id}"
    client.patch(path, json={"Status": "Disabled"}, headers=admin.headers)

    response = client.patch(path, json={"Status": "Active"}, headers=admin.headers)

    assert response.status_code == 200
    assert whoami(client, robot.token).status_code == 200


def test_rename_token(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.patch(
        f"{API}/token/{robot.token_id}", json={"Name": "renamed"}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["Name"] == "renamed"


def test_revoked_token_refused(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.delete(f"{API}/token/{robot.token_id}", headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["Status"] == "Revoked"
    assert whoami(client, robot.token).status_code == 401


def test_revoked_token_cannot_be_enabled(client: TestClient, admin: Login, robot: Caller) -> None:
    path = f"{API}/token/{robot.token_id}"
    client.delete(path, headers=admin.headers)

    response = client.patch(path, json={"Status": "Active"}, headers=admin.headers)

    assert response.status_code == 409
    assert error_code(response) == "token_revoked"
    assert whoami(client, robot.token).status_code == 401


def test_revoked_token_cannot_be_rotated(client: TestClient, admin: Login, robot: Caller) -> None:
    client.delete(f"{API}/token/{robot.token_id}", headers=admin.headers)

    response = client.post(f"{API}/token/{robot.token_id}/rotate", headers=admin.headers)

    assert response.status_code == 409
    assert error_code(response) == "token_revoked"


def test_unknown_token_id_404(client: TestClient, admin: Login) -> None:
    response = client.get(
        f"{API}/token/00000000-0000-0000-0000-000000000000", headers=admin.headers
    )

    assert response.status_code == 404
    assert error_code(response) == "token_not_found"


# Rotation ---------------------------------------------------------------------------------


def test_rotate_stops_old_value(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.post(f"{API}/token/{robot.token_id}/rotate", headers=admin.headers)

    assert response.status_code == 200, response.text
    rotated = response.json()["Token"]
    assert rotated["TokenId"] == robot.token_id
    assert rotated["Name"] == "tests"
    assert rotated["Value"] != robot.token
    assert whoami(client, robot.token).status_code == 401
    assert whoami(client, rotated["Value"]).status_code == 200


def test_rotate_grace_keeps_old_value(
    client: TestClient, admin: Login, robot: Caller, clock: FakeClock
) -> None:
    response = client.post(
        f"{API}/token/{robot.token_id}/rotate", json={"GraceSeconds": 60}, headers=admin.headers
    )
    new_value = response.json()["Token"]["Value"]

    during = whoami(client, robot.token)
    clock.advance(seconds=61)
    after = whoami(client, robot.token)

    assert during.status_code == 200
    assert after.status_code == 401
    assert whoami(client, new_value).status_code == 200


def test_rotate_grace_ends_on_revoke(client: TestClient, admin: Login, robot: Caller) -> None:
    client.post(
        f"{API}/token/{robot.token_id}/rotate", json={"GraceSeconds": 600}, headers=admin.headers
    )

    client.delete(f"{API}/token/{robot.token_id}", headers=admin.headers)

    assert whoami(client, robot.token).status_code == 401


@pytest.mark.parametrize("grace", [86_401, -1, "soon"])
def test_rotate_bad_grace_422(
    client: TestClient, admin: Login, robot: Caller, grace: object
) -> None:
    response = client.post(
        f"{API}/token/{robot.token_id}/rotate", json={"GraceSeconds": grace}, headers=admin.headers
    )

    assert response.status_code == 422
    assert whoami(client, robot.token).status_code == 200


def test_rotate_max_grace_accepted(client: TestClient, admin: Login, robot: Caller) -> None:
    response = client.post(
        f"{API}/token/{robot.token_id}/rotate",
        json={"GraceSeconds": 86_400},
        headers=admin.headers,
    )

    assert response.status_code == 200


# Usage and metadata -----------------------------------------------------------------------


def test_usage_recorded_after_flush(
    client: TestClient, admin: Login, robot: Caller, services: Services, clock: FakeClock
) -> None:
    whoami(client, robot.token)
    whoami(client, robot.token)
    services.usage.flush()

    response = client.get(f"{API}/token/{robot.token_id}", headers=admin.headers)

    body = response.json()
    assert body["UseCount"] == 2
    assert body["LastUsedSurface"] == "api"
    assert datetime.fromisoformat(body["LastUsed"]) == clock.now()


def test_metadata_never_has_value(client: TestClient, admin: Login, robot: Caller) -> None:
    single = client.get(f"{API}/token/{robot.token_id}", headers=admin.headers)
    listed = client.get(f"{API}/user/{robot.principal_id}/token", headers=admin.headers)

    assert set(single.json()) == TOKEN_METADATA_KEYS
    assert robot.token not in single.text
    assert robot.token not in listed.text
    assert [token["TokenId"] for token in listed.json()] == [robot.token_id]


def test_rejection_reason_on_token_page(client: TestClient, admin: Login, robot: Caller) -> None:
    client.patch(
        f"{API}/token/{robot.token_id}", json={"Status": "Disabled"}, headers=admin.headers
    )
    whoami(client, robot.token)

    response = client.get(f"{API}/token/{robot.token_id}", headers=admin.headers)

    assert response.json()["LastRefusalReason"] == "disabled"


def test_owner_reads_own_token(client: TestClient, robot: Caller) -> None:
    response = client.get(f"{API}/token/{robot.token_id}", headers=robot.headers)

    assert response.status_code == 200


def test_other_token_metadata_404(
    client: TestClient, admin: Login, robot: Caller, services: Services
) -> None:
    other = add_principal(services, "Other", ("Developer",))

    single = client.get(f"{API}/token/{robot.token_id}", headers=other.headers)
    listed = client.get(f"{API}/user/{robot.principal_id}/token", headers=other.headers)

    assert single.status_code == 404
    assert listed.status_code == 404


def test_security_manager_reads_any_token(
    client: TestClient, robot: Caller, services: Services
) -> None:
    manager = add_principal(services, "Manager", ("SecurityManager",))

    response = client.get(f"{API}/token/{robot.token_id}", headers=manager.headers)

    assert response.status_code == 200
