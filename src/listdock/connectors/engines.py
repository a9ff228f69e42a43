"""SQLAlchemy engines for data sources, the connection check, and an engine cache.

Drivers: ``sqlite`` is the standard library's sqlite3 (``database_name`` is a file path),
``postgresql`` is psycopg 3 and ``mysql`` is PyMySQL (MySQL and MariaDB). Driver errors are
translated to ``SourceConnectionError`` or ``SourceTimeoutError`` by ``source_error``, whose
messages name the host, port, user, database or file but never the password.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc

from listdock.errors import SourceConnectionError, SourceError, SourceTimeoutError

logger = logging.getLogger(__name__)

CONNECTOR_TYPES = ("sqlite", "postgresql", "mysql")

_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
}
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}

# SQLite calls the statement limit's check every this many virtual machine instructions.
SQLITE_CHECK_INSTRUCTIONS = 10_000

# PyMySQL error numbers (MySQL and MariaDB server and client codes).
_MYSQL_LOGIN_FAILED = {1044, 1045, 1698}
_MYSQL_UNKNOWN_DATABASE = 1049
_MYSQL_UNREACHABLE = {2002, 2003, 2005}
_MYSQL_STATEMENT_TIMEOUT = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time
_MYSQL_CONNECTION_LOST = {2006, 2013}


@dataclass(frozen=True)
class ConnectionSettings:
    """Server connection settings of a connector; unused for SQLite."""

    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def build_url(connector_type: str, settings: ConnectionSettings, database_name: str) -> sa.URL:
    """Return the SQLAlchemy URL of one database (one company) of a connector.

    For SQLite the URL is a read-write SQLite URI (``mode=rw``) of the absolute file path, so
    opening it never creates a file. Raises ``ValueError`` for an unknown connector type.
    """
    if connector_type not in _DRIVERS:
        raise ValueError(
            f"Unknown connector type: {connector_type!r}; "
            f"expected one of {', '.join(CONNECTOR_TYPES)}"
        )

    if connector_type == "sqlite":
        uri = Path(database_name).expanduser().resolve().as_uri()
        return sa.URL.create(_DRIVERS["sqlite"], database=uri, query={"mode": "rw", "uri": "true"})

    query = {"charset": "utf8mb4"} if connector_type == "mysql" else {}
    return sa.URL.create(
        _DRIVERS[connector_type],
        username=settings.username,
        password=settings.password,
        host=settings.host,
        port=settings.port,
        database=database_name,
        query=query,
    )


def create_source_engine(
    connector_type: str,
    settings: ConnectionSettings,
    database_name: str,
    *,
    connect_timeout: float = 10.0,
    statement_timeout: float = 30.0,
) -> sa.Engine:
    """Create an engine for one source database; it connects lazily, on first use.

    Timeouts are in seconds and 0 disables them. The connect timeout goes to the driver
    (libpq rounds it up to whole seconds, at least 2). The statement timeout becomes
    PostgreSQL ``statement_timeout``, MariaDB ``max_statement_time`` or MySQL
    ``max_execution_time`` (which only limits SELECT). On SQLite it is the busy timeout and
    the limit of ``_limit_sqlite_statements``. The pool pings connections before use, so a
    source that went down and came back recovers.
    """
    url = build_url(connector_type, settings, database_name)
    connect_args: dict[str, Any] = {}

    if connector_type == "sqlite":
        connect_args = {"timeout": statement_timeout, "check_same_thread": False}
    elif connector_type == "postgresql":
        if connect_timeout > 0:
            connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout))
        if statement_timeout > 0:
            connect_args["options"] = f"-c statement_timeout={round(statement_timeout * 1000)}"
    elif connector_type == "mysql" and connect_timeout > 0:
        connect_args["connect_timeout"] = max(1, math.ceil(connect_timeout))

    engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if connector_type == "mysql" and statement_timeout > 0:
        _set_mysql_statement_timeout(engine, statement_timeout)
    if connector_type == "sqlite" and statement_timeout > 0:
        _limit_sqlite_statements(engine, statement_timeout)
    return engine


def _limit_sqlite_statements(engine: sa.Engine, seconds: float) -> None:
    """Interrupt a SQLite statement whose execution takes longer than ``seconds``.

    The limit covers ``cursor.execute``, in which SQLite runs a query until its first row: a
    sort, a grouping, or a scan up to the first match. Rows fetched afterwards are not
    limited, so a long export that its client reads slowly is not cut off. An interrupted
    statement raises an "interrupted" error, which ``source_error`` turns into
    ``SourceTimeoutError``.
    """
    # NOTE: a scan that finds its first match quickly and the rest slowly runs unlimited
    # after that first row.

    def driver(connection: sa.Connection) -> Any:
        return connection.connection.driver_connection

    @event.listens_for(engine, "before_cursor_execute")
    def start(connection: sa.Connection, *_args: Any) -> None:
        deadline = time.perf_counter() + seconds
        driver(connection).set_progress_handler(
            lambda: time.perf_counter() > deadline, SQLITE_CHECK_INSTRUCTIONS
        )

    @event.listens_for(engine, "after_cursor_execute")
    def stop(connection: sa.Connection, *_args: Any) -> None:
        driver(connection).set_progress_handler(None, 0)

    @event.listens_for(engine, "handle_error")
    def stop_after_error(context: sa.engine.ExceptionContext) -> None:
        if context.connection is not None and not context.connection.invalidated:
            driver(context.connection).set_progress_handler(None, 0)


def _set_mysql_statement_timeout(engine: sa.Engine, seconds: float) -> None:
    """Set the session statement timeout on every new MySQL or MariaDB connection."""

    @event.listens_for(engine, "connect")
    def set_timeout(dbapi_connection: Any, connection_record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            if "mariadb" in dbapi_connection.get_server_info().lower():
                cursor.execute("SET SESSION max_statement_time = %s", (seconds,))
            else:
                cursor.execute("SET SESSION max_execution_time = %s", (round(seconds * 1000),))


def check_connection(
    engine: sa.Engine, connector_type: str, settings: ConnectionSettings, database_name: str
) -> None:
    """Connect to the source and run a trivial query (``SELECT 1``).

    Raises ``SourceConnectionError`` when the file is missing or not a database, the host is
    unreachable, the login fails or the database does not exist, and ``SourceTimeoutError``
    when the source times out. Returns None when the source answers.
    """
    if connector_type == "sqlite" and not Path(database_name).expanduser().is_file():
        raise SourceConnectionError(f"Database file not found: {database_name}")

    # SELECT 1 does not read a SQLite file, so read its schema to reject a non-database file.
    probe = sa.select(sa.literal(1))
    if connector_type == "sqlite":
        probe = sa.select(sa.func.count()).select_from(sa.table("sqlite_master"))

    try:
        with engine.connect() as connection:
            connection.execute(probe)
    except exc.DBAPIError as error:
        raise source_error(error, connector_type, settings, database_name) from error


def source_error(
    error: exc.DBAPIError, connector_type: str, settings: ConnectionSettings, database_name: str
) -> SourceError:
    """Return the listdock error for a driver error, with a message in plain words.

    The message never contains the password, even when the driver quotes it.
    """
    if connector_type == "sqlite":
        result = _sqlite_error(error, database_name)
    else:
        host = settings.host or "localhost"
        port = settings.port or _DEFAULT_PORTS[connector_type]
        where = f"{host}:{port}"
        if connector_type == "postgresql":
            result = _postgresql_error(error, where, settings.username, database_name)
        else:
            result = _mysql_error(error, where, settings.username, database_name)

    if settings.password:
        result.message = result.message.replace(settings.password, "***")
        result.args = (result.message,)
    logger.warning("Source %s %s failed: %s", connector_type, database_name, result.message)
    return result


def source_error_for_engine(error: exc.DBAPIError, engine: sa.Engine) -> SourceError:
    """Return the listdock error for a driver error raised by a source engine."""
    url = engine.url
    backend = url.get_backend_name()
    connector_type = "mysql" if backend == "mariadb" else backend
    database_name = sqlite_path(url) if connector_type == "sqlite" else url.database or ""
    settings = ConnectionSettings(url.host, url.port, url.username, url.password)
    return source_error(error, connector_type, settings, database_name)


def sqlite_path(url: sa.URL) -> str:
    """Return the file path of a SQLite URL built by ``build_url``."""
    database = url.database or ""
    if database.startswith("file:"):
        return urllib.request.url2pathname(urllib.parse.urlsplit(database).path)
    return database


def _first_line(error: exc.DBAPIError) -> str:
    text = str(error.orig).strip()
    return text.splitlines()[0] if text else type(error.orig).__name__


def _sqlite_error(error: exc.DBAPIError, path: str) -> SourceError:
    text = str(error.orig).lower()
    if "unable to open database file" in text:
        if not Path(path).is_file():
            return SourceConnectionError(f"Database file not found: {path}")
        return SourceConnectionError(f"Database file cannot be opened: {path}")
    if "file is not a database" in text:
        return SourceConnectionError(f"File is not a SQLite database: {path}")
    if "database is locked" in text:
        return SourceTimeoutError(f"Query timed out: the SQLite database is locked: {path}")
    if "interrupted" in text:
        return SourceTimeoutError("Query timed out on the source")
    return SourceError(f"Query failed on the source: {_first_line(error)}")


def _postgresql_error(
    error: exc.DBAPIError, where: str, username: str | None, database: str
) -> SourceError:
    sqlstate = getattr(error.orig, "sqlstate", None)
    text = str(error.orig).lower()

    if sqlstate == "57014" or "statement timeout" in text:
        return SourceTimeoutError("Query timed out on the source")
    if "timeout expired" in text:
        return SourceTimeoutError(f"Connection to {where} timed out")
    if (
        sqlstate in {"28P01", "28000"}
        or "authentication failed" in text
        or ("role" in text and "does not exist" in text)
        or "no password supplied" in text
    ):
        return SourceConnectionError(f"Login failed for user {username} on {where}")
    if sqlstate == "3D000" or ("database" in text and "does not exist" in text):
        return SourceConnectionError(f"Database does not exist: {database} on {where}")
    if any(
        phrase in text
        for phrase in (
            "connection refused",
            "could not connect",
            "no route to host",
            "could not translate host name",
            "name or service not known",
            "network is unreachable",
            "server closed the connection",
            "connection is closed",
        )
    ):
        return SourceConnectionError(f"Cannot connect to {where}: host unreachable or refused")
    return SourceError(f"Query failed on the source: {_first_line(error)}")


def _mysql_error(
    error: exc.DBAPIError, where: str, username: str | None, database: str
) -> SourceError:
    args = getattr(error.orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    text = str(error.orig).lower()

    if code in _MYSQL_STATEMENT_TIMEOUT:
        return SourceTimeoutError("Query timed out on the source")
    if code in _MYSQL_UNREACHABLE and "timed out" in text:
        return SourceTimeoutError(f"Connection to {where} timed out")
    if code in _MYSQL_LOGIN_FAILED:
        return SourceConnectionError(f"Login failed for user {username} on {where}")
    if code == _MYSQL_UNKNOWN_DATABASE:
        return SourceConnectionError(f"Database does not exist: {database} on {where}")
    if code in _MYSQL_UNREACHABLE or code in _MYSQL_CONNECTION_LOST:
        return SourceConnectionError(f"Cannot connect to {where}: host unreachable or refused")
    return SourceError(f"Query failed on the source: {_first_line(error)}")


class EnginePool:
    """A thread-safe cache of engines, one per key (for example a connector and company).

    The services create one pool per process and pass it in; nothing here is global.
    """

    def __init__(self) -> None:
        self._engines: dict[Hashable, sa.Engine] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, factory: Callable[[], sa.Engine]) -> sa.Engine:
        """Return the engine cached under ``key``, creating it with ``factory`` on first use."""
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = factory()
                self._engines[key] = engine
            return engine

    def dispose(self, key: Hashable) -> None:
        """Close the pooled connections of the engine under ``key`` and forget it.

        Does nothing when no engine is cached under ``key``.
        """
        with self._lock:
            engine = self._engines.pop(key, None)
        if engine is not None:
            engine.dispose()

    def dispose_all(self) -> None:
        """Close and forget every cached engine."""
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()
