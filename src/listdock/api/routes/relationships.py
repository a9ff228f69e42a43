"""Details (relationships) between lists, and the related rows of one record."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from listdock.api.data_response import data_response
from listdock.api.deps import AccessDep, ServicesDep, SessionDep
from listdock.api.routes.data import (
    DATA_RESPONSES,
    parse_bool,
    parse_fields,
    parse_int,
    parse_order,
    query_value,
)
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_saved import RelationshipIn, RelationshipOut
from listdock.security.roles import READ_API
from listdock.services.data import DataRequest
from listdock.services.relationships import FieldPair, RelationshipSpec

router = APIRouter(tags=["details"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}
RESERVED_QUERY_NAMES = (
    "token",
    "company",
    "format",
    "MaxRecords",
    "skip",
    "orderby",
    "count",
    "fields",
)


@router.get("/entity/{EntityId}/relationship", response_model=list[RelationshipOut])
def list_relationships(
    EntityId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[RelationshipOut]:
    """List the details of a list that the caller is granted."""
    return [
        RelationshipOut.of(relationship)
        for relationship in services.relationships.list_for_entity(session, access, EntityId)
    ]


@router.post(
    "/entity/{EntityId}/relationship",
    response_model=RelationshipOut,
    status_code=201,
    responses=ERRORS,
)
def create_relationship(
    EntityId: str,  # noqa: N803
    body: RelationshipIn,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RelationshipOut:
    """Add a detail to another list of the connector (connector Administrator)."""
    spec = RelationshipSpec(
        name=body.Name,
        to_entity_id=body.ToEntityId,
        fields=tuple(
            FieldPair(pair.FromEntityFieldId, pair.ToEntityFieldId) for pair in body.Fields
        ),
    )
    relationship = services.relationships.create(session, access, EntityId, spec)
    session.commit()
    return RelationshipOut.of(relationship)


@router.get("/relationship/{RelationshipId}", response_model=RelationshipOut, responses=ERRORS)
def read_relationship(
    RelationshipId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> RelationshipOut:
    return RelationshipOut.of(services.relationships.get_visible(session, access, RelationshipId))


@router.delete("/relationship/{RelationshipId}", status_code=204, responses=ERRORS)
def delete_relationship(
    RelationshipId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    services.relationships.delete(session, access, RelationshipId)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/relationship/{RelationshipId}/data", responses=DATA_RESPONSES, response_class=Response
)
def read_relationship_data(
    RelationshipId: str,  # noqa: N803
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Return the target list's rows related to one source record.

    The record is given by its key values as query parameters named by the from-fields'
    ApiNames; ``company``, ``format``, ``MaxRecords``, ``skip``, ``orderby``, ``fields`` and
    ``count`` work as on the list data route.
    """
    access.require(READ_API, "ApiReader")
    relationship = services.relationships.get_visible(session, access, RelationshipId)
    keys = services.relationships.key_fields(session, relationship)
    reserved = {name.casefold() for name in RESERVED_QUERY_NAMES}
    arguments = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key.casefold() not in reserved
    ]
    data_request = DataRequest(
        entity_id=relationship.to_entity_id,
        company_id=query_value(request, "company"),
        fields=parse_fields(query_value(request, "fields")),
        restrictions=services.relationships.restrictions(keys, arguments),
        order_by=parse_order(query_value(request, "orderby")),
        skip=parse_int("skip", query_value(request, "skip")) or 0,
        max_records=parse_int("MaxRecords", query_value(request, "MaxRecords")),
        format=(query_value(request, "format") or "json").strip().lower(),
        count=parse_bool("count", query_value(request, "count")),
    )
    prepared = services.data.prepare(session, data_request, access)
    session.close()
    return data_response(prepared, request.url)
