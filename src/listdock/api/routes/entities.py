"""Lists (entities), their groups and fields."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from listdock.api.deps import CallerDep, ServicesDep, SessionDep
from listdock.api.schemas import EntityGroupOut, EntityOut, FieldOut
from listdock.domain.models import Entity, EntityGroup

router = APIRouter(tags=["lists"])


@router.get("/entity", response_model=list[EntityOut])
def list_entities(caller: CallerDep, session: SessionDep) -> list[EntityOut]:
    entities = session.scalars(
        select(Entity).where(Entity.missing.is_(False)).order_by(Entity.name, Entity.id)
    )
    return [EntityOut.of(entity) for entity in entities]


@router.get("/entityGroup", response_model=list[EntityGroupOut])
def list_entity_groups(caller: CallerDep, session: SessionDep) -> list[EntityGroupOut]:
    groups = session.scalars(select(EntityGroup).order_by(EntityGroup.name, EntityGroup.id))
    return [EntityGroupOut.of(group) for group in groups]


@router.get("/entity/{EntityId}", response_model=EntityOut)
def read_entity(
    EntityId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> EntityOut:
    return EntityOut.of(services.data.load_entity(session, EntityId))


@router.get("/entity/{EntityId}/field", response_model=list[FieldOut])
def list_fields(
    EntityId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> list[FieldOut]:
    """List the visible fields of a list; hidden fields are never shown through the API."""
    entity = services.data.load_entity(session, EntityId)
    return [FieldOut.of(field) for field in services.data.visible_fields(entity)]


@router.get("/entity/{EntityId}/default-field", response_model=list[FieldOut])
def list_default_fields(
    EntityId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> list[FieldOut]:
    entity = services.data.load_entity(session, EntityId)
    return [
        FieldOut.of(field) for field in services.data.visible_fields(entity) if field.default_field
    ]
