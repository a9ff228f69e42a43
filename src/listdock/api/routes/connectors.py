"""Connectors, their companies, groups and lists."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from listdock.api.deps import CallerDep, ServicesDep, SessionDep
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
from listdock.domain.models import Entity, EntityGroup
from listdock.services.connectors import CompanySpec, ConnectorSpec

router = APIRouter(tags=["connectors"])


@router.get("/connector", response_model=list[ConnectorOut])
def list_connectors(
    caller: CallerDep, services: ServicesDep, session: SessionDep
) -> list[ConnectorOut]:
    return [ConnectorOut.of(connector) for connector in services.connectors.list_all(session)]


@router.post(
    "/connector",
    response_model=ConnectorOut,
    status_code=201,
    responses={400: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def create_connector(
    body: ConnectorIn, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> ConnectorOut:
    """Test the connection to every company, discover the lists, and store the connector."""
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
    ConnectorId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> ConnectorOut:
    return ConnectorOut.of(services.connectors.get(session, ConnectorId))


@router.post("/connector/{ConnectorId}/refresh", response_model=RefreshOut)
def refresh_connector(
    ConnectorId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> RefreshOut:
    """Rediscover the connector's tables and views."""
    connector = services.connectors.get(session, ConnectorId)
    count = services.connectors.refresh(session, connector, actor_id=caller.principal_id)
    session.commit()
    return RefreshOut(ConnectorId=connector.id, Lists=count)


@router.get("/connector/{ConnectorId}/company", response_model=list[CompanyOut])
def list_companies(
    ConnectorId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> list[CompanyOut]:
    connector = services.connectors.get(session, ConnectorId)
    return [CompanyOut.of(company) for company in connector.companies]


@router.get("/connector/{ConnectorId}/entity", response_model=list[EntityOut])
def list_connector_entities(
    ConnectorId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> list[EntityOut]:
    connector = services.connectors.get(session, ConnectorId)
    entities = session.scalars(
        select(Entity)
        .where(Entity.connector_id == connector.id, Entity.missing.is_(False))
        .order_by(Entity.name)
    )
    return [EntityOut.of(entity) for entity in entities]


@router.get("/connector/{ConnectorId}/entityGroup", response_model=list[EntityGroupOut])
def list_connector_groups(
    ConnectorId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> list[EntityGroupOut]:
    connector = services.connectors.get(session, ConnectorId)
    groups = session.scalars(
        select(EntityGroup)
        .where(EntityGroup.connector_id == connector.id)
        .order_by(EntityGroup.name)
    )
    return [EntityGroupOut.of(group) for group in groups]
