"""Turning a prepared query into an HTTP response: headers, paging links, streaming.

Pages of at most ``BUFFERED_PAGE_LIMIT`` rows are read whole (one extra row shows whether a
next page exists) and sent as one body. Larger pages are streamed with bounded memory; a
single-row probe query decides the ``Link`` header before the first byte is sent. In both
cases the source is queried before the status is sent, so a source that is down gives a 502
or 504 instead of a broken 200.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL
from starlette.responses import Response, StreamingResponse

from listdock.connectors.formats import FILE_EXTENSIONS, MEDIA_TYPES, render
from listdock.connectors.query import stream_rows
from listdock.services.data import PreparedQuery

logger = logging.getLogger(__name__)

BUFFERED_PAGE_LIMIT = 1000
FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def next_page_url(url: URL, next_skip: int) -> str:
    """Return ``url`` with ``skip`` set to ``next_skip`` and any ``token`` parameter removed."""
    kept = [
        (key, value)
        for key, value in parse_qsl(url.query, keep_blank_values=True)
        if key not in ("skip", "token")
    ]
    kept.append(("skip", str(next_skip)))
    base = str(url).partition("?")[0]
    return f"{base}?{urlencode(kept)}"


def data_response(prepared: PreparedQuery, url: URL | None) -> Response:
    """Run ``prepared`` and return its rows in the requested format with paging headers.

    ``url`` is the request's URL, used for the ``Link`` header; None leaves the header out.
    """
    query = prepared.query
    limit = query.limit or 0
    total = prepared.count_rows() if prepared.count else None

    if limit <= BUFFERED_PAGE_LIMIT:
        rows = list(stream_rows(prepared.engine, replace(query, limit=limit + 1)))
        return page_response(prepared, url, rows, total)

    headers = _headers(prepared, total)
    if total is not None:
        has_more = query.skip + limit < total
    else:
        has_more = prepared.has_more_after(limit)
    _add_link(headers, url, query.skip + limit, has_more)
    rows_iterator = prepared.stream()
    first = list(itertools.islice(rows_iterator, 1))
    chunks = render(prepared.format, query.fields, itertools.chain(first, rows_iterator))
    return StreamingResponse(
        _closing(chunks, rows_iterator), media_type=MEDIA_TYPES[prepared.format], headers=headers
    )


def page_response(
    prepared: PreparedQuery,
    url: URL | None,
    rows: list[Any],
    total: int | None = None,
    *,
    body: bytes | None = None,
) -> Response:
    """Return a buffered page: ``rows`` contains the page and, when one follows, one extra row.

    ``total`` is the row count for ``X-Total-Count`` when the request asked for it. ``body``
    is the page already rendered; by default the rows are rendered here.
    """
    query = prepared.query
    limit = query.limit or 0
    headers = _headers(prepared, total)
    has_more = len(rows) > limit
    del rows[limit:]
    _add_link(headers, url, query.skip + limit, has_more)
    if body is None:
        body = b"".join(render(prepared.format, query.fields, rows))
    return Response(body, media_type=MEDIA_TYPES[prepared.format], headers=headers)


def _headers(prepared: PreparedQuery, total: int | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if total is not None:
        headers["X-Total-Count"] = str(total)
    if prepared.format in ("csv", "xlsx"):
        filename = FILENAME_UNSAFE.sub("_", prepared.entity.name) or "data"
        headers["Content-Disposition"] = (
            f'attachment; filename="{filename}{FILE_EXTENSIONS[prepared.format]}"'
        )
    return headers


def _add_link(headers: dict[str, str], url: URL | None, next_skip: int, has_more: bool) -> None:
    if has_more and url is not None:
        headers["Link"] = f'<{next_page_url(url, next_skip)}>; rel="next"'


def _closing(chunks: Iterator[bytes], rows: Iterator[Any]) -> Iterator[bytes]:
    """Yield ``chunks`` and close the row iterator (releasing the source) however it ends."""
    try:
        yield from chunks
    except Exception:
        logger.exception("Streaming a data response failed after it started")
        raise
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
