"""The composition root: builds every service from the settings and wires the web app.

Nothing else in listdock creates engines, keys or services; the CLI and the tests call
``build_services`` and ``create_app`` with the settings they want.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from listdock import __version__
from listdock.api.data_reads import DataReads
from listdock.api.errors import install_error_handlers
from listdock.api.routes import (
    account,
    actions,
    audit,
    connectors,
    custom_lists,
    data,
    endpoints,
    entities,
    favorites,
    grants,
    relationships,
    roles,
    teams,
    tokens,
    users,
    widgets,
)
from listdock.change_counter import ChangeCache, ChangeCounter
from listdock.clock import Clock, SystemClock
from listdock.connectors.engines import EnginePool
from listdock.connectors.sqlite_pages import PageReader
from listdock.db import create_session_factory, create_store_engine, upgrade_store
from listdock.security.embed_sessions import EmbedSessionSigner
from listdock.security.keys import ServerKeys
from listdock.security.ratelimit import RateLimiter
from listdock.security.secretbox import SecretBox
from listdock.security.webhook_targets import WebhookTargets, parse_networks
from listdock.services.accounts import AccountService
from listdock.services.actions import ActionService
from listdock.services.audit import AuditLog
from listdock.services.connectors import ConnectorService
from listdock.services.custom_lists import CustomListService
from listdock.services.data import DataService
from listdock.services.embed import EmbedService
from listdock.services.endpoints import EndpointService
from listdock.services.favorites import FavoriteService
from listdock.services.grants import GrantService
from listdock.services.list_metadata import install_change_stamps
from listdock.services.principals import PrincipalService, ensure_built_in_roles
from listdock.services.relationships import RelationshipService
from listdock.services.roles import RoleService
from listdock.services.teams import TeamService
from listdock.services.tokens import TokenService, UsageRecorder
from listdock.services.widgets import WidgetService
from listdock.settings import Settings, resolve_secret_key
from listdock.web import embed as embed_pages
from listdock.web.embed_views import EmbedViews
from listdock.web.errors import install_web_error_handlers
from listdock.web.pages import admin as admin_pages
from listdock.web.pages import auth as auth_pages
from listdock.web.pages import (
    developer_endpoints,
    developer_widgets,
    list_actions,
    security_teams,
    security_tokens,
    security_users,
)
from listdock.web.pages import home as home_pages
from listdock.web.pages import lists as list_pages
from listdock.web.render import PageRenderer, build_environment
from listdock.web.sessions import WebSessionService

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v2"


@dataclass
class Services:
    """Every service of one process, built once by ``build_services``."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    keys: ServerKeys
    audit: AuditLog
    usage: UsageRecorder
    tokens: TokenService
    accounts: AccountService
    principals: PrincipalService
    teams: TeamService
    roles: RoleService
    grants: GrantService
    source_engines: EnginePool
    connectors: ConnectorService
    data: DataService
    custom_lists: CustomListService
    favorites: FavoriteService
    endpoints: EndpointService
    relationships: RelationshipService
    web_sessions: WebSessionService
    pages: PageRenderer
    widgets: WidgetService
    actions: ActionService
    embed: EmbedService
    change_counter: ChangeCounter
    reads: DataReads
    embed_views: EmbedViews
    # Set when the app starts; None means the default thread pool.
    data_threads: CapacityLimiter | None = None

    def __repr__(self) -> str:
        return "Services()"

    def close(self) -> None:
        """Write pending token usage and release every database connection."""
        self.usage.stop()
        self.change_counter.close()
        self.source_engines.dispose_all()
        self.engine.dispose()


