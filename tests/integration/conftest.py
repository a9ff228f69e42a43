"""Fixtures for tests that run listdock's app against a real store.

Every test gets a fresh store: a SQLite file in a temporary directory, and, for tests that use
the ``services`` fixture, the same again on a fresh PostgreSQL database. PostgreSQL tests skip
when the server is unreachable, unless ``CI`` is set, where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from listdock.app import Services, build_services, create_app
from listdock.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "LISTDOCK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


def postgres_available() -> str | None:
    """Return None when PostgreSQL answers, else the reason it does not."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return

    reason = postgres_available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"listdock_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=store_url,
        secret_key=secrets.token_urlsafe(48),
        max_records_limit=5000,
    )


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = build_services(settings, clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Login:
    """A principal created for a test and a token value for it."""

    principal_id: str
    email: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def admin(services: Services) -> Login:
    """An administrator with one token."""
    with services.sessions.begin() as session:
        user = services.principals.create_user(
            session,
            name="Ada Admin",
            email="ada@example.com",
            password="correct horse battery",
            actor_id=None,
        )
        services.principals.assign_system_roles(session, user, ["Administrator"], actor_id=None)
        issued = services.tokens.create(session, user, "tests", created_by=None)
        return Login(principal_id=user.id, email=user.email, token=issued.value)
