"""Connectors, their companies, groups and lists."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from listdock.api.deps import AccessDep, CallerDep, ServicesDep, SessionDep
from listdock.api.schemas import (
    CompanyOut,
    ConnectorIn,
    ConnectorOut,
    EntityGroupOut,
    EntityOut,
    ErrorOut,
    RefreshOut,
)
from listdock.connectors.engines import ConnectionSettings
from listdock.domain.models import Connector, Entity, EntityGroup
from listdock.errors import NotFoundError, PermissionDeniedError
from listdock.security.policy import Access
from listdock.security.roles import ADD_CONNECTORS
from listdock.services.connectors import CompanySpec, ConnectorSpec

router = APIRouter(tags=["connectors"])


@router.get("/connector", response_model=list[ConnectorOut])
def list_connectors(
    access: AccessDep, services: ServicesDep, session: SessionDep
) -> list[ConnectorOut]:
    """List the connectors the caller has a grant on, administers, or added."""
    return [
        visible_connector_out(access, connector)
        for connector in services.connectors.list_all(session)
        if access.sees_connector(connector.id)
    ]


def visible_connector_out(access: Access, connector: Connector) -> ConnectorOut:
    """Return the connector with only the companies the caller may see."""
    out = ConnectorOut.of(connector)
    out.Companies = [
        company for company in out.Companies if access.sees_company(connector.id, company.CompanyId)
    ]
    return out


def visible_connector(
    services: ServicesDep, session: SessionDep, access: Access, connector_id: str
) -> Connector:
    """Return the connector, or raise NotFoundError when the caller may not see it."""
    if not access.sees_connector(connector_id):
        raise NotFoundError("Connector not found", code="connector_not_found")
    return services.connectors.get(session, connector_id)


@router.post(
    "/connector",
    response_model=ConnectorOut,
    status_code=201,
    responses={400: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def create_connector(
    body: ConnectorIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> ConnectorOut:
    """Test the connection to every company, discover the lists, and store the connector.

    Needs the Contributor or Administrator role; a Contributor administers what it adds.
    """
    access.require(ADD_CONNECTORS, "Contributor")
    spec = ConnectorSpec(
        name=body.Name,
        type=body.Type,
        settings=ConnectionSettings(
            host=body.Settings.Host,
            port=body.Settings.Port,
            username=body.Settings.Username,
            password=body.Settings.Password,
        ),
        companies=tuple(
            CompanySpec(name=company.Name, database_name=company.DatabaseName)
            for company in body.Companies
        ),
    )
    connector = services.connectors.create(session, spec, actor_id=caller.principal_id)
    session.commit()
    return ConnectorOut.of(connector)


@router.get("/connector/{ConnectorId}", response_model=ConnectorOut)
def read_connector(
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> ConnectorOut:
    connector = visible_connector(services, session, access, ConnectorId)
    return visible_connector_out(access, connector)


@router.post("/connector/{ConnectorId}/refresh", response_model=RefreshOut)
def refresh_connector(
    ConnectorId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RefreshOut:
    """Rediscover the connector's tables and views (connector Administrator)."""
    connector = visible_connector(services, session, access, ConnectorId)
    if not access.administers_connector(connector.id):
        raise PermissionDeniedError(
            "The connector Administrator role is required", code="missing_role"
        )
    count = services.connectors.refresh(session, connector, actor_id=caller.principal_id)
    session.commit()
    return RefreshOut(ConnectorId=connector.id, Lists=count)


@router.get("/connector/{ConnectorId}/company", response_model=list[CompanyOut])
def list_companies(
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[CompanyOut]:
    connector = visible_connector(services, session, access, ConnectorId)
    return [
        CompanyOut.of(company)
        for company in connector.companies
        if access.sees_company(connector.id, company.id)
    ]


@router.get("/connector/{ConnectorId}/entity", response_model=list[EntityOut])
def list_connector_entities(
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[EntityOut]:
    connector = visible_connector(services, session, access, ConnectorId)
    entities = session.scalars(
        select(Entity)
        .where(Entity.connector_id == connector.id, Entity.missing.is_(False))
        .order_by(Entity.name)
    )
    return [
        EntityOut.of(entity) for entity in entities if access.sees_list(connector.id, entity.id)
    ]


@router.get("/connector/{ConnectorId}/entityGroup", response_model=list[EntityGroupOut])
def list_connector_groups(
    ConnectorId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[EntityGroupOut]:
    connector = visible_connector(services, session, access, ConnectorId)
    groups = session.scalars(
        select(EntityGroup)
        .where(EntityGroup.connector_id == connector.id)
        .order_by(EntityGroup.name)
    )
    return [EntityGroupOut.of(group) for group in groups]