def build_services(
    settings: Settings, clock: Clock | None = None, *, migrate: bool = True
) -> Services:
    """Build the services of one process; with ``migrate`` the store schema is upgraded first.

    Raises ConfigurationError when the secret key is empty or a placeholder.
    """
    clock = clock or SystemClock()
    keys = ServerKeys.from_secret(resolve_secret_key(settings))
    engine = create_store_engine(settings.store_url())
    if migrate:
        upgrade_store(engine)
    sessions = create_session_factory(engine)
    install_change_stamps(sessions)
    audit = AuditLog(sessions, clock)
    usage = UsageRecorder(sessions, settings.last_used_flush_seconds)
    source_engines = EnginePool()
    connector_service = ConnectorService(
        clock,
        audit,
        SecretBox(keys.connector_passwords),
        source_engines,
        settings.source_connect_timeout,
        settings.source_statement_timeout,
    )
    custom_lists = CustomListService(clock)
    data_service = DataService(
        connector_service,
        settings.default_max_records,
        settings.max_records_limit,
        custom_lists=custom_lists,
    )
    favorite_service = FavoriteService(clock, data_service)
    token_service = TokenService(
        sessions,
        clock,
        keys.token_hashing,
        audit,
        usage,
        RateLimiter(settings.redis_url, settings.failed_token_limit, settings.token_request_limit),
    )
    endpoint_service = EndpointService(
        clock, data_service, favorite_service, settings.default_max_records
    )
    change_counter = ChangeCounter(engine)
    change_cache = ChangeCache(change_counter)
    page_reader = PageReader()
    embed_signer = EmbedSessionSigner(keys.embed_sessions, clock)
    relationship_service = RelationshipService(clock, data_service)
    widget_service = WidgetService(clock, audit, data_service, favorite_service, token_service)
    action_service = ActionService(
        clock,
        audit,
        data_service,
        connector_service,
        webhook_targets=WebhookTargets(parse_networks(settings.webhook_blocked_networks)),
    )
    embed_service = EmbedService(
        sessions,
        clock,
        embed_signer,
        token_service,
        usage,
        audit,
        widget_service,
        data_service,
        action_service,
        relationship_service,
    )
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        keys=keys,
        audit=audit,
        usage=usage,
        tokens=token_service,
        accounts=AccountService(clock),
        principals=PrincipalService(clock, audit),
        teams=TeamService(clock, audit),
        roles=RoleService(audit),
        grants=GrantService(clock, audit),
        source_engines=source_engines,
        connectors=connector_service,
        data=data_service,
        custom_lists=custom_lists,
        favorites=favorite_service,
        endpoints=endpoint_service,
        relationships=relationship_service,
        web_sessions=WebSessionService(
            sessions,
            clock,
            audit,
            RateLimiter(settings.redis_url, settings.failed_login_limit, "1/second"),
            keys.sessions,
        ),
        pages=PageRenderer(build_environment()),
        widgets=widget_service,
        actions=action_service,
        embed=embed_service,
        change_counter=change_counter,
        reads=DataReads(
            sessions, change_cache, token_service, data_service, endpoint_service, page_reader
        ),
        embed_views=EmbedViews(
            sessions,
            change_cache,
            clock,
            embed_signer,
            usage,
            widget_service,
            embed_service,
            data_service,
            page_reader,
        ),
    )
    if migrate:
        with sessions.begin() as session:
            ensure_built_in_roles(session)
            services.accounts.ensure(session)
    return services


def create_app(services: Services) -> FastAPI:
    """Return the ASGI app serving the REST API over ``services``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.usage.start()
        # The limiter belongs to the event loop, so it is made here rather than in build_services.
        services.data_threads = CapacityLimiter(services.settings.data_threads)
        logger.info("listdock %s started", __version__)
        try:
            yield
        finally:
            services.close()
            logger.info("listdock stopped")

    app = FastAPI(
        title="listdock",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    install_web_error_handlers(app)
    # Routes are tried in order, so the busiest come first: list data, endpoint calls and
    # embed requests. No other route matches their paths (endpoint calls never match a UUID,
    # which GET /favorite/{FavoriteId} takes).
    app.include_router(data.router, prefix=API_PREFIX)
    app.include_router(endpoints.call_router, prefix=API_PREFIX)
    app.include_router(embed_pages.router)
    for module in (favorites, endpoints):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (
        account, users, teams, roles, grants, tokens, audit, connectors, entities,
        custom_lists, relationships, widgets, actions,
    ):  # fmt: skip
        app.include_router(module.router, prefix=API_PREFIX)
    for page_module in (
        auth_pages, home_pages, list_pages, security_users, security_tokens, security_teams,
        admin_pages, developer_endpoints, developer_widgets, list_actions,
    ):  # fmt: skip
        app.include_router(page_module.router)
    app.mount("/static", StaticFiles(packages=[("listdock", "web/static")]), name="static")
    return app


def create_app_from_environment() -> FastAPI:
    """Build the app from ``LISTDOCK_*`` variables; the factory each server worker calls.

    The store is not migrated here: ``listdock serve`` migrates once before starting workers.
    """
    return create_app(build_services(Settings(), migrate=False))
