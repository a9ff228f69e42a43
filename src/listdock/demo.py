"""The demo store: a generated order database, a connector to it, an administrator, an API
user with tokens, a named endpoint and a widget.

``prepare_demo`` is idempotent: run again, it keeps what exists, gives the administrator a new
password and issues new tokens, because earlier values were shown once and may be lost.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from listdock.connectors.engines import ConnectionSettings
from listdock.domain.models import Endpoint, Entity, EntityField, Principal, Widget
from listdock.errors import NotFoundError
from listdock.security.passwords import hash_password
from listdock.security.policy import load_access
from listdock.services.connectors import CompanySpec, ConnectorSpec
from listdock.services.endpoints import EndpointSpec, ParameterSpec
from listdock.services.grants import GrantSpec
from listdock.services.widgets import ParameterSpec as WidgetParameterSpec
from listdock.services.widgets import WidgetSpec

if TYPE_CHECKING:
    from listdock.app import Services

logger = logging.getLogger(__name__)

ADMIN_EMAIL = "admin@demo.listdock.local"
API_USER_NAME = "Demo app"
CONNECTOR_NAME = "Orders"
ENDPOINT_NAME = "OrdersByCustomer"
WIDGET_NAME = "Customer orders"


@dataclass(frozen=True)
class DemoCredentials:
    """The values the demo prints once: the administrator's password and two token values."""

    admin_email: str
    admin_password: str
    api_token: str
    widget_token: str
    embed_id: str
    endpoint_name: str

    def __repr__(self) -> str:
        return f"DemoCredentials(admin_email={self.admin_email!r})"


def _field(session: Session, entity: Entity, api_name: str) -> EntityField:
    for field in entity.fields:
        if field.api_name == api_name:
            return field
    raise NotFoundError(f"The demo list {entity.name} has no field {api_name}")


def _next_token_name(services: Services, session: Session, owner: Principal, base: str) -> str:
    taken = {token.name for token in services.tokens.list_for_principal(session, owner.id)}
    number = 1
    while f"{base} {number}" in taken:
        number += 1
    return f"{base} {number}"


def prepare_demo(services: Services, session: Session, sample: Path) -> DemoCredentials:
    """Create whatever part of the demo is missing and return fresh credentials."""
    password = secrets.token_urlsafe(12)
    try:
        admin = services.principals.find_by_login(session, ADMIN_EMAIL)
        admin.password_hash = hash_password(password)
    except NotFoundError:
        admin = services.principals.create_user(
            session,
            name="Demo Administrator",
            email=ADMIN_EMAIL,
            password=password,
            actor_id=None,
        )
        services.principals.assign_system_roles(session, admin, ["Administrator"], actor_id=None)
    access = load_access(session, admin.id)

    connector = next(
        (c for c in services.connectors.list_all(session) if c.name == CONNECTOR_NAME), None
    )
    if connector is None:
        connector = services.connectors.create(
            session,
            ConnectorSpec(
                name=CONNECTOR_NAME,
                type="sqlite",
                settings=ConnectionSettings(),
                companies=(CompanySpec(name="Demo Company", database_name=str(sample)),),
            ),
            actor_id=admin.id,
        )
    company = connector.companies[0]
    orders = session.scalar(
        select(Entity).where(Entity.connector_id == connector.id, Entity.source_name == "Orders")
    )
    if orders is None:
        raise NotFoundError("The demo database has no Orders table")
    customer_field = _field(session, orders, "CustomerId")

    api_user = session.scalar(
        select(Principal).where(Principal.kind == "api", Principal.name == API_USER_NAME)
    )
    if api_user is None:
        api_user = services.principals.create_api_user(
            session, name=API_USER_NAME, actor_id=admin.id
        )
        services.principals.assign_system_roles(
            session, api_user, ["ApiReader", "WidgetReader"], actor_id=admin.id
        )
        services.grants.put(
            session,
            connector.id,
            GrantSpec(roles=["User"], companies="all", lists="all", details="all", actions="all"),
            principal_id=api_user.id,
            actor_id=admin.id,
        )

    if session.scalar(select(Endpoint).where(Endpoint.name == ENDPOINT_NAME)) is None:
        services.endpoints.create(
            session,
            access,
            EndpointSpec(
                name=ENDPOINT_NAME,
                entity_id=orders.id,
                company_id=company.id,
                parameters=(
                    ParameterSpec(
                        name="customer", entity_field_id=customer_field.id, required=True
                    ),
                ),
            ),
            actor_id=admin.id,
        )

    widget = session.scalar(select(Widget).where(Widget.name == WIDGET_NAME))
    if widget is None:
        widget = services.widgets.create(
            session,
            access,
            WidgetSpec(
                name=WIDGET_NAME,
                type="grid",
                entity_id=orders.id,
                company_id=company.id,
                fields=tuple(f.id for f in orders.fields if f.default_field and not f.hidden),
                parameters=(WidgetParameterSpec("customer", customer_field.id, True),),
            ),
            actor_id=admin.id,
        )

    api_token = services.tokens.create(
        session,
        api_user,
        _next_token_name(services, session, api_user, "demo api token"),
        created_by=admin.id,
    )
    widget_token = services.tokens.create(
        session,
        api_user,
        _next_token_name(services, session, api_user, "demo widget token"),
        created_by=admin.id,
        widget_id=widget.id,
        read_only=True,
    )
    return DemoCredentials(
        admin_email=ADMIN_EMAIL,
        admin_password=password,
        api_token=api_token.value,
        widget_token=widget_token.value,
        embed_id=widget.embed_id,
        endpoint_name=ENDPOINT_NAME,
    )
