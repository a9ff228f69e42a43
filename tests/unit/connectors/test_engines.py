import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from listdock.connectors.engines import (
    ConnectionSettings,
    EnginePool,
    build_url,
    check_connection,
    create_source_engine,
    source_error_for_engine,
)
from listdock.errors import SourceConnectionError, SourceTimeoutError


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check(connector_type: str, settings: ConnectionSettings, database: str) -> None:
    engine = create_source_engine(connector_type, settings, database, connect_timeout=3)
    try:
        check_connection(engine, connector_type, settings, database)
    finally:
        engine.dispose()


def test_sqlite_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(SourceConnectionError) as raised:
        check("sqlite", ConnectionSettings(), str(missing))
    assert raised.value.message == f"Database file not found: {missing}"
    assert not missing.exists()


def test_sqlite_engine_never_creates_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    engine = create_source_engine("sqlite", ConnectionSettings(), str(missing))
    with pytest.raises(sa.exc.OperationalError) as raised:
        engine.connect()
    error = source_error_for_engine(raised.value, engine)
    assert not missing.exists()
    assert error.message == f"Database file not found: {missing}"


def test_sqlite_path_with_spaces(tmp_path: Path, chinook_sqlite_path: Path) -> None:
    folder = tmp_path / "a folder #1"
    folder.mkdir()
    copy = folder / "chinook copy.sqlite"
    copy.write_bytes(chinook_sqlite_path.read_bytes())
    check("sqlite", ConnectionSettings(), str(copy))


def test_sqlite_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database " * 100)
    with pytest.raises(SourceConnectionError, match="not a SQLite database"):
        check("sqlite", ConnectionSettings(), str(path))


def test_settings_repr_hides_password() -> None:
    settings = ConnectionSettings("127.0.0.1", 5432, "postgres", "s3cret-pw")
    assert "s3cret-pw" not in repr(settings)


def test_mysql_url_uses_utf8mb4() -> None:
    url = build_url("mysql", ConnectionSettings("127.0.0.1", 3306, "root"), "shop")
    assert url.drivername == "mysql+pymysql"
    assert url.query["charset"] == "utf8mb4"


def test_unknown_connector_type() -> None:
    with pytest.raises(ValueError, match="oracle"):
        build_url("oracle", ConnectionSettings(), "x")


@pytest.mark.parametrize("connector_type", ["postgresql", "mysql"])
def test_closed_port_is_unreachable(connector_type: str) -> None:
    port = closed_port()
    settings = ConnectionSettings("127.0.0.1", port, "someone", "s3cret-pw")
    with pytest.raises(SourceConnectionError) as raised:
        check(connector_type, settings, "anything")
    assert f"127.0.0.1:{port}" in raised.value.message
    assert "unreachable or refused" in raised.value.message


def test_postgres_missing_database(chinook_postgres) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourceConnectionError) as raised:
        check("postgresql", chinook_postgres.settings, "listdock_no_such_db")
    assert "Database does not exist: listdock_no_such_db" in raised.value.message


def test_postgres_unknown_user(chinook_postgres) -> None:  # type: ignore[no-untyped-def]
    settings = ConnectionSettings("127.0.0.1", 5432, "listdock_nobody", "s3cret-pw")
    with pytest.raises(SourceConnectionError) as raised:
        check("postgresql", settings, chinook_postgres.database_name)
    assert "Login failed for user listdock_nobody" in raised.value.message
    assert "s3cret-pw" not in str(raised.value)


def test_mariadb_bad_password(chinook_mariadb) -> None:  # type: ignore[no-untyped-def]
    settings = ConnectionSettings("127.0.0.1", 3306, "root", "s3cret-pw")
    with pytest.raises(SourceConnectionError) as raised:
        check("mysql", settings, chinook_mariadb.database_name)
    assert "Login failed for user root" in raised.value.message
    assert "s3cret-pw" not in str(raised.value)


def test_mariadb_missing_database(chinook_mariadb) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourceConnectionError) as raised:
        check("mysql", chinook_mariadb.settings, "listdock_no_such_db")
    assert "Database does not exist: listdock_no_such_db" in raised.value.message


