"""The connector grant forms of the user and team pages.

A form has checkboxes for connector roles, companies and lists, but only an "All details" and an
"All actions" box for details and actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form
from sqlalchemy import select
from sqlalchemy.orm import Session

from listdock.domain.models import Connector, ConnectorGrant, Entity
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
    are the lists found by the last refresh.
    """

    connector: Connector
    grant: ConnectorGrant | None
    form: GrantSpec
    lists: list[Entity]


def submitted_spec(form: GrantForm) -> GrantSpec:
    """Return the grant that a submitted form requests."""
    return GrantSpec(
        roles=form.roles,
        companies="all" if form.companies_all else sorted(set(form.companies)),
        lists="all" if form.lists_all else sorted(set(form.lists)),
        details="all" if form.details_all else [],
        actions="all" if form.actions_all else [],
    )


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
                lists=_form_lists(session, connector.id),
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


def _form_lists(session: Session, connector_id: str) -> list[Entity]:
    statement = (
        select(Entity)
        .where(Entity.connector_id == connector_id, Entity.missing.is_(False))
        .order_by(Entity.name)
    )
    return list(session.scalars(statement))


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
