"""``listdock endpoint``: create, list and delete named API endpoints from the command line.

The CLI acts as the operator of the store, with Administrator rights; endpoints it creates
have no ``CreatedBy``.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from listdock.cli import fail, load_services, user_errors
from listdock.domain.models import Company, Entity
from listdock.errors import InvalidInputError, NotFoundError
from listdock.security.policy import Access
from listdock.services.endpoints import ENDPOINT_OPERATORS, EndpointSpec, ParameterSpec

logger = logging.getLogger(__name__)

endpoint_app = typer.Typer(
    help="Create, list and delete named API endpoints.", no_args_is_help=True
)


def operator_access() -> Access:
    """Return the rights of the local operator: everything, like an Administrator."""
    return Access(
        principal_id="",
        system_roles={"Administrator"},
        system_permissions=set(),
        team_ids=set(),
        connectors={},
        created_connectors=set(),
    )


def find_list(session: Session, name_or_id: str) -> Entity:
    """Return the list with this id, or else the only list with this name (any case)."""
    entity = session.get(Entity, name_or_id)
    if entity is not None and not entity.missing:
        return entity
    matches = list(
        session.scalars(
            select(Entity).where(
                func.lower(Entity.name) == name_or_id.lower(), Entity.missing.is_(False)
            )
        )
    )
    if not matches:
        raise NotFoundError(f"No list is named {name_or_id!r}")
    if len(matches) > 1:
        raise InvalidInputError(f"Several lists are named {name_or_id!r}; give the list id")
    return matches[0]


def find_company(session: Session, entity: Entity, name_or_id: str) -> Company:
    """Return the company of the list's connector with this id or name (any case)."""
    company = session.scalar(
        select(Company).where(
            Company.connector_id == entity.connector_id,
            or_(Company.id == name_or_id, Company.name_normalized == name_or_id.casefold()),
        )
    )
    if company is None:
        raise NotFoundError(f"The list's connector has no company {name_or_id!r}")
    return company


def parse_parameter(text: str, entity: Entity) -> ParameterSpec:
    """Parse ``NAME:ApiName[:operator][:required]`` against the list's visible fields."""
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 4:
        raise InvalidInputError(
            f"--param {text!r} must look like NAME:ApiName[:operator][:required]"
        )
    name, api_name = parts[0], parts[1]
    operator = parts[2] if len(parts) > 2 and parts[2] else "eq"
    required = len(parts) == 4 and parts[3].lower() in ("required", "true", "yes")
    if len(parts) == 4 and not required and parts[3].lower() not in ("optional", "false", "no"):
        raise InvalidInputError(f"--param {text!r}: the last part must be required or optional")
    if operator not in ENDPOINT_OPERATORS:
        raise InvalidInputError(
            f"--param {text!r}: unknown operator {operator!r}; "
            f"use one of {', '.join(ENDPOINT_OPERATORS)}"
        )
    for field in entity.fields:
        if field.api_name.casefold() == api_name.casefold() and not field.hidden:
            return ParameterSpec(
                name=name, entity_field_id=field.id, operator=operator, required=required
            )
    raise InvalidInputError(f"--param {text!r}: the list has no visible field {api_name!r}")


@endpoint_app.command("create")
@user_errors
def endpoint_create(
    name: Annotated[str, typer.Argument(help="Endpoint name: 1 to 64 of A-Za-z0-9_-.")],
    list_name: Annotated[str, typer.Option("--list", help="Name or id of the list.")],
    company: Annotated[str, typer.Option(help="Name or id of the company.")],
    param: Annotated[
        list[str] | None,
        typer.Option(help="A parameter as NAME:ApiName[:operator][:required]; repeatable."),
    ] = None,
    max_records: Annotated[
        int | None, typer.Option(help="Default and maximum rows per call.")
    ] = None,
) -> None:
    """Create a named endpoint over one list in one company."""
    services = load_services()
    try:
        with services.sessions.begin() as session:
            entity = find_list(session, list_name)
            spec = EndpointSpec(
                name=name,
                entity_id=entity.id,
                company_id=find_company(session, entity, company).id,
                max_records=max_records,
                parameters=tuple(parse_parameter(item, entity) for item in param or []),
            )
            endpoint = services.endpoints.create(session, operator_access(), spec, actor_id=None)
            endpoint_id = endpoint.id
        typer.echo(f"Created endpoint {name} ({endpoint_id}): GET /api/v2/favorite/{name}")
    finally:
        services.close()


@endpoint_app.command("list")
@user_errors
def endpoint_list() -> None:
    """Print every endpoint: name, id, list and parameters."""
    services = load_services()
    try:
        with services.sessions() as session:
            endpoints = services.endpoints.list_visible(session, operator_access())
            if not endpoints:
                typer.echo("No endpoints yet. Create one with `listdock endpoint create`.")
                return
            for endpoint in endpoints:
                entity_id = services.endpoints.entity_id_of(session, endpoint)
                entity = session.get(Entity, entity_id) if entity_id else None
                parameters = ", ".join(
                    f"{parameter.name} ({parameter.operator})" for parameter in endpoint.parameters
                )
                typer.echo(
                    f"{endpoint.name}\t{endpoint.id}\t{entity.name if entity else '(missing)'}"
                    f"\t{parameters or '-'}"
                )
    finally:
        services.close()


@endpoint_app.command("delete")
@user_errors
def endpoint_delete(
    name: Annotated[str, typer.Argument(help="Name of the endpoint (any case).")],
) -> None:
    """Delete a named endpoint."""
    services = load_services()
    try:
        with services.sessions.begin() as session:
            endpoint = services.endpoints.find_by_name(session, name)
            services.endpoints.delete(session, operator_access(), endpoint.id)
        typer.echo(f"Deleted endpoint {endpoint.name}.")
    except NotFoundError:
        raise fail(f"Error: no endpoint is named {name!r}. See `listdock endpoint list`.") from None
    finally:
        services.close()
