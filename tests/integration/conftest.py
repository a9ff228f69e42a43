"""Fixtures for tests that run listdock's app against a real store.

Every test gets a fresh store: a SQLite file in a temporary directory, and, for tests that use
the ``services`` fixture, the same again on a fresh PostgreSQL database. PostgreSQL tests skip
when the server is unreachable, unless ``CI`` is set, where they fail.

Migrating a store takes longer than most tests, so each session migrates one store per engine
once: SQLite tests start from a copy of that file, and PostgreSQL tests reuse the one database
after every table is emptied (creating a database per test costs seconds there). Passwords
are hashed with cheap argon2 parameters in tests; the hashing code itself is unchanged.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from listdock.app import Services, build_services, create_app
from listdock.db import create_store_engine, upgrade_store
from listdock.security import passwords
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


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """Hash test passwords with the cheapest argon2 parameters, for speed."""
    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        passwords._hasher = original


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store that tests copy."""
    path = tmp_path_factory.mktemp("store-template") / "store.db"
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade_store(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of the migrated PostgreSQL database tests share; skips when unreachable."""
    reason = postgres_available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"listdock_template_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    engine = create_store_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    upgrade_store(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, migrated store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return

    name = request.getfixturevalue("postgres_template")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(url) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('alembic_version', 'change_counter')"
            )
        ]
        # DELETE with foreign-key triggers off is far faster than TRUNCATE on tiny tables.
        connection.execute("SET session_replication_role = replica")
        for table in tables:
            connection.execute(f'DELETE FROM "{table}"')
        connection.commit()
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


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
