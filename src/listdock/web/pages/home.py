"""The home page: the connectors and lists the signed-in user may see."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from listdock.domain.models import Entity, EntityGroup
from listdock.security.roles import ADD_CONNECTORS
from listdock.web.deps import AccessDep, ServicesDep, SessionDep, UserDep

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    groups = {group.id: group.name for group in session.scalars(select(EntityGroup))}
    connectors = []
    for connector in services.connectors.list_all(session):
        if not access.sees_connector(connector.id):
            continue
        by_group: dict[str, list[Entity]] = defaultdict(list)
        entities = session.scalars(
            select(Entity)
            .where(Entity.connector_id == connector.id, Entity.missing.is_(False))
            .order_by(Entity.name)
        )
        for entity in entities:
            if access.sees_list(connector.id, entity.id):
                by_group[groups.get(entity.group_id or "", "Custom lists")].append(entity)
        connectors.append((connector, sorted(by_group.items())))
    return services.pages.render(
        request,
        "pages/home.html",
        {"connectors": connectors, "can_add_connector": access.has(ADD_CONNECTORS)},
        user=user,
    )
