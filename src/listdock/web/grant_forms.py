"""The connector grant forms of the user and team pages.

A form has checkboxes for connector roles, companies and lists, but only an "All details" and an
"All actions" box for details and actions. Specific detail and action ids, which only the REST
API sets, are therefore kept from the stored grant when their box is unticked, and the form
names them. A list that the last refresh did not find keeps its checkbox while the grant names
it, so saving the form never drops a part of the grant that the reader could not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from listdock.domain.models import Action, Connector, ConnectorGrant, Entity, EntityRelationship
from listdock.errors import InvalidInputError
from listdock.services.grants import GrantService, GrantSpec, UnknownGrantTargetError

# The subject of the web message for an unknown id, by grant part.
UNKNOWN_TARGET_SUBJECTS = {
    "companies": "A company you ticked",
    "lists": "A list you ticked",
    "details": "A detail in this grant",
    "actions": "An action in this grant",
}


@dataclass(frozen=True)
class GrantForm:
    """The boxes ticked on one connector's grant form, and its Remove grant button."""

    roles: list[str]
    companies_all: bool
    companies: list[str]
    lists_all: bool
    lists: list[str]
    details_all: bool
    actions_all: bool
    remove: bool


def read_grant_form(
    connector_roles: Annotated[list[str] | None, Form()] = None,
    companies_all: Annotated[str | None, Form()] = None,
    companies: Annotated[list[str] | None, Form()] = None,
    lists_all: Annotated[str | None, Form()] = None,
    lists: Annotated[list[str] | None, Form()] = None,
    details_all: Annotated[str | None, Form()] = None,
    actions_all: Annotated[str | None, Form()] = None,
    remove: Annotated[str | None, Form()] = None,
) -> GrantForm:
    return GrantForm(
        roles=connector_roles or [],
        companies_all=bool(companies_all),
        companies=companies or [],
        lists_all=bool(lists_all),
        lists=lists or [],
        details_all=bool(details_all),
        actions_all=bool(actions_all),
        remove=bool(remove),
    )


GrantFormDep = Annotated[GrantForm, Depends(read_grant_form)]


@dataclass(frozen=True)
class GrantRow:
    """One connector's grant form: what it shows ticked and the choices it offers.

    ``form`` is the stored grant, or the rejected submission after a failed save. ``lists``
    are the lists found by the last refresh plus any other list that ``form`` names.
    ``specific_details`` and ``specific_actions`` label the ids that ``form`` grants one by one.
    """

    connector: Connector
    grant: ConnectorGrant | None
    form: GrantSpec
    lists: list[Entity]
    specific_details: list[str]
    specific_actions: list[str]


def submitted_spec(
    grants: GrantService,
    session: Session,
    connector_id: str,
    stored: ConnectorGrant | None,
    form: GrantForm,
) -> GrantSpec:
    """Return the grant that a submitted form requests.

    An unticked All details or All actions box keeps the specific ids of the stored grant that
    still exist, and grants none when the stored part was ``"all"``.
    """
    return GrantSpec(
        roles=form.roles,
        companies="all" if form.companies_all else sorted(set(form.companies)),
        lists="all" if form.lists_all else sorted(set(form.lists)),
        details=_kept_part(grants, session, connector_id, stored, "details", form.details_all),
        actions=_kept_part(grants, session, connector_id, stored, "actions", form.actions_all),
    )


def _kept_part(
    grants: GrantService,
    session: Session,
    connector_id: str,
    stored: ConnectorGrant | None,
    part: str,
    all_ticked: bool,
) -> Any:
    if all_ticked:
        return "all"
    current = getattr(stored, part) if stored is not None else []
    if not isinstance(current, list):
        return []
    # An id whose object was deleted before deletions cleaned grants would make put() reject
    # every later save of this form, and it grants nothing, so it is dropped here.
    return grants.existing_ids(session, connector_id, part, current)


def grant_rows(
    grants: GrantService,
    session: Session,
    connectors: list[Connector],
    *,
    principal_id: str | None = None,
    team_id: str | None = None,
    rejected: tuple[str, GrantSpec] | None = None,
) -> list[GrantRow]:
    """Return the grant form of a principal or a team for each of ``connectors``.

    ``rejected`` is the connector id and the spec of a save that failed, which that connector's
    form shows in place of the stored grant.
    """
    rows = []
    for connector in connectors:
        grant = grants.find(session, connector.id, principal_id=principal_id, team_id=team_id)
        if rejected is not None and rejected[0] == connector.id:
            form = rejected[1]
        else:
            form = stored_spec(grant)
        rows.append(
            GrantRow(
                connector=connector,
                grant=grant,
                form=form,
                lists=_form_lists(session, connector.id, form.lists),
                specific_details=_detail_labels(session, form.details),
                specific_actions=_action_labels(session, form.actions),
            )
        )
    return rows


def stored_spec(grant: ConnectorGrant | None) -> GrantSpec:
    """Return the parts of a stored grant, with every part empty when there is no grant."""
    if grant is None:
        return GrantSpec(roles=[], companies=[], lists=[], details=[], actions=[])
    return GrantSpec(
        roles=list(grant.roles or []),
        companies=grant.companies,
        lists=grant.lists,
        details=grant.details,
        actions=grant.actions,
    )


def _form_lists(session: Session, connector_id: str, granted: Any) -> list[Entity]:
    named = granted if isinstance(granted, list) else []
    statement = (
        select(Entity)
        .where(
            Entity.connector_id == connector_id,
            or_(Entity.missing.is_(False), Entity.id.in_(named)),
        )
        .order_by(Entity.name)
    )
    return list(session.scalars(statement))


def _detail_labels(session: Session, granted: Any) -> list[str]:
    """Return "source list › detail" for each detail id in ``granted`` that still exists."""
    if not isinstance(granted, list) or not granted:
        return []
    statement = (
        select(Entity.name, EntityRelationship.name)
        .join(Entity, Entity.id == EntityRelationship.from_entity_id)
        .where(EntityRelationship.id.in_(granted))
    )
    return sorted(f"{list_name} › {name}" for list_name, name in session.execute(statement))


def _action_labels(session: Session, granted: Any) -> list[str]:
    """Return "list › action" for each action id in ``granted`` that still exists."""
    if not isinstance(granted, list) or not granted:
        return []
    statement = (
        select(Entity.name, Action.name)
        .join(Entity, Entity.id == Action.entity_id)
        .where(Action.id.in_(granted))
    )
    return sorted(f"{list_name} › {name}" for list_name, name in session.execute(statement))


def grant_error_message(error: InvalidInputError, connector: Connector) -> str:
    """Return the web message for a grant that ``GrantService.put`` rejected."""
    if isinstance(error, UnknownGrantTargetError) and error.part == "roles":
        return (
            f"The connector role {error.value} no longer exists, so the grant in "
            f"{connector.name} was not saved. Choose from the roles shown and save again."
        )
    if isinstance(error, UnknownGrantTargetError) and error.part in UNKNOWN_TARGET_SUBJECTS:
        subject = UNKNOWN_TARGET_SUBJECTS[error.part]
        return (
            f"{subject} no longer exists in {connector.name}, so the grant was not saved. It "
            "may have been deleted after the page loaded. Check the grant below and save again."
        )
    return (
        f"{error.message.rstrip('.')}, so the grant in {connector.name} was not saved. "
        "Correct it and save again."
    )
