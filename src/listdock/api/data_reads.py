"""Serving token-authenticated data requests: on the event loop when they can, else in a thread.

A data request needs the caller's token record and rights and the list's fields, all read
from the store, before it reads its source. ``DataReads`` keeps those in a ``ChangeCache``.
While the store's change counter stays the same, a request reads the store once (the
counter) and its source once. A change to those tables, by any process, empties the cache.

A request is served on the event loop, with no thread hop, when everything it needs from
the store is cached and the store and the source are SQLite files. The page must also be
small: at most ``INLINE_ROW_LIMIT`` rows, not XLSX, and no count. Its source read then has
a budget of ``INLINE_BUDGET`` seconds of CPU time. A read that runs out of it moves to a
worker thread, and that query shape is not tried on the event loop again. Every other
request runs in one worker-thread hop, filling the cache as it goes.

A planner (``Planner``) turns a request into a prepared query. It gets a ``ReadContext``
that reads from the cache. When the context cannot serve a value without waiting, it returns
None and so does the planner, having changed nothing, and the request starts again in a
worker thread where the context reads the store.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from listdock.api.auth import Caller, client_address, presented_token
from listdock.api.data_response import data_response, page_response
from listdock.api.deps import run_data_work
from listdock.change_counter import ChangeCache, Snapshot
from listdock.connectors.formats import json_page
from listdock.connectors.sqlite_pages import PageReader, PageTooSlowError
from listdock.domain.models import Endpoint
from listdock.errors import AuthenticationError, ListdockError
from listdock.security.policy import Access, load_access
from listdock.services.data import DataRequest, DataService, PreparedQuery
from listdock.services.endpoints import EndpointService, EndpointTarget
from listdock.services.list_metadata import ListMetadata
from listdock.services.tokens import CachedToken, TokenService

if TYPE_CHECKING:
    from listdock.app import Services

logger = logging.getLogger(__name__)

T = TypeVar("T")

INLINE_ROW_LIMIT = 1000
INLINE_BUDGET = 0.005
INLINE_FORMATS = ("json", "csv", "xml")


class ReadContext:
    """The store reads a planner may request for one request, served from the cache.

    With ``wait`` False every method returns None instead of reading the store.
    """

    def __init__(
        self, reads: DataReads, request: Request, snapshot: Snapshot, *, wait: bool
    ) -> None:
        self._reads = reads
        self.request = request
        self.snapshot = snapshot
        self.wait = wait
        self._pending: tuple[CachedToken, str] | None = None

    def caller(self, surface: str) -> Caller | None:
        """Authenticate the request's token for ``surface`` (``api`` or ``endpoint``).

        Raises AuthenticationError (401) for a missing or refused token and InvalidInputError
        for a token given twice or in the query of a POST. On the event loop the use is
        counted by ``accept_caller``, once the request is known to be served there.
        """
        request = self.request
        value = presented_token(request, query_allowed=request.method in ("GET", "HEAD"))
        if value is None:
            raise AuthenticationError("missing", code="token_required")
        tokens = self._reads.tokens
        ip = client_address(request)
        if self.wait:
            token = tokens.authenticate(value, surface=surface, ip=ip, snapshot=self.snapshot)
            return Caller(token.principal_id, token.principal_name, token)
        cached = tokens.verify_cached(value, ip=ip, snapshot=self.snapshot)
        if cached is None:
            return None
        self._pending = (cached, surface)
        token = cached.token
        return Caller(token.principal_id, token.principal_name, token)

    def accept_caller(self) -> None:
        """Count the use of a token verified from the cache; raises RateLimitedError."""
        if self._pending is not None:
            cached, surface = self._pending
            self._pending = None
            self._reads.tokens.accept(cached, surface)

    def access(self, principal_id: str) -> Access | None:
        """Return the principal's rights."""
        return self._cached(
            ("access", principal_id), lambda session: load_access(session, principal_id)
        )

    def metadata(self, entity_id: str) -> ListMetadata | None:
        """Return a list's metadata; raises NotFoundError for an unknown or vanished list."""
        return self._cached(
            ("list", entity_id), lambda session: self._reads.data.metadata(session, entity_id)
        )

    def endpoint(self, name: str) -> tuple[Endpoint, EndpointTarget] | None:
        """Return a named endpoint and what it reads; raises NotFoundError as the service does."""
        endpoints = self._reads.endpoints

        def load(session: Session) -> tuple[Endpoint, EndpointTarget]:
            endpoint = endpoints.find_by_name(session, name)
            target = endpoints.target(session, endpoint)
            session.expunge_all()
            return endpoint, target

        return self._cached(("endpoint", name.casefold()), load)

    def prepare(self, data_request: DataRequest, access: Access) -> PreparedQuery | None:
        """Validate a data request as ``DataService.prepare`` does, with cached metadata."""
        data = self._reads.data
        limit = data.checked_paging(data_request)
        metadata = self.metadata(data_request.entity_id)
        if metadata is None:
            return None
        if metadata.entity.type != "custom":
            return data.bind(metadata, data_request, access, limit)
        if not self.wait:
            return None
        # A custom list's definition and variables are read from the store on every request.
        with self._reads.sessions() as session:
            return data.bind(metadata, data_request, access, limit, session)

    def _cached(self, key: tuple[str, str], load: Callable[[Session], T]) -> T | None:
        return self.snapshot.read_through(key, self._reads.sessions, load, wait=self.wait)


