"""Tokens as a data client presents them: accepted forms, refusals and their audit reasons.

Every refusal must look the same to the caller (401, one body, one ``WWW-Authenticate``) while
the audit log keeps the precise reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, select, update

from listdock.domain.models import AuditEvent, Principal, Token
from listdock.security.tokens import generate_token

from .conftest import API, Api, ApiConnector

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import FakeClock, Login

    from listdock.app import Services

INVALID_TOKEN_BODY = {"error": "Invalid token", "code": "invalid_token"}


def data_path(connector: ApiConnector) -> str:
    return f"{API}/entity/{connector.entity_id('Genre')}/data"


def refusal_reasons(services: Services) -> list[str | None]:
    """Return the reasons of every ``token_refused`` audit event, oldest first."""
    with services.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent.reason)
                .where(AuditEvent.event == "token_refused")
                .order_by(AuditEvent.id)
            )
        )


def set_token_status(services: Services, owner: Login, status: str) -> None:
    with services.sessions.begin() as session:
        session.execute(
            update(Token).where(Token.principal_id == owner.principal_id).values(status=status)
        )


# Accepted forms ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer {}", "bearer {}", "BEARER {}", "  Bearer   {}  "])
def test_bearer_forms_read_data(
    client: TestClient, admin: Login, chinook: ApiConnector, header: str
) -> None:
    response = client.get(data_path(chinook), headers={"Authorization": header.format(admin.token)})

    assert response.status_code == 200
    assert len(response.json()) == 25


def test_query_token_reads_data(client: TestClient, admin: Login, chinook: ApiConnector) -> None:
    response = client.get(data_path(chinook), params={"token": f" {admin.token} "})

    assert response.status_code == 200
    assert len(response.json()) == 25


def test_header_and_query_400(client: TestClient, admin: Login, chinook: ApiConnector) -> None:
    response = client.get(data_path(chinook), params={"token": admin.token}, headers=admin.headers)

    assert response.status_code == 400
    assert response.json()["code"] == "token_conflict"


def test_query_token_on_query_400(client: TestClient, admin: Login, chinook: ApiConnector) -> None:
    response = client.post(
        f"{API}/query",
        params={"token": admin.token},
        json={"Id": chinook.entity_id("Genre")},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "token_in_query"


def test_no_token_is_401_required(client: TestClient, chinook: ApiConnector) -> None:
    response = client.get(data_path(chinook))

    assert response.status_code == 401
    assert response.json()["code"] == "token_required"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# Refusals ---------------------------------------------------------------------------------


def swap_last(value: str) -> str:
    """Return ``value`` with its last checksum character changed."""
    return value[:-1] + ("A" if value[-1] != "A" else "B")


# (case, how to damage the administrator's token value, expected audit reason)
MANGLED: list[tuple[str, Callable[[str], str], str]] = [
    ("garbage", lambda value: "not-a-token", "malformed"),
    ("upper_prefix", lambda value: "LDK_" + value[4:], "malformed"),
    ("lower_body", lambda value: value.lower(), "bad_checksum"),
    ("swapped_case", lambda value: value[:4] + value[4:].swapcase(), "bad_checksum"),
    ("bad_checksum", swap_last, "bad_checksum"),
    ("truncated", lambda value: value[:-1], "malformed"),
    ("extended", lambda value: value + "0", "malformed"),
    ("unknown", lambda value: generate_token(), "unknown"),
    ("inner_space", lambda value: value[:10] + " " + value[10:], "malformed"),
]


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [(mangle, reason) for _case, mangle, reason in MANGLED],
    ids=[case for case, _mangle, _reason in MANGLED],
)
@pytest.mark.parametrize("where", ["header", "query"])
def test_mangled_token_refused(
    client: TestClient,
    services: Services,
    admin: Login,
    chinook: ApiConnector,
    mangle: Callable[[str], str],
    reason: str,
    where: str,
) -> None:
    value = mangle(admin.token)
    if where == "header":
        response = client.get(data_path(chinook), headers={"Authorization": f"Bearer {value}"})
    else:
        response = client.get(data_path(chinook), params={"token": value})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert refusal_reasons(services) == [reason]


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Token {}", "{}"])
def test_bad_scheme_is_malformed(
    client: TestClient, services: Services, admin: Login, chinook: ApiConnector, header: str
) -> None:
    response = client.get(data_path(chinook), headers={"Authorization": header.format(admin.token)})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY
    assert refusal_reasons(services) == ["malformed"]


def disable_owner(services: Services, login: Login) -> None:
    with services.sessions.begin() as session:
        session.execute(
            update(Principal).where(Principal.id == login.principal_id).values(status="Disabled")
        )


def expire(services: Services, login: Login, clock: FakeClock) -> None:
    with services.sessions.begin() as session:
        session.execute(
            update(Token)
            .where(Token.principal_id == login.principal_id)
            .values(expires_at=clock.now() + timedelta(minutes=5))
        )
    clock.advance(minutes=5)


STATE_CHANGES: list[tuple[str, Callable[[Services, Login, FakeClock], None]]] = [
    ("expired", expire),
    ("disabled", lambda services, login, clock: set_token_status(services, login, "Disabled")),
    ("revoked", lambda services, login, clock: set_token_status(services, login, "Revoked")),
    ("owner_disabled", lambda services, login, clock: disable_owner(services, login)),
]


@pytest.mark.parametrize(
    ("reason", "change"), STATE_CHANGES, ids=[reason for reason, _change in STATE_CHANGES]
)
def test_stopped_token_refused(
    client: TestClient,
    services: Services,
    admin: Login,
    chinook: ApiConnector,
    clock: FakeClock,
    reason: str,
    change: Callable[[Services, Login, FakeClock], None],
) -> None:
    change(services, admin, clock)

    response = client.get(data_path(chinook), headers=admin.headers)

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert refusal_reasons(services) == [reason]


def test_expiry_boundary(
    client: TestClient, services: Services, admin: Login, chinook: ApiConnector, clock: FakeClock
) -> None:
    with services.sessions.begin() as session:
        session.execute(
            update(Token)
            .where(Token.principal_id == admin.principal_id)
            .values(expires_at=clock.now() + timedelta(seconds=10))
        )

    clock.advance(seconds=9)
    before = client.get(data_path(chinook), headers=admin.headers)
    clock.advance(seconds=1)
    at_expiry = client.get(data_path(chinook), headers=admin.headers)

    assert before.status_code == 200
    assert at_expiry.status_code == 401


# Store lookups ----------------------------------------------------------------------------


@contextmanager
def token_lookups(services: Services) -> Iterator[list[str]]:
    """Collect every SQL statement that reads the tokens table while the block runs."""
    statements: list[str] = []

    def record(
        connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "tokens" in statement:
            statements.append(statement)

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(services.engine, "before_cursor_execute", record)


def test_bad_checksum_skips_store(
    client: TestClient, services: Services, admin: Login, chinook: ApiConnector
) -> None:
    with token_lookups(services) as lookups:
        response = client.get(
            data_path(chinook), headers={"Authorization": f"Bearer {swap_last(admin.token)}"}
        )

    assert response.status_code == 401
    assert lookups == []


def test_unknown_token_looks_up_store(
    client: TestClient, services: Services, chinook: ApiConnector
) -> None:
    with token_lookups(services) as lookups:
        response = client.get(
            data_path(chinook), headers={"Authorization": f"Bearer {generate_token()}"}
        )

    assert response.status_code == 401
    assert len(lookups) >= 1


# Usage ------------------------------------------------------------------------------------


def test_usage_written_after_flush(
    api: Api, services: Services, admin: Login, chinook: ApiConnector, clock: FakeClock
) -> None:
    services.usage.flush()
    with services.sessions() as session:
        before = session.scalars(select(Token).where(Token.principal_id == admin.principal_id))
        count_before = next(iter(before)).use_count

    clock.advance(minutes=1)
    for _ in range(3):
        assert api.data(chinook.entity_id("Genre")).status_code == 200
    services.usage.flush()

    with services.sessions() as session:
        token = session.scalars(select(Token).where(Token.principal_id == admin.principal_id)).one()
    assert token.use_count == count_before + 3
    assert token.last_used == clock.now()
    assert token.last_used_surface == "api"