def test_postgres_statement_timeout(chinook_postgres) -> None:  # type: ignore[no-untyped-def]
    engine = create_source_engine(
        "postgresql", chinook_postgres.settings, chinook_postgres.database_name,
        statement_timeout=0.2,
    )  # fmt: skip
    try:
        with pytest.raises(sa.exc.OperationalError) as raised, engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_sleep(2)"))
        error = source_error_for_engine(raised.value, engine)
    finally:
        engine.dispose()
    assert isinstance(error, SourceTimeoutError)


@pytest.fixture(scope="module")
def large_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with 200,000 rows and no index on ``v``."""
    path = tmp_path_factory.mktemp("large") / "large.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        connection.executemany(
            "INSERT INTO t (v) VALUES (?)", ((f"value {n}",) for n in range(200_000))
        )
    connection.close()
    return path


# SQLite sorts 200,000 rows by an unindexed column before the first row: about 30 ms measured
# on a 2-CPU machine, three times the limit in the timeout test.
SLOW_FIRST_ROW = "SELECT v FROM t WHERE v LIKE '%9%' ORDER BY v DESC"


def test_sqlite_statement_timeout(large_sqlite: Path) -> None:
    engine = create_source_engine(
        "sqlite", ConnectionSettings(), str(large_sqlite), statement_timeout=0.01
    )
    try:
        with pytest.raises(sa.exc.OperationalError) as raised, engine.connect() as connection:
            connection.execute(sa.text(SLOW_FIRST_ROW)).first()
        error = source_error_for_engine(raised.value, engine)

        # The limit applies to each statement anew, so the same engine goes on working.
        with engine.connect() as connection:
            count = connection.scalar(sa.text("SELECT count(*) FROM t WHERE id <= 10"))
    finally:
        engine.dispose()

    assert isinstance(error, SourceTimeoutError)
    assert error.message == "Query timed out on the source"
    assert count == 10


def test_sqlite_timeout_spares_slow_readers(large_sqlite: Path) -> None:
    engine = create_source_engine(
        "sqlite", ConnectionSettings(), str(large_sqlite), statement_timeout=0.2
    )
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(
                sa.text("SELECT id, v FROM t ORDER BY id")
            )
            rows = 0
            for partition in result.partitions(20_000):
                rows += len(partition)
                time.sleep(0.05)
    finally:
        engine.dispose()

    # Reading took longer than the limit, but the statement reached its first row at once.
    assert time.perf_counter() - started > 0.4
    assert rows == 200_000


def test_sqlite_without_statement_timeout(large_sqlite: Path) -> None:
    engine = create_source_engine(
        "sqlite", ConnectionSettings(), str(large_sqlite), statement_timeout=0
    )
    try:
        with engine.connect() as connection:
            first = connection.execute(sa.text(SLOW_FIRST_ROW)).first()
    finally:
        engine.dispose()

    assert first == ("value 99999",)


def test_mariadb_session_timeout_set(chinook_mariadb) -> None:  # type: ignore[no-untyped-def]
    engine = create_source_engine(
        "mysql", chinook_mariadb.settings, chinook_mariadb.database_name, statement_timeout=7
    )
    try:
        with engine.connect() as connection:
            value = connection.scalar(sa.text("SELECT @@SESSION.max_statement_time"))
    finally:
        engine.dispose()
    assert float(value) == 7.0


def test_pool_returns_same_engine() -> None:
    pool = EnginePool()
    created: list[sa.Engine] = []

    def factory() -> sa.Engine:
        engine = sa.create_engine("sqlite://")
        created.append(engine)
        return engine

    threads = [threading.Thread(target=pool.get, args=("k", factory)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1
    assert pool.get("k", factory) is created[0]


def test_pool_dispose_forgets_engine() -> None:
    pool = EnginePool()
    first = pool.get("k", lambda: sa.create_engine("sqlite://"))
    pool.dispose("k")
    pool.dispose("missing")
    assert pool.get("k", lambda: sa.create_engine("sqlite://")) is not first
    pool.dispose_all()