Planner = Callable[[ReadContext], PreparedQuery | None]


class DataReads:
    """Serves data requests from the cache on the event loop, or in a worker thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        cache: ChangeCache,
        tokens: TokenService,
        data: DataService,
        endpoints: EndpointService,
        pages: PageReader,
        inline_budget: float = INLINE_BUDGET,
    ) -> None:
        self.sessions = sessions
        self.inline_budget = inline_budget
        self.cache = cache
        self.tokens = tokens
        self.data = data
        self.endpoints = endpoints
        self.pages = pages

    def __repr__(self) -> str:
        return "DataReads()"

    async def serve(self, request: Request, plan: Planner) -> Response:
        """Serve ``request`` with the rows of the query that ``plan`` prepares."""
        prepared: PreparedQuery | None = None
        if self.cache.reads_without_waiting:
            context = ReadContext(self, request, self.cache.snapshot(wait=False), wait=False)
            try:
                prepared = plan(context)
            except ListdockError:
                context.accept_caller()
                raise
            if prepared is not None:
                context.accept_caller()

        if prepared is None:
            return await run_data_work(request, self._serve_waiting, request, plan)
        if self._answers_inline(prepared):
            # A read over its budget goes to a worker thread below, and so do later reads of
            # its shape (PageReader logs the shape once).
            with contextlib.suppress(PageTooSlowError):
                return self._inline_response(request, prepared)
        return await run_data_work(request, data_response, prepared, request.url)

    def _serve_waiting(self, request: Request, plan: Planner) -> Response:
        context = ReadContext(self, request, self.cache.snapshot(wait=True), wait=True)
        prepared = plan(context)
        if prepared is None:
            raise RuntimeError("A planner returned no query while it could read the store")
        return data_response(prepared, request.url)

    def _answers_inline(self, prepared: PreparedQuery) -> bool:
        query = prepared.query
        return (
            prepared.engine.dialect.name == "sqlite"
            and not prepared.count
            and prepared.format in INLINE_FORMATS
            and query.limit is not None
            and query.limit <= INLINE_ROW_LIMIT
        )

    def _inline_response(self, request: Request, prepared: PreparedQuery) -> Response:
        query = prepared.query
        page_query = replace(query, limit=(query.limit or 0) + 1)
        if prepared.format == "json":
            rows = self.pages.read(
                prepared.engine, page_query, budget=self.inline_budget, decimals_as_read=True
            )
            body = json_page(query.fields, rows[: query.limit], decimals_as_read=True)
            if body is not None:
                return page_response(prepared, request.url, rows, body=body)
        rows = self.pages.read(prepared.engine, page_query, budget=self.inline_budget)
        return page_response(prepared, request.url, rows)


def get_reads(request: Request) -> DataReads:
    services: Services = request.app.state.services
    return services.reads
