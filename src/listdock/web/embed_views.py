"""The in-page view request of a widget, served from cached store data when it can be.

``GET /embed/{EmbedId}/view`` is what an embedded widget sends for every page, sort and
search, with its embed session. It needs the widget, its source, the session's token, the
owner's rights and what the page offers them (actions, details, exports), all read from the
store. ``EmbedViews`` keeps those in the ``ChangeCache``, so while the store's change counter
stays the same a view request reads the store once (the counter) and its source twice (the
count and the page).

As for data requests (see ``listdock.api.data_reads``), a view is served on the event loop
when everything is cached, the store and the source are SQLite, and the source reads fit in
their budget. Otherwise it runs in a worker thread and fills the cache. Any request this path
is not sure of (a long-lived token instead of a session, a session or token that fails, a
summary widget or a custom list) goes to the full route, which checks, audits and serves it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from listdock.change_counter import ChangeCache, Snapshot
from listdock.clock import Clock
from listdock.connectors.sqlite_pages import PageReader, PageTooSlowError
from listdock.domain.models import Widget
from listdock.errors import ListdockError
from listdock.security import roles
from listdock.security.embed_sessions import EmbedSessionSigner, is_session_value
from listdock.security.policy import load_access
from listdock.services.data import DataService
from listdock.services.embed import (
    SESSION_TOKEN,
    EmbedCaller,
    EmbedService,
    session_rejection,
)
from listdock.services.tokens import UsageRecorder
from listdock.services.widget_pages import ViewSetup
from listdock.services.widgets import WidgetService, WidgetSource
from listdock.web.embed import (
    SESSION_HEADER,
    TEMPLATES,
    error_json,
    presented_credential,
    security_headers,
    view_state,
)
from listdock.web.grid_html import grid_content

logger = logging.getLogger(__name__)

T = TypeVar("T")

INLINE_BUDGET = 0.005

FullRoute = Callable[[str, Request], Response]


class _Miss(Exception):
    """A cached value is missing and the store may not be read here."""


class EmbedViews:
    """Serves embed view requests from the cache, on the event loop or in a worker thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        cache: ChangeCache,
        clock: Clock,
        signer: EmbedSessionSigner,
        usage: UsageRecorder,
        widgets: WidgetService,
        embed: EmbedService,
        data: DataService,
        pages: PageReader,
        inline_budget: float = INLINE_BUDGET,
    ) -> None:
        self._sessions = sessions
        self._cache = cache
        self._clock = clock
        self._signer = signer
        self._usage = usage
        self._widgets = widgets
        self._embed = embed
        self._data = data
        self._pages = pages
        self.inline_budget = inline_budget

    def __repr__(self) -> str:
        return "EmbedViews()"

    async def serve(self, request: Request, embed_id: str, full_route: FullRoute) -> Response:
        """Serve a view request; ``full_route`` serves what the cached path does not."""
        if self._cache.reads_without_waiting:
            snapshot = self._cache.snapshot(wait=False)
            response = self._respond(request, embed_id, snapshot, wait=False)
            if response is not None:
                return response
        return await run_in_threadpool(self._respond_waiting, request, embed_id, full_route)

    def _respond_waiting(self, request: Request, embed_id: str, full_route: FullRoute) -> Response:
        snapshot = self._cache.snapshot(wait=True)
        response = self._respond(request, embed_id, snapshot, wait=True)
        if response is None:
            return full_route(embed_id, request)
        return response

    def _respond(
        self, request: Request, embed_id: str, snapshot: Snapshot, *, wait: bool
    ) -> Response | None:
        """Return the view, or None for the full route (nothing was counted or recorded)."""

        def cached(key: tuple[Any, ...], load: Callable[[Session], T]) -> T:
            found = snapshot.read_through(key, self._sessions, load, wait=wait)
            if found is None:
                raise _Miss
            return found

        # Who calls: only a valid embed session whose token still works is handled here.
        try:
            widget, origins, source = cached(
                ("embed-widget", embed_id), lambda session: self._load_widget(session, embed_id)
            )
            credential = presented_credential(request)
            if credential is None or not is_session_value(credential):
                return None
            claims = self._signer.verify(credential)
            if claims.widget_id != widget.id or widget.type == "summary":
                return None
            token_row = cached(
                ("embed-token", claims.token_id),
                lambda session: self._token_row(session, claims.token_id),
            )
            now = self._clock.now()
            if session_rejection(token_row, claims, widget.id, now) is not None:
                return None
            access = cached(
                ("access", claims.principal_id),
                lambda session: load_access(session, claims.principal_id),
            )
            setup = cached(
                ("embed-setup", embed_id, claims.principal_id, claims.read_only),
                lambda session: self._embed.view_setup(session, claims.read_only, access, source),
            )
            metadata = cached(
                ("list", source.entity.id),
                lambda session: self._data.metadata(session, source.entity.id),
            )
        except (_Miss, ListdockError):
            # A miss, or an error that the full route reports (and audits).
            return None
        if metadata.entity.type == "custom":
            return None

        # From here on the request is served here, and its use counted as the full route does.
        caller = EmbedCaller(
            principal_id=claims.principal_id,
            token_id=claims.token_id,
            read_only=claims.read_only,
            parameters=claims.parameters,
            session_value="",
            session_expires_at=claims.expires_at,
        )
        try:
            access.require(roles.OPEN_WIDGETS, "WidgetReader")
            entity = source.entity
            access.require_list_data(entity.connector_id, entity.id, source.company.id)
            view = view_state(dict(request.query_params))
            data_request = self._embed.view_request(
                caller, source, view, setup.page_size, setup.key_fields
            )
            limit = self._data.checked_paging(data_request)
            prepared = self._data.bind(metadata, data_request, access, limit)
            total, rows = self._read(prepared, wait=wait)
        except _Miss:
            return None
        except ListdockError as error:
            self._usage.record(claims.token_id, now, "widget")
            return error_json(error, origins)
        self._usage.record(claims.token_id, now, "widget")
        return self._render(setup, source, view, total, rows, claims, origins)

    def _read(self, prepared: Any, *, wait: bool) -> tuple[int, list[tuple[Any, ...]]]:
        """Count and read the page: with a budget on the event loop, else without."""
        query = prepared.query
        inline = not wait and prepared.engine.dialect.name == "sqlite"
        if not inline:
            if not wait:
                raise _Miss
            return prepared.count_rows(), list(prepared.stream())
        try:
            return self._pages.count_and_read(prepared.engine, query, budget=self.inline_budget)
        except PageTooSlowError:
            # PageReader logs the shape once; this and later reads of it use a thread.
            raise _Miss from None

    def _render(
        self,
        setup: ViewSetup,
        source: WidgetSource,
        view: Any,
        total: int,
        rows: list[tuple[Any, ...]],
        claims: Any,
        origins: list[str],
    ) -> Response:
        page = setup.page(source, view, total, rows)
        value, _renewed = self._signer.renew(claims)
        if page.widget.type == "grid":
            # What the content template renders for a grid, without the template around it.
            html: str = grid_content(page)
        else:
            html = TEMPLATES.get_template("embed/content.html").render(page=page)
        headers = security_headers(origins)
        headers[SESSION_HEADER] = value
        return HTMLResponse(html, headers=headers)

    def _token_row(self, session: Session, token_id: str) -> tuple[Any, ...]:
        row = session.execute(SESSION_TOKEN, {"token_id": token_id}).first()
        if row is None:
            raise _Miss
        return tuple(row)

    def _load_widget(
        self, session: Session, embed_id: str
    ) -> tuple[Widget, list[str], WidgetSource]:
        widget = self._widgets.get_by_embed_id(session, embed_id)
        origins = self._embed.frame_ancestors(session, widget)
        source = self._widgets.resolve(session, widget)
        session.expunge_all()
        return widget, origins, source
