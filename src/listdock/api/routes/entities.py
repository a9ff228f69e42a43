"""Lists (entities), their groups and fields."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from listdock.api.deps import AccessDep, ServicesDep, SessionDep
from listdock.api.schemas import EntityGroupOut, EntityOut, FieldOut
from listdock.domain.models import Entity, EntityGroup
from listdock.errors import NotFoundError
from listdock.security.policy import Access

router = APIRouter(tags=["lists"])


@router.get("/entity", response_model=list[EntityOut])
def list_entities(access: AccessDep, session: SessionDep) -> list[EntityOut]:
    """List every list the caller may see, in every connector."""
    entities = session.scalars(
        select(Entity).where(Entity.missing.is_(False)).order_by(Entity.name, Entity.id)
    )
    return [
        EntityOut.of(entity)
        for entity in entities
        if access.sees_list(entity.connector_id, entity.id)
    ]


@router.get("/entityGroup", response_model=list[EntityGroupOut])
def list_entity_groups(access: AccessDep, session: SessionDep) -> list[EntityGroupOut]:
    groups = session.scalars(select(EntityGroup).order_by(EntityGroup.name, EntityGroup.id))
    return [
        EntityGroupOut.of(group) for group in groups if access.sees_connector(group.connector_id)
    ]


def visible_entity(
    services: ServicesDep, session: SessionDep, access: Access, entity_id: str
) -> Entity:
    """Return the list, or raise NotFoundError when the caller may not see it."""
    entity = services.data.load_entity(session, entity_id)
    if not access.sees_list(entity.connector_id, entity.id):
        raise NotFoundError("List not found", code="entity_not_found")
    return entity


@router.get("/entity/{EntityId}", response_model=EntityOut)
def read_entity(
    EntityId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> EntityOut:
    return EntityOut.of(visible_entity(services, session, access, EntityId))


@router.get("/entity/{EntityId}/field", response_model=list[FieldOut])
def list_fields(
    EntityId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[FieldOut]:
    """List the visible fields of a list; hidden fields are never shown through the API."""
    entity = visible_entity(services, session, access, EntityId)
    return [FieldOut.of(field) for field in services.data.visible_fields(entity)]


@router.get("/entity/{EntityId}/default-field", response_model=list[FieldOut])
def list_default_fields(
    EntityId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[FieldOut]:
    entity = visible_entity(services, session, access, EntityId)
    return [
        FieldOut.of(field) for field in services.data.visible_fields(entity) if field.default_field
    ]
