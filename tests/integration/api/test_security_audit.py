"""The audit log: token lifecycle, refusals with their precise reason, security changes.

``GET /audit`` filters with ``since``, ``until`` (ISO 8601 times), ``actor`` (a UserId),
``tokenId`` and ``event``, and pages with ``skip`` and ``limit``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from listdock.security.tokens import generate_token

from .conftest import API, ApiConnector
from .security_support import PASSWORD, Caller, add_principal, put_grant

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import FakeClock, Login

    from listdock.app import Services


@pytest.fixture
def robot(services: Services) -> Caller:
    return add_principal(services, "Robot", ("ApiReader",))


def events(client: TestClient, admin: Login, **filters: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", params=filters, headers=admin.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def event_names(client: TestClient, admin: Login, **filters: Any) -> list[str]:
    return [event["Event"] for event in events(client, admin, **filters)]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


# Token lifecycle --------------------------------------------------------------------------


def test_token_lifecycle_events(client: TestClient, admin: Login, robot: Caller) -> None:
    created = client.post(
        f"{API}/user/{robot.principal_id}/token", json={"Name": "ci"}, headers=admin.headers
    ).json()["Token"]
    path = f"{API}/token/{created['TokenId']}"
    client.post(f"{path}/rotate", headers=admin.headers)
    client.patch(path, json={"Status": "Disabled"}, headers=admin.headers)
    client.patch(path, json={"Status": "Active"}, headers=admin.headers)
    client.delete(path, headers=admin.headers)

    logged = events(client, admin, tokenId=created["TokenId"])

    assert [event["Event"] for event in reversed(logged)] == [
        "token_created",
        "token_rotated",
        "token_disabled",
        "token_enabled",
        "token_revoked",
    ]
    assert {event["Actor"] for event in logged} == {admin.principal_id}
    assert {event["Outcome"] for event in logged} == {"success"}


def test_rotation_logs_grace(client: TestClient, admin: Login, robot: Caller) -> None:
    client.post(
        f"{API}/token/{robot.token_id}/rotate", json={"GraceSeconds": 300}, headers=admin.headers
    )

    (rotated,) = events(client, admin, event="token_rotated")

    assert rotated["TokenId"] == robot.token_id
    assert rotated["Details"] == {"grace_seconds": 300}


# Refusals ---------------------------------------------------------------------------------


def refusal(client: TestClient, admin: Login) -> dict[str, Any]:
    refused = events(client, admin, event="token_refused", limit=1)
    assert refused, "no token_refused event"
    return refused[0]


def test_refusal_malformed(client: TestClient, admin: Login) -> None:
    client.get(f"{API}/user", headers=bearer("not-a-token"))

    event = refusal(client, admin)
    assert event["Reason"] == "malformed"
    assert event["Outcome"] == "failure"
    assert event["Ip"] == "testclient"


def test_refusal_bad_checksum(client: TestClient, admin: Login, robot: Caller) -> None:
    last = robot.token[-1]
    damaged = robot.token[:-1] + ("A" if last != "A" else "B")

    client.get(f"{API}/user", headers=bearer(damaged))

    assert refusal(client, admin)["Reason"] == "bad_checksum"


def test_refusal_unknown(client: TestClient, admin: Login) -> None:
    client.get(f"{API}/user", headers=bearer(generate_token()))

    event = refusal(client, admin)
    assert event["Reason"] == "unknown"
    assert event["TokenId"] is None


def test_refusal_expired(client: TestClient, admin: Login, robot: Caller, clock: FakeClock) -> None:
    expiry = (clock.now() + timedelta(minutes=5)).isoformat()
    created = client.post(
        f"{API}/user/{robot.principal_id}/token",
        json={"Name": "short", "ExpiresAt": expiry},
        headers=admin.headers,
    ).json()["Token"]
    clock.advance(minutes=6)

    client.get(f"{API}/user", headers=bearer(created["Value"]))

    event = refusal(client, admin)
    assert event["Reason"] == "expired"
    assert event["TokenId"] == created["TokenId"]
    assert event["Actor"] == robot.principal_id


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("disable token", "disabled"),
        ("revoke token", "revoked"),
        ("disable owner", "owner_disabled"),
        ("rotate token", "revoked"),
    ],
)
def test_rejection_reason_recorded(
    client: TestClient, admin: Login, robot: Caller, change: str, reason: str
) -> None:
    token_path = f"{API}/token/{robot.token_id}"
    if change == "disable token":
        client.patch(token_path, json={"Status": "Disabled"}, headers=admin.headers)
    elif change == "revoke token":
        client.delete(token_path, headers=admin.headers)
    elif change == "rotate token":
        client.post(f"{token_path}/rotate", headers=admin.headers)
    else:
        client.patch(
            f"{API}/user/{robot.principal_id}", json={"Status": "Disabled"}, headers=admin.headers
        )

    response = client.get(f"{API}/user", headers=robot.headers)

    assert response.status_code == 401
    event = refusal(client, admin)
    assert event["Reason"] == reason
    assert event["TokenId"] == robot.token_id


def test_refusal_hidden_from_caller(client: TestClient, admin: Login, robot: Caller) -> None:
    client.patch(
        f"{API}/token/{robot.token_id}", json={"Status": "Disabled"}, headers=admin.headers
    )

    response = client.get(f"{API}/user", headers=robot.headers)

    assert "disabled" not in response.text.lower()


# Security changes -------------------------------------------------------------------------


def test_principal_changes_logged(client: TestClient, admin: Login) -> None:
    user = client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "grace@example.com", "Password": PASSWORD},
        headers=admin.headers,
    ).json()
    robot = client.post(
        f"{API}/user", json={"Name": "Robot", "Kind": "api"}, headers=admin.headers
    ).json()
    user_path = f"{API}/user/{user['UserId']}"
    client.patch(user_path, json={"Status": "Disabled"}, headers=admin.headers)
    client.patch(user_path, json={"Status": "Active"}, headers=admin.headers)
    client.put(f"{user_path}/role", json={"Roles": ["Developer"]}, headers=admin.headers)
    client.delete(f"{API}/user/{robot['UserId']}", headers=admin.headers)

    names = event_names(client, admin, actor=admin.principal_id)

    for expected in (
        "user_created",
        "api_user_created",
        "principal_disabled",
        "principal_enabled",
        "roles_changed",
        "principal_deleted",
    ):
        assert expected in names, expected


def test_team_and_role_changes_logged(client: TestClient, admin: Login, robot: Caller) -> None:
    team_id = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()[
        "TeamId"
    ]
    member_path = f"{API}/team/{team_id}/member"
    client.post(member_path, json={"UserId": robot.principal_id}, headers=admin.headers)
    client.delete(f"{member_path}/{robot.principal_id}", headers=admin.headers)
    client.put(f"{API}/team/{team_id}/role", json={"Roles": ["ApiReader"]}, headers=admin.headers)
    client.delete(f"{API}/team/{team_id}", headers=admin.headers)
    role_id = client.post(
        f"{API}/role", json={"Name": "Auditor", "Scope": "system"}, headers=admin.headers
    ).json()["RoleId"]
    client.patch(f"{API}/role/{role_id}", json={"Description": "Reads"}, headers=admin.headers)
    client.delete(f"{API}/role/{role_id}", headers=admin.headers)

    names = event_names(client, admin)

    for expected in (
        "team_created",
        "team_member_added",
        "team_member_removed",
        "roles_changed",
        "team_deleted",
        "role_created",
        "role_changed",
        "role_deleted",
    ):
        assert expected in names, expected


def test_grant_changes_logged(
    client: TestClient, admin: Login, robot: Caller, chinook: ApiConnector
) -> None:
    path = f"/user/{robot.principal_id}"
    put_grant(client, admin.headers, path, chinook.id)
    client.delete(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)

    changed = events(client, admin, event="grant_changed")
    removed = events(client, admin, event="grant_removed")

    assert changed[0]["Target"] == f"principal:{robot.principal_id}"
    assert changed[0]["Details"]["connector_id"] == chinook.id
    assert removed[0]["Target"] == f"principal:{robot.principal_id}"


# Filters and access -----------------------------------------------------------------------


def test_filter_by_time(client: TestClient, admin: Login, robot: Caller, clock: FakeClock) -> None:
    start = clock.now()
    clock.advance(hours=1)
    client.delete(f"{API}/token/{robot.token_id}", headers=admin.headers)

    later = event_names(client, admin, since=(start + timedelta(minutes=30)).isoformat())
    earlier = event_names(client, admin, until=(start + timedelta(minutes=30)).isoformat())

    assert later == ["token_revoked"]
    assert "token_revoked" not in earlier
    assert "token_created" in earlier


def test_filter_by_actor(client: TestClient, admin: Login, robot: Caller) -> None:
    client.delete(f"{API}/token/{robot.token_id}", headers=robot.headers)

    logged = events(client, admin, actor=robot.principal_id)

    assert [event["Event"] for event in logged] == ["token_revoked"]


def test_limit_pages_events(client: TestClient, admin: Login, robot: Caller) -> None:
    first = events(client, admin, limit=1)
    second = events(client, admin, limit=1, skip=1)

    assert len(first) == 1
    assert len(second) == 1
    assert first != second


@pytest.mark.parametrize("skip", ["-1", "9223372036854775808", "many"])
def test_bad_skip_422(client: TestClient, admin: Login, skip: str) -> None:
    response = client.get(f"{API}/audit", params={"skip": skip}, headers=admin.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("roles", [(), ("ApiReader",), ("Developer",)], ids=str)
def test_audit_needs_security_manager(
    client: TestClient, services: Services, roles: tuple[str, ...]
) -> None:
    caller = add_principal(services, "Caller", roles)

    response = client.get(f"{API}/audit", headers=caller.headers)

    assert response.status_code == 403


def test_security_manager_reads_audit(client: TestClient, services: Services) -> None:
    manager = add_principal(services, "Manager", ("SecurityManager",))

    response = client.get(f"{API}/audit", headers=manager.headers)

    assert response.status_code == 200


# Secrets ----------------------------------------------------------------------------------


def test_no_secret_in_audit_table(
    client: TestClient, admin: Login, services: Services, robot: Caller
) -> None:
    secrets = [admin.token, robot.token, PASSWORD]
    created_user = client.post(
        f"{API}/user",
        json={"Name": "Robot 2", "Kind": "api", "TokenName": "first"},
        headers=admin.headers,
    ).json()
    secrets.append(created_user["Token"]["Value"])
    client.post(
        f"{API}/user",
        json={"Name": "Grace", "Email": "grace@example.com", "Password": PASSWORD},
        headers=admin.headers,
    )
    minted = client.post(
        f"{API}/user/{robot.principal_id}/token", json={"Name": "ci"}, headers=admin.headers
    ).json()["Token"]
    secrets.append(minted["Value"])
    rotated = client.post(
        f"{API}/token/{minted['TokenId']}/rotate", json={"GraceSeconds": 60}, headers=admin.headers
    ).json()["Token"]
    secrets.append(rotated["Value"])
    client.get(f"{API}/user", headers=bearer(robot.token[:-1] + "x"))
    client.get(f"{API}/user", headers=bearer(generate_token()))

    with services.sessions() as session:
        rows = session.execute(text("SELECT * FROM audit_events")).all()
    dump = "\n".join(repr(tuple(row)) for row in rows)

    assert len(rows) > 5
    for secret in secrets:
        assert secret not in dump
    assert "$argon2" not in dump
    assert "ldk_" not in dump


@pytest.mark.parametrize("name", ["actor", "tokenId", "event"])
def test_control_character_filter_rejected(client: TestClient, admin: Login, name: str) -> None:
    response = client.get(f"{API}/audit", params={name: "a\x00b"}, headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_body"


def test_value_the_store_refuses_is_400(
    client: TestClient, admin: Login, services: Services
) -> None:
    # PostgreSQL text cannot contain NUL, so the store refuses the name; SQLite looks it up.
    response = client.get(f"{API}/favorite/a%00b", headers=admin.headers)

    if services.engine.dialect.name == "postgresql":
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid value in the request", "code": "invalid_value"}
    else:
        assert response.status_code == 404
