"""Reading one page of a SQLite source with a time budget, without SQLAlchemy per statement.

A SQLite source runs in this process, so a small page costs about as much as building the
statement that reads it. ``PageReader`` compiles each query shape's SELECT once (the same SQL
that ``build_select`` gives, with every value bound) and then runs it on a raw connection
from the engine's pool, converting values with the same result processors as SQLAlchemy.

A budget bounds the time a read may take: SQLite's progress handler interrupts the query when
it runs out (the budget is CPU time of the reading thread, with a wall-clock limit of ten
budgets), and ``read`` raises ``PageTooSlowError``. The caller then reads the page another
way (a worker thread without the budget) and the shape is remembered as slow, so it is not
tried with a budget again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from listdock.connectors.engines import source_error_for_engine
from listdock.connectors.query import (
    SourceQuery,
    build_count,
    build_select,
    shape_and_values,
    shape_key,
)
from listdock.connectors.types import FieldType

logger = logging.getLogger(__name__)

MAX_SHAPES = 1024
# SQLite calls the progress handler every this many virtual machine instructions.
PROGRESS_INSTRUCTIONS = 1000
# A read may take this many budgets of wall-clock time before it is interrupted.
WALL_BUDGETS = 10

Processor = Callable[[Any], Any]


class PageTooSlowError(Exception):
    """The page was not read within its budget; nothing was returned."""


@dataclass(frozen=True)
class CompiledPage:
    """The SQL of one query shape, its parameters in order and its result processors."""

    sql: str
    # (name, bind processor, value): a name that is not one of the bound values is a constant
    # of the shape, such as a strftime format, and its value is the one compiled in.
    parameters: tuple[tuple[str, Processor | None, Any], ...]
    columns: tuple[tuple[int, Processor], ...]
    # The same without DECIMAL fields, for ``decimals_as_read``.
    columns_as_read: tuple[tuple[int, Processor], ...]
    slow: bool = False


# A statement to run: its shape key, its compiled form and its bound values.
_Statement = tuple[tuple[Any, ...], CompiledPage, dict[str, Any]]


class PageReader:
    """Compiles page queries by shape and reads them from SQLite engines. Thread-safe."""

    def __init__(self, max_shapes: int = MAX_SHAPES) -> None:
        self._max_shapes = max_shapes
        self._compiled: dict[tuple[Any, ...], CompiledPage] = {}
        self._lock = threading.Lock()

    def is_slow(self, query: SourceQuery, *, with_count: bool = False) -> bool:
        """Return whether a read of this query's shape ran out of its budget before.

        With ``with_count``, also whether counting its rows did.
        """
        compiled = self._compiled.get(shape_key(query, "sqlite"))
        if compiled is not None and compiled.slow:
            return True
        if not with_count:
            return False
        counted = replace(query, fields=(), order_by=(), key_fields=(), skip=0, limit=None)
        compiled = self._compiled.get(("count", *shape_key(counted, "sqlite")))
        return compiled is not None and compiled.slow

    def read(
        self,
        engine: sa.Engine,
        query: SourceQuery,
        *,
        budget: float,
        decimals_as_read: bool = False,
    ) -> list[tuple[Any, ...]]:
        """Return the rows of ``query`` (a page) as ``stream_rows`` would, within ``budget`` s.

        With ``decimals_as_read``, DECIMAL values stay as SQLite returns them (int, float or
        text) instead of becoming ``Decimal``.

        Raises PageTooSlowError when the budget runs out, or ran out before for this query's
        shape (which is then not run), SourceConnectionError or
        SourceTimeoutError when the source fails, and what ``normalize_restriction`` raises.
        """
        page = self._page_statement(engine, query)
        (rows,) = self._run(engine, [page], budget)
        return _converted(rows, page[1].columns_as_read if decimals_as_read else page[1].columns)

    def count(self, engine: sa.Engine, query: SourceQuery, *, budget: float) -> int:
        """Return the number of rows the query's restrictions match, within ``budget`` s.

        Raises what ``read`` raises.
        """
        (rows,) = self._run(engine, [self._count_statement(engine, query)], budget)
        return int(rows[0][0])

    def count_and_read(
        self, engine: sa.Engine, query: SourceQuery, *, budget: float
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """Return what ``count`` and ``read`` return, read on one connection in one budget.

        Raises what ``read`` raises.
        """
        page = self._page_statement(engine, query)
        counted, rows = self._run(engine, [self._count_statement(engine, query), page], budget)
        return int(counted[0][0]), _converted(rows, page[1].columns)

    def _page_statement(self, engine: sa.Engine, query: SourceQuery) -> _Statement:
        key, values = shape_and_values(query, "sqlite")
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(key, query, engine.dialect)
        if compiled.slow:
            raise PageTooSlowError
        return key, compiled, values

    def _count_statement(self, engine: sa.Engine, query: SourceQuery) -> _Statement:
        counted = replace(query, fields=(), order_by=(), key_fields=(), skip=0, limit=None)
        shape, values = shape_and_values(counted, "sqlite")
        key = ("count", *shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(key, counted, engine.dialect, count=True)
        if compiled.slow:
            raise PageTooSlowError
        return key, compiled, values

    def _run(
        self, engine: sa.Engine, statements: list[_Statement], budget: float
    ) -> list[list[tuple[Any, ...]]]:
        """Run compiled statements on one connection within one budget; return their rows."""
        # The budget is CPU time of this thread, so time spent waiting for the interpreter
        # lock while other threads run does not count. A wall-clock limit of ten budgets
        # catches a read that waits for the disk instead.
        cpu_deadline = time.thread_time() + budget
        wall_deadline = time.perf_counter() + budget * WALL_BUDGETS

        def out_of_time() -> bool:
            return time.thread_time() > cpu_deadline or time.perf_counter() > wall_deadline

        try:
            connection = engine.raw_connection()
        except exc.DBAPIError as error:
            raise source_error_for_engine(error, engine) from error
        driver: sqlite3.Connection = connection.driver_connection  # type: ignore[assignment]
        driver.set_progress_handler(out_of_time, PROGRESS_INSTRUCTIONS)
        results = []
        try:
            cursor = connection.cursor()
            for key, compiled, values in statements:
                parameters = tuple(
                    value if process is None else process(value)
                    for value, process in (
                        (values.get(name, constant), process)
                        for name, process, constant in compiled.parameters
                    )
                )
                try:
                    cursor.execute(compiled.sql, parameters)
                    results.append(list(cursor.fetchall()))
                except sqlite3.Error as error:
                    if isinstance(error, sqlite3.OperationalError) and out_of_time():
                        self._mark_slow(key, compiled)
                        raise PageTooSlowError from error
                    raise _source_error(error, compiled.sql, engine) from error
            cursor.close()
        finally:
            driver.set_progress_handler(None, 0)
            connection.close()
        return results

    def _compile(
        self,
        key: tuple[Any, ...],
        query: SourceQuery,
        dialect: sa.Dialect,
        *,
        count: bool = False,
    ) -> CompiledPage:
        select = build_count(query, "sqlite") if count else build_select(query, "sqlite")
        statement = select.compile(dialect=dialect)
        names = statement.positiontup or []
        parameters = tuple(
            (
                name,
                statement.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                statement.binds[name].effective_value,
            )
            for name in names
        )
        columns: list[tuple[int, Processor]] = []
        for index, column in enumerate(select.selected_columns):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                columns.append((index, process))
        compiled = CompiledPage(
            statement.string,
            parameters,
            tuple(columns),
            tuple(
                (index, process)
                for index, process in columns
                if count or query.fields[index].type is not FieldType.DECIMAL
            ),
        )
        with self._lock:
            if len(self._compiled) >= self._max_shapes:
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled

    def _mark_slow(self, key: tuple[Any, ...], compiled: CompiledPage) -> None:
        logger.info(
            "A read of %s ran out of its budget; reads of the same shape now go elsewhere",
            key[2] if key[0] != "count" else key[3],
        )
        with self._lock:
            self._compiled[key] = replace(compiled, slow=True)


def _converted(
    rows: list[tuple[Any, ...]], columns: tuple[tuple[int, Processor], ...]
) -> list[tuple[Any, ...]]:
    """Return the rows with the processors applied, column by column (None stays None)."""
    if not rows or not columns:
        return rows
    values: list[Any] = list(zip(*rows, strict=True))
    for index, process in columns:
        values[index] = [None if value is None else process(value) for value in values[index]]
    return list(zip(*values, strict=True))


def _source_error(error: sqlite3.Error, sql: str, engine: sa.Engine) -> Exception:
    """Return the error to raise for a driver error, as SQLAlchemy execution would give it."""
    wrapped = exc.DBAPIError.instance(sql, None, error, sqlite3.Error)
    if isinstance(wrapped, exc.DBAPIError):
        return source_error_for_engine(wrapped, engine)
    return wrapped
