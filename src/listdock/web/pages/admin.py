"""Account settings, the audit log, and the Connectors page (add, test, refresh, fields)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from listdock.connectors.engines import ConnectionSettings
from listdock.domain.models import (
    Action,
    AuditEvent,
    Connector,
    Endpoint,
    Entity,
    EntityField,
    Principal,
    Role,
    Team,
    Token,
    Widget,
)
from listdock.errors import InvalidInputError, ListdockError, NotFoundError, PermissionDeniedError
from listdock.security.management import require_security_manager
from listdock.security.roles import ADD_CONNECTORS, MANAGE_ACCOUNT
from listdock.services.audit import AuditFilter
from listdock.services.connectors import CompanySpec, ConnectorSpec
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep, UserDep
from listdock.web.pages.security_users import redirect

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    account = services.accounts.get(session)
    return services.pages.render(
        request,
        "pages/account.html",
        {"account": account, "editable": access.has(MANAGE_ACCOUNT)},
        user=user,
    )


@router.post("/account")
def save_account(
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    max_token_lifetime_days: Annotated[str, Form()] = "",
    default_embed_origins: Annotated[str, Form()] = "",
) -> Response:
    """Save the account name, maximum token lifetime and default embed origins."""
    access.require(MANAGE_ACCOUNT, "Administrator")
    account = services.accounts.get(session)
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
    lifetime = None
    if max_token_lifetime_days.strip():
        try:
            lifetime = int(max_token_lifetime_days)
        except ValueError:
            lifetime = 0
        if lifetime < 1 or lifetime > 3650:
            raise InvalidInputError(
                "Maximum token lifetime must be 1 to 3650 days, or empty for no limit",
                code="invalid_lifetime",
            )
    origins = [
        line.strip().rstrip("/") for line in default_embed_origins.splitlines() if line.strip()
    ]
    for origin in origins:
        if (
            not (origin.startswith("https://") or origin.startswith("http://"))
            or "/" in origin.split("://", 1)[1]
        ):
            raise InvalidInputError(
                f"Embed origin {origin!r} must look like https://app.example.com",
                code="invalid_origin",
            )
    account.name = clean
    account.max_token_lifetime_days = lifetime
    account.default_embed_origins = origins
    account.modified = datetime.now(UTC)
    services.audit.record(
        "account_changed",
        actor_id=user.principal_id,
        details={"max_token_lifetime_days": lifetime, "default_embed_origins": origins},
        session=session,
    )
    session.commit()
    return redirect("/account", "account_saved")


# The kinds of object an audit event's Target names, as "<kind>:<id>".
AUDIT_TARGET_MODELS: dict[str, Any] = {
    "principal": Principal,
    "team": Team,
    "role": Role,
    "connector": Connector,
    "widget": Widget,
    "endpoint": Endpoint,
    "action": Action,
}


def audit_names(session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """Return the current names of the users, tokens and targets that ``events`` refer to.

    Objects deleted since the event are missing from the result, so the page shows their id.
    """
    ids_by_model: dict[Any, set[str]] = {Principal: set(), Token: set()}
    for event in events:
        if event.actor_id:
            ids_by_model[Principal].add(event.actor_id)
        if event.token_id:
            ids_by_model[Token].add(event.token_id)
        kind, _, target_id = (event.target or "").partition(":")
        model = AUDIT_TARGET_MODELS.get(kind)
        if model is not None and target_id:
            ids_by_model.setdefault(model, set()).add(target_id)
    names: dict[str, str] = {}
    for model, ids in ids_by_model.items():
        if ids:
            rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
            names.update({row_id: name for row_id, name in rows})
    return names


@router.get("/audit")
def audit_page(
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    event: str = "",
    actor: str = "",
    token: str = "",
    since: str = "",
    until: str = "",
    skip: int = 0,
) -> Response:
    """Show the audit log with filters, newest first, 100 events a page."""
    require_security_manager(access)

    def when(value: str) -> datetime | None:
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    events = services.audit.search(
        AuditFilter(
            since=when(since),
            until=when(until),
            actor_id=actor or None,
            token_id=token or None,
            event=event or None,
            limit=100,
            skip=max(skip, 0),
        )
    )
    return services.pages.render(
        request,
        "pages/audit.html",
        {
            "events": events,
            "names": audit_names(session, list(events)),
            "filters": {
                "event": event,
                "actor": actor,
                "token": token,
                "since": since,
                "until": until,
            },
            "skip": max(skip, 0),
        },
        user=user,
    )


@router.get("/connectors")
def connectors_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    connectors = [
        (connector, access.administers_connector(connector.id))
        for connector in services.connectors.list_all(session)
        if access.sees_connector(connector.id)
    ]
    return services.pages.render(
        request,
        "pages/connectors.html",
        {"connectors": connectors, "can_add": access.has(ADD_CONNECTORS), "form": {}},
        user=user,
    )


@router.post("/connectors")
def add_connector(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    connector_type: Annotated[str, Form()] = "sqlite",
    host: Annotated[str, Form()] = "",
    port: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    company_name: Annotated[str, Form()] = "",
    database_name: Annotated[str, Form()] = "",
) -> Response:
    """Test the connection, discover the lists and store the connector (Contributor)."""
    access.require(ADD_CONNECTORS, "Contributor")
    try:
        port_number = int(port) if port.strip() else None
    except ValueError:
        port_number = None
    spec = ConnectorSpec(
        name=name,
        type=connector_type,
        settings=ConnectionSettings(
            host=host.strip() or None,
            port=port_number,
            username=username.strip() or None,
            password=password or None,
        ),
        companies=(CompanySpec(name=company_name or name, database_name=database_name),),
    )
    try:
        connector = services.connectors.create(session, spec, actor_id=user.principal_id)
        session.commit()
    except ListdockError as failure:
        session.rollback()
        connectors = [
            (c, access.administers_connector(c.id))
            for c in services.connectors.list_all(session)
            if access.sees_connector(c.id)
        ]
        return services.pages.render(
            request,
            "pages/connectors.html",
            {
                "connectors": connectors,
                "can_add": True,
                "error": f"{failure.message}. Check the settings and try again.",
                "form": {
                    "name": name,
                    "connector_type": connector_type,
                    "host": host,
                    "port": port,
                    "username": username,
                    "company_name": company_name,
                    "database_name": database_name,
                },
            },
            user=user,
            status_code=400,
        )
    return redirect(f"/connectors/{connector.id}", "connector_added")


def _administered(
    services: ServicesDep, session: SessionDep, access: AccessDep, connector_id: str
) -> Connector:
    """Return the connector the user administers; raise 404 when invisible, else 403."""
    if not access.sees_connector(connector_id):
        raise NotFoundError("Connector not found", code="connector_not_found")
    connector = services.connectors.get(session, connector_id)
    if not access.administers_connector(connector.id):
        raise PermissionDeniedError(
            "The connector Administrator role is required", code="missing_role"
        )
    return connector


@router.get("/connectors/{connector_id}")
def connector_page(
    connector_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    connector = _administered(services, session, access, connector_id)
    entities = list(
        session.scalars(
            select(Entity).where(Entity.connector_id == connector.id).order_by(Entity.name)
        )
    )
    return services.pages.render(
        request,
        "pages/connector.html",
        {"connector": connector, "entities": entities},
        user=user,
    )


@router.post("/connectors/{connector_id}/refresh")
def refresh_connector(
    connector_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    connector = _administered(services, session, access, connector_id)
    services.connectors.refresh(session, connector, actor_id=user.principal_id)
    session.commit()
    return redirect(f"/connectors/{connector.id}", "connector_refreshed")


@router.post("/connectors/{connector_id}/companies")
def add_company(
    connector_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    company_name: Annotated[str, Form()] = "",
    database_name: Annotated[str, Form()] = "",
) -> Response:
    connector = _administered(services, session, access, connector_id)
    services.connectors.add_company(
        session,
        connector,
        CompanySpec(name=company_name, database_name=database_name),
        actor_id=user.principal_id,
    )
    session.commit()
    return redirect(f"/connectors/{connector.id}", "company_added")


@router.get("/connectors/{connector_id}/lists/{entity_id}")
def list_settings_page(
    connector_id: str,
    entity_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    connector = _administered(services, session, access, connector_id)
    entity = services.data.load_entity(session, entity_id)
    if entity.connector_id != connector.id:
        raise NotFoundError("List not found", code="entity_not_found")
    return services.pages.render(
        request,
        "pages/list_settings.html",
        {"connector": connector, "entity": entity},
        user=user,
    )


@router.post("/connectors/{connector_id}/lists/{entity_id}/fields/{field_id}")
def save_field(
    connector_id: str,
    entity_id: str,
    field_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    display_name: Annotated[str, Form()] = "",
    hidden: Annotated[str | None, Form()] = None,
    default_field: Annotated[str | None, Form()] = None,
) -> Response:
    """Save a field's display name, hidden flag and default-field flag."""
    connector = _administered(services, session, access, connector_id)
    field = session.get(EntityField, field_id)
    if field is None or field.entity_id != entity_id:
        raise NotFoundError("Field not found", code="field_not_found")
    entity = services.data.load_entity(session, entity_id)
    if entity.connector_id != connector.id:
        raise NotFoundError("List not found", code="entity_not_found")
    clean = display_name.strip()
    if not clean or len(clean) > 255:
        raise InvalidInputError("Display name must be 1 to 255 characters", code="invalid_name")
    field.display_name = clean
    field.hidden = bool(hidden)
    field.default_field = bool(default_field)
    entity.modified = datetime.now(UTC)
    services.audit.record(
        "field_changed",
        actor_id=user.principal_id,
        target=f"field:{field.id}",
        details={"hidden": field.hidden, "default_field": field.default_field},
        session=session,
    )
    session.commit()
    return redirect(f"/connectors/{connector.id}/lists/{entity_id}", "field_saved")
