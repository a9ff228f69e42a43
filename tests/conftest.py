"""Shared source-database fixtures and skip rules.

The sample databases live in ``../shared/data`` beside the project root, or wherever the
environment variable ``LISTDOCK_SAMPLE_DATA`` points. Tests that need them skip when they are
absent. Tests that need the PostgreSQL (127.0.0.1:5432, user postgres, trust authentication)
or MariaDB (127.0.0.1:3306, root, empty password) server skip when it is unreachable, unless
the environment variable ``CI`` is set, in which case they fail.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql
import pytest
import sqlalchemy as sa

from listdock.connectors.engines import ConnectionSettings, create_source_engine

CHINOOK_DATABASE = "listdock_chinook"

# Row counts of the Chinook sample, used to tell a complete load from a partial one.
CHINOOK_ROW_COUNTS = {"Invoice": 412, "InvoiceLine": 2240, "Track": 3503, "Customer": 59}

POSTGRES = ConnectionSettings(host="127.0.0.1", port=5432, username="postgres")
MARIADB = ConnectionSettings(host="127.0.0.1", port=3306, username="root", password="")


def sample_data_dir() -> Path:
    """Return the folder of the sample databases."""
    override = os.environ.get("LISTDOCK_SAMPLE_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _sample_file(relative: str) -> Path:
    path = sample_data_dir() / relative
    if not path.is_file():
        pytest.skip(f"sample data not found at {path}")
    return path


def _server_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def snake_case(name: str) -> str:
    """Return a Chinook name in the snake case of the PostgreSQL script (``invoice_line``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class ServerDatabase:
    """A database on a local server: its settings and name."""

    settings: ConnectionSettings
    database_name: str


@dataclass(frozen=True)
class ChinookSource:
    """Chinook on one engine, with ``name`` mapping the SQLite spelling of a table or column."""

    connector_type: str
    engine: sa.Engine
    name: Callable[[str], str]


@pytest.fixture(scope="session")
def chinook_sqlite_path() -> Path:
    """Path of the ready Chinook SQLite file; tests must not write to it."""
    return _sample_file("chinook/Chinook_Sqlite.sqlite")


@pytest.fixture(scope="session")
def northwind_sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a Northwind SQLite database built once per session from ``create.sql``."""
    script = _sample_file("northwind/create.sql")
    path = tmp_path_factory.mktemp("northwind") / "northwind.db"
    connection = sqlite3.connect(path)
    try:
        connection.executescript(script.read_text(encoding="utf-8"))
    finally:
        connection.close()
    return path


def _postgres_counts(database: str) -> dict[str, int] | None:
    try:
        with psycopg.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname=database, connect_timeout=3
        ) as connection:
            return {
                table: connection.execute(f"SELECT count(*) FROM {snake_case(table)}").fetchone()[0]  # type: ignore[index]
                for table in CHINOOK_ROW_COUNTS
            }
    except psycopg.Error:
        return None


@pytest.fixture(scope="session")
def chinook_postgres(tmp_path_factory: pytest.TempPathFactory) -> ServerDatabase:
    """Chinook loaded into ``listdock_chinook`` on the local PostgreSQL server.

    The load is skipped when the database already has the expected row counts. The script
    names its tables and columns in snake case (``invoice_line.unit_price``).
    """
    script = _sample_file("chinook/Chinook_PostgreSql.sql")
    try:
        admin = psycopg.connect(
            host="127.0.0.1",
            port=5432,
            user="postgres",
            dbname="postgres",
            connect_timeout=3,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        _server_unavailable(f"PostgreSQL is not reachable on 127.0.0.1:5432: {error}")
        raise

    with admin:
        if _postgres_counts(CHINOOK_DATABASE) != {
            table: count for table, count in CHINOOK_ROW_COUNTS.items()
        }:
            admin.execute(f"DROP DATABASE IF EXISTS {CHINOOK_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {CHINOOK_DATABASE} ENCODING 'UTF8' TEMPLATE template0")
            body = script.read_text(encoding="utf-8")
            body = body[body.index("\\c chinook;") + len("\\c chinook;") :]
            load = tmp_path_factory.mktemp("postgres") / "chinook.sql"
            load.write_text(body, encoding="utf-8")
            subprocess.run(
                ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "5432",
                 "-U", "postgres", "-d", CHINOOK_DATABASE, "-f", str(load)],
                check=True, capture_output=True, timeout=300,
            )  # fmt: skip
    return ServerDatabase(POSTGRES, CHINOOK_DATABASE)


def _mariadb_counts(
    connection: pymysql.connections.Connection[pymysql.cursors.Cursor],
) -> dict[str, int] | None:
    counts = {}
    with connection.cursor() as cursor:
        for table in CHINOOK_ROW_COUNTS:
            try:
                cursor.execute(f"SELECT count(*) FROM `{CHINOOK_DATABASE}`.`{table}`")
            except pymysql.MySQLError:
                return None
            counts[table] = cursor.fetchone()[0]  # type: ignore[index]
    return counts


@pytest.fixture(scope="session")
def chinook_mariadb() -> ServerDatabase:
    """Chinook loaded into ``listdock_chinook`` on the local MariaDB server.

    The load is skipped when the database already has the expected row counts.
    """
    script = _sample_file("chinook/Chinook_MySql.sql")
    try:
        connection = pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3
        )
    except pymysql.MySQLError as error:
        _server_unavailable(f"MariaDB is not reachable on 127.0.0.1:3306: {error}")
        raise

    with connection:
        if _mariadb_counts(connection) != CHINOOK_ROW_COUNTS:
            body = script.read_text(encoding="utf-8").replace("`Chinook`", f"`{CHINOOK_DATABASE}`")
            subprocess.run(
                ["mariadb", "-h", "127.0.0.1", "-P", "3306", "-u", "root",
                 "--default-character-set=utf8mb4"],
                input=body.encode("utf-8"), check=True, capture_output=True, timeout=300,
            )  # fmt: skip
    return ServerDatabase(MARIADB, CHINOOK_DATABASE)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def source_engines(request: pytest.FixtureRequest) -> Iterator[ChinookSource]:
    """Chinook on each engine in turn, for tests that must agree across engines."""
    connector_type: str = request.param
    if connector_type == "sqlite":
        path: Path = request.getfixturevalue("chinook_sqlite_path")
        engine = create_source_engine("sqlite", ConnectionSettings(), str(path))
        source = ChinookSource("sqlite", engine, lambda name: name)
    elif connector_type == "postgresql":
        database: ServerDatabase = request.getfixturevalue("chinook_postgres")
        engine = create_source_engine("postgresql", database.settings, database.database_name)
        source = ChinookSource("postgresql", engine, snake_case)
    else:
        database = request.getfixturevalue("chinook_mariadb")
        engine = create_source_engine("mysql", database.settings, database.database_name)
        source = ChinookSource("mysql", engine, lambda name: name)
    yield source
    engine.dispose()
