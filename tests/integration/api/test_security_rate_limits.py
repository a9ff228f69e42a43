"""Rate limits: failed token attempts per client address, and requests per token.

Each test runs with counters in memory and in Redis (database 15, flushed around each test).
The Redis cases skip when Redis is unreachable, unless ``CI`` is set, where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from fastapi.testclient import TestClient

from listdock.app import build_services, create_app
from listdock.settings import Settings

from .conftest import API
from .security_support import add_principal, error_code

if TYPE_CHECKING:
    from tests.integration.conftest import FakeClock

    from listdock.app import Services

REDIS_URL = os.environ.get("LISTDOCK_TEST_REDIS", "redis://127.0.0.1:6379/15")
FAILED_LIMIT = 5
TOKEN_LIMIT = 10


def flush_redis() -> None:
    """Empty the test database, or skip (fail under ``CI``) when Redis is unreachable."""
    try:
        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        connection.flushdb()
        connection.close()
    except redis.RedisError as error:
        reason = f"Redis is not reachable at {REDIS_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A SQLite store only: the limits do not depend on the store."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["memory", "redis"])
def limit_storage(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for in-memory counters, or the Redis URL, flushed before and after the test."""
    if request.param == "memory":
        yield None
        return
    flush_redis()
    yield REDIS_URL
    flush_redis()


@pytest.fixture
def settings(store_url: str, tmp_path: Path, limit_storage: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=store_url,
        secret_key=secrets.token_urlsafe(48),
        redis_url=limit_storage,
        failed_token_limit=f"{FAILED_LIMIT}/minute",
        token_request_limit=f"{TOKEN_LIMIT}/minute",
    )


def bad_request(client: TestClient) -> Any:
    return client.get(f"{API}/user", headers={"Authorization": "Bearer ldk_wrong"})


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert set(response.json()) == {"error", "code"}
    assert error_code(response) == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_failed_attempts_limited(client: TestClient) -> None:
    refused = [bad_request(client).status_code for _ in range(FAILED_LIMIT)]

    response = bad_request(client)

    assert refused == [401] * FAILED_LIMIT
    assert_rate_limited(response)


def test_limited_address_blocks_valid_token(client: TestClient, services: Services) -> None:
    caller = add_principal(services, "Robot")
    for _ in range(FAILED_LIMIT):
        bad_request(client)

    response = client.get(f"{API}/user", headers=caller.headers)

    assert_rate_limited(response)


def test_successes_do_not_count_as_failures(client: TestClient, services: Services) -> None:
    caller = add_principal(services, "Robot")
    for _ in range(FAILED_LIMIT - 1):
        bad_request(client)

    ok = client.get(f"{API}/user", headers=caller.headers)
    last_refusal = bad_request(client)

    assert ok.status_code == 200
    assert last_refusal.status_code == 401


def test_requests_per_token_limited(client: TestClient, services: Services) -> None:
    caller = add_principal(services, "Robot")
    allowed = [
        client.get(f"{API}/user", headers=caller.headers).status_code for _ in range(TOKEN_LIMIT)
    ]

    response = client.get(f"{API}/user", headers=caller.headers)

    assert allowed == [200] * TOKEN_LIMIT
    assert_rate_limited(response)


def test_token_limit_is_per_token(client: TestClient, services: Services) -> None:
    busy = add_principal(services, "Busy")
    quiet = add_principal(services, "Quiet")
    for _ in range(TOKEN_LIMIT + 1):
        client.get(f"{API}/user", headers=busy.headers)

    response = client.get(f"{API}/user", headers=quiet.headers)

    assert response.status_code == 200


@pytest.mark.parametrize("limit_storage", ["redis"], indirect=True)
def test_redis_limits_shared_between_apps(
    settings: Settings, services: Services, client: TestClient, clock: FakeClock
) -> None:
    second = build_services(settings, clock)
    try:
        with TestClient(create_app(second)) as other_client:
            for _ in range(FAILED_LIMIT):
                bad_request(client)

            response = bad_request(other_client)
    finally:
        second.close()

    assert_rate_limited(response)


@pytest.mark.parametrize("limit_storage", ["memory"], indirect=True)
def test_memory_limits_stay_in_process(
    settings: Settings, services: Services, client: TestClient, clock: FakeClock
) -> None:
    second = build_services(settings, clock)
    try:
        with TestClient(create_app(second)) as other_client:
            for _ in range(FAILED_LIMIT):
                bad_request(client)

            response = bad_request(other_client)
    finally:
        second.close()

    assert response.status_code == 401
