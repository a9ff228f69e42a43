"""Property-based checks of the REST API against its own OpenAPI document (schemathesis).

Every GET route is called with generated parameters by an Administrator's token on a store
with Chinook connected. The checks: no response is a server error, and every documented
response body matches its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from listdock.app import Services, create_app
from listdock.connectors.engines import ConnectionSettings
from listdock.services.connectors import CompanySpec, ConnectorSpec

from ..conftest import Login


def not_a_server_error(ctx: object, response: object, case: object) -> bool:
    """Fail on any 5xx response."""
    status = getattr(response, "status_code", 0)
    assert status < 500, f"server error {status} for {case}"
    return True


@pytest.fixture
def contract_app(
    services: Services, admin: Login, chinook_sqlite_path: Path
) -> Iterator[tuple[FastAPI, Login]]:
    with services.sessions.begin() as session:
        services.connectors.create(
            session,
            ConnectorSpec(
                name="Chinook",
                type="sqlite",
                settings=ConnectionSettings(),
                companies=(CompanySpec("Chinook", str(chinook_sqlite_path)),),
            ),
            actor_id=admin.principal_id,
        )
    yield create_app(services), admin


def test_get_routes_follow_schema(contract_app: tuple[FastAPI, Login]) -> None:
    app, admin = contract_app
    schema = schemathesis.openapi.from_asgi("/api/v2/openapi.json", app).include(method="GET")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=admin.headers, checks=[not_a_server_error, response_schema_conformance]
            )

        call()
