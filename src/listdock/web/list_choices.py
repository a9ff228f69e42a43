"""The "List and company" options of the forms that create an endpoint or a widget.

An option's value is ``"{entity_id}|{company_id}"``, which the create routes split at the
first ``|``. Its label is ``"{list name} — {company name}"``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from listdock.domain.models import Entity
from listdock.security.policy import Access
from listdock.services.connectors import ConnectorService


def visible_lists(session: Session, access: Access) -> list[Entity]:
    """Return every list the user may see, sorted by name."""
    entities = session.scalars(
        select(Entity).where(Entity.missing.is_(False)).order_by(Entity.name)
    )
    return [entity for entity in entities if access.sees_list(entity.connector_id, entity.id)]


def list_company_choices(
    connectors: ConnectorService, session: Session, access: Access
) -> list[tuple[str, str]]:
    """Return a ``(value, label)`` option for each visible list in each company the user may see.

    Options are sorted by list name, then in the order of the list's connector's companies.
    A list in a connector where the user may see no company gets no option.
    """
    choices = []
    for entity in visible_lists(session, access):
        connector = connectors.get(session, entity.connector_id)
        for company in connector.companies:
            if access.sees_company(connector.id, company.id):
                choices.append((f"{entity.id}|{company.id}", f"{entity.name} — {company.name}"))
    return choices
