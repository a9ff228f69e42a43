"""The "bare" benchmark target: the practical ceiling for serving one page of rows.

A minimal Starlette app with no authentication that runs the benchmark queries with the
standard ``sqlite3`` module and returns the rows as a JSON array of objects:

    GET /invoice-lines                   the first 100 rows of InvoiceLine by InvoiceLineId
    GET /invoice-lines-from?from=ID      the first 100 rows with InvoiceLineId >= ID

Serve it with uvicorn's factory mode; ``BENCH_DATABASE`` names the SQLite file to read::

    BENCH_DATABASE=/path/to/Chinook_Sqlite.sqlite \\
        uvicorn --app-dir bench --factory bare_app:create_app --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import logging
import os
import sqlite3

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

logger = logging.getLogger(__name__)

PAGE_QUERY = "SELECT * FROM InvoiceLine ORDER BY InvoiceLineId LIMIT 100"
FILTERED_PAGE_QUERY = (
    "SELECT * FROM InvoiceLine WHERE InvoiceLineId >= ? ORDER BY InvoiceLineId LIMIT 100"
)


def create_app() -> Starlette:
    """Build the app around one read-only connection to the file named by BENCH_DATABASE.

    Raises KeyError when BENCH_DATABASE is unset.
    """
    database = os.environ["BENCH_DATABASE"]
    # The handlers run their queries on the event loop thread, the only thread that touches
    # the connection. Each query and its row conversion take about 0.2 ms, so a thread pool
    # would only add a hop.
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
    connection.row_factory = sqlite3.Row

    async def invoice_lines(request: Request) -> JSONResponse:
        rows = connection.execute(PAGE_QUERY).fetchall()
        return JSONResponse([dict(row) for row in rows])

    async def invoice_lines_from(request: Request) -> Response:
        value = request.query_params.get("from", "")
        try:
            first_id = int(value)
        except ValueError:
            logger.warning("Rejected GET /invoice-lines-from: invalid 'from' value %r", value)
            return PlainTextResponse(
                f"Query parameter 'from' must be an integer InvoiceLineId, got {value!r}.",
                status_code=400,
            )
        rows = connection.execute(FILTERED_PAGE_QUERY, (first_id,)).fetchall()
        return JSONResponse([dict(row) for row in rows])

    return Starlette(
        routes=[
            Route("/invoice-lines", invoice_lines),
            Route("/invoice-lines-from", invoice_lines_from),
        ]
    )
