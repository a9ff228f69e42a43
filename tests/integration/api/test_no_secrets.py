"""No token value and no connector password reaches a log record or the store."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import MetaData, select

from .conftest import API, Api, connector_body, server_settings

if TYPE_CHECKING:
    from tests.conftest import ServerDatabase

    from listdock.app import Services

PASSWORD = "pg-password-never-logged-7Hd"


def store_text(services: Services) -> str:
    """Return every column of every row of every store table as one block of text."""
    metadata = MetaData()
    metadata.reflect(services.engine)
    lines: list[str] = []
    with services.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name}: " + " | ".join(repr(value) for value in row))
    return "\n".join(lines)


def exercise(api: Api, database: ServerDatabase) -> dict[str, Any]:
    """Create a connector with a password and read data with the token in both places."""
    settings = {**server_settings(database), "Password": PASSWORD}
    connector = api.create_connector(
        connector_body("Secretive", "postgresql", [database.database_name], settings)
    )
    entity_id = connector.entity_id("genre")
    token = api.login.token

    responses = {
        "header": api.client.get(
            f"{API}/entity/{entity_id}/data", headers=api.login.headers, params={"MaxRecords": 5}
        ),
        "query": api.client.get(
            f"{API}/entity/{entity_id}/data", params={"token": token, "MaxRecords": 5}
        ),
        "bad_query": api.client.get(f"{API}/entity/{entity_id}/data", params={"token": token[:-1]}),
        "bad_header": api.client.get(
            f"{API}/entity/{entity_id}/data", headers={"Authorization": f"Bearer {token}x"}
        ),
        "refresh": api.client.post(
            f"{API}/connector/{connector.id}/refresh", headers=api.login.headers
        ),
        "failed_connector": api.client.post(
            f"{API}/connector",
            json=connector_body(
                "Broken", "mysql", ["listdock_chinook"],
                {"Host": "127.0.0.1", "Port": 3306, "Username": "root", "Password": PASSWORD},
            ),
            headers=api.login.headers,
        ),
    }  # fmt: skip
    return responses


@pytest.fixture
def capture_everything(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture DEBUG records of every logger, including uvicorn, httpx and SQLAlchemy."""
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "sqlalchemy.engine"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_secrets_absent_from_logs(
    api: Api,
    services: Services,
    capture_everything: pytest.LogCaptureFixture,
    chinook_postgres: ServerDatabase,
    chinook_mariadb: ServerDatabase,
) -> None:
    responses = exercise(api, chinook_postgres)
    services.usage.flush()
    # The httpx logger here is the test's own client, which logs the URLs it requests, and the
    # server never receives those records. `listdock serve` runs uvicorn without an access log.
    server_records = [
        record for record in capture_everything.records if not record.name.startswith("httpx")
    ]
    logged = "\n".join(
        record.getMessage() + repr(record.args) + str(record.exc_text or "")
        for record in server_records
    )

    assert responses["header"].status_code == 200
    assert responses["query"].status_code == 200
    assert responses["failed_connector"].status_code == 400
    assert any(record.name.startswith("sqlalchemy") for record in server_records)
    assert any(record.name.startswith("listdock") for record in server_records)
    assert api.login.token not in logged
    assert api.login.token[:-1] not in logged
    assert PASSWORD not in logged


def test_secrets_absent_from_store(
    api: Api, services: Services, chinook_postgres: ServerDatabase, chinook_mariadb: ServerDatabase
) -> None:
    exercise(api, chinook_postgres)
    services.usage.flush()

    dumped = store_text(services)

    assert "audit_events" in dumped
    assert api.login.token not in dumped
    assert api.login.token[4:] not in dumped
    assert PASSWORD not in dumped


def test_secrets_absent_from_responses(
    api: Api, chinook_postgres: ServerDatabase, chinook_mariadb: ServerDatabase
) -> None:
    responses = exercise(api, chinook_postgres)

    for name, response in responses.items():
        text = response.text + repr(dict(response.headers))
        assert api.login.token not in text, name
        assert PASSWORD not in text, name
