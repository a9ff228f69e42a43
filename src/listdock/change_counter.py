"""Caches of store data that stay valid while the store's change counter stays the same.

The store contains one counter that triggers move forward on every committed change to the
tables that decide who may read what and how a list reads (see the migration that adds
``change_counter``). A process reads the counter at the start of a request. While it has not
moved, values it computed from the store earlier (a token's record, a principal's rights, a
list's fields) are still exact, whichever process or tool wrote the store. When it moves,
every cached value is dropped at once.

A value is always read from the store after the counter value it is filed under, so a cached
value is never older than its counter value. Never fill the cache from a session that contains
uncommitted changes: such a value could describe a state that is later rolled back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

T = TypeVar("T")

COUNTER_QUERY = "SELECT value FROM change_counter WHERE id = 1"
MAX_ENTRIES = 8192


class ChangeCounter:
    """Reads the store's change counter.

    On a SQLite store each thread reads through its own plain ``sqlite3`` connection. A read
    costs microseconds and does not wait for a writer, because the store runs in WAL mode and
    the connection's busy timeout is 0 (a busy store is a cache miss). So the event loop may
    call ``read_now``. Other stores are read through the engine's pool, and only
    from worker threads.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        url = engine.url
        database = url.database or ""
        self._sqlite_path = (
            database
            if url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            else None
        )
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    @property
    def reads_without_waiting(self) -> bool:
        """Whether ``read_now`` can read the counter (the store is a SQLite file)."""
        return self._sqlite_path is not None

    def close(self) -> None:
        """Close the connections the threads opened; a later read opens a new one."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()

    def read(self) -> int | None:
        """Return the counter, or None when the store has none (caching is then off).

        May wait for the store's network round trip; call it from a worker thread.
        """
        if self._sqlite_path is not None:
            return self.read_now()
        try:
            with self._engine.connect() as connection:
                value = connection.exec_driver_sql(COUNTER_QUERY).scalar()
        except exc.DBAPIError:
            logger.exception("Reading the store's change counter failed")
            return None
        return None if value is None else int(value)

    def read_now(self) -> int | None:
        """Return the counter of a SQLite store without waiting, or None.

        None also when the store is not a SQLite file, has no counter, or is busy.
        """
        if self._sqlite_path is None:
            return None
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        try:
            if connection is None:
                # timeout=0: a busy store is a cache miss, never a wait on the event loop.
                # Only this thread uses the connection; close() may run on another one.
                connection = sqlite3.connect(self._sqlite_path, timeout=0, check_same_thread=False)
                self._local.connection = connection
                with self._opened_lock:
                    self._opened.append(connection)
            row = connection.execute(COUNTER_QUERY).fetchone()
        except sqlite3.Error as error:
            logger.warning("Reading the store's change counter failed: %s", error)
            self._local.connection = None
            return None
        return None if row is None else int(row[0])


class ChangeCache:
    """Values computed from the store, filed under the change counter value they were read at.

    Thread-safe. ``snapshot`` reads the counter; a changed counter empties the cache.
    """

    def __init__(self, counter: ChangeCounter, max_entries: int = MAX_ENTRIES) -> None:
        self._counter = counter
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._value: int | None = None
        self._entries: dict[Any, Any] = {}

    @property
    def reads_without_waiting(self) -> bool:
        return self._counter.reads_without_waiting

    def snapshot(self, *, wait: bool) -> Snapshot:
        """Read the counter and return a view of the values valid at it.

        With ``wait`` False the counter is read only when that cannot wait, which is on a
        SQLite store. Otherwise, and when the counter cannot be read, the snapshot contains
        nothing and keeps nothing.
        """
        value = self._counter.read() if wait else self._counter.read_now()
        if value is not None and value != self._value:
            with self._lock:
                if value != self._value:
                    self._value = value
                    self._entries = {}
        return Snapshot(self, value)

    def _get(self, counter_value: int | None, key: Any) -> Any:
        if counter_value is None or counter_value != self._value:
            return None
        return self._entries.get(key)

    def _put(self, counter_value: int | None, key: Any, value: Any) -> None:
        if counter_value is None:
            return
        with self._lock:
            if counter_value != self._value:
                return
            if len(self._entries) >= self._max_entries:
                self._entries = {}
            self._entries[key] = value


class Snapshot:
    """The cached values valid at one reading of the change counter."""

    __slots__ = ("_cache", "counter_value")

    def __init__(self, cache: ChangeCache, counter_value: int | None) -> None:
        self._cache = cache
        self.counter_value = counter_value

    def get(self, key: Any) -> Any:
        """Return the value cached under ``key`` at this counter value, or None."""
        return self._cache._get(self.counter_value, key)

    def put(self, key: Any, value: Any) -> None:
        """Cache ``value``; it must have been read from the store after this snapshot."""
        self._cache._put(self.counter_value, key, value)

    def read_through(
        self,
        key: Any,
        sessions: sessionmaker[Session],
        load: Callable[[Session], T],
        *,
        wait: bool,
    ) -> T | None:
        """Return the cached value, else load it in a new store session and cache it.

        Without ``wait`` (on the event loop, where the store is not read) a missing value
        gives None instead. ``load`` raises what it raises, and nothing is cached then.
        """
        found: T | None = self.get(key)
        if found is not None or not wait:
            return found
        with sessions() as session:
            loaded = load(session)
        self.put(key, loaded)
        return loaded
