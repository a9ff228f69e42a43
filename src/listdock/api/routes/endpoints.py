"""Named API endpoints: management under ``/endpoint`` and calls by name.

A call is ``GET /favorite/{EndpointName}?{parameter}=…`` (Popdock's path) or its alias
``GET /endpoint/{EndpointName}/data``. Calls authenticate on the ``endpoint`` surface, need
the ApiReader role and a grant on the endpoint's list and company, and answer like the list
data route (formats, paging, ``Link`` and ``X-Total-Count``).

Calls are on ``call_router``, which the app includes before the favorites router. Its
``/favorite/{EndpointName}`` never matches a UUID, so ``GET /favorite/{FavoriteId}`` still gets
those; endpoint names can never look like a UUID.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.convertors import StringConvertor, UUIDConvertor, register_url_convertor

from listdock.api.auth import require_not_widget_token
from listdock.api.data_reads import ReadContext, get_reads
from listdock.api.deps import AccessDep, ServicesDep, SessionDep, get_services
from listdock.api.direct_route import DirectRoute
from listdock.api.routes.data import DATA_RESPONSES, parse_bool, parse_int, parse_order, query_value
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_saved import (
    EndpointIn,
    EndpointOut,
    EndpointParameterIn,
    EndpointParameterOut,
    EndpointPatchIn,
)
from listdock.domain.models import Endpoint, EntityField
from listdock.security.roles import READ_API
from listdock.services.data import PreparedQuery
from listdock.services.endpoints import (
    EndpointPatch,
    EndpointSpec,
    Paging,
    ParameterSpec,
    is_reserved,
)

if TYPE_CHECKING:
    pass

router = APIRouter(tags=["endpoints"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


def parameter_specs(parameters: list[EndpointParameterIn]) -> tuple[ParameterSpec, ...]:
    return tuple(
        ParameterSpec(
            name=parameter.Name,
            entity_field_id=parameter.EntityFieldId,
            operator=parameter.Operator,
            required=parameter.Required,
            default=parameter.Default,
            fixed=parameter.Fixed,
        )
        for parameter in parameters
    )


def endpoint_out(
    session: Session, services: ServicesDep, endpoint: Endpoint, request: Request
) -> EndpointOut:
    field_ids = [parameter.entity_field_id for parameter in endpoint.parameters]
    fields = {
        field.id: field
        for field in session.scalars(select(EntityField).where(EntityField.id.in_(field_ids)))
    }
    url = str(request.base_url).rstrip("/") + f"/api/v2/favorite/{endpoint.name}"
    return EndpointOut.of(endpoint, services.endpoints.entity_id_of(session, endpoint), fields, url)


# Management ------------------------------------------------------------------------------


@router.get("/endpoint", response_model=list[EndpointOut])
def list_endpoints(
    request: Request, access: AccessDep, services: ServicesDep, session: SessionDep
) -> list[EndpointOut]:
    """List the endpoints over lists the caller can see."""
    return [
        endpoint_out(session, services, endpoint, request)
        for endpoint in services.endpoints.list_visible(session, access)
    ]


@router.post("/endpoint", response_model=EndpointOut, status_code=201, responses=ERRORS)
def create_endpoint(
    body: EndpointIn,
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> EndpointOut:
    """Create a named endpoint over a list or favorite in one company (Developer role)."""
    spec = EndpointSpec(
        name=body.Endpoint,
        entity_id=body.EntityId,
        favorite_id=body.FavoriteId,
        company_id=body.CompanyId,
        max_records=body.MaxRecords,
        parameters=parameter_specs(body.Parameters),
    )
    endpoint = services.endpoints.create(session, access, spec, actor_id=access.principal_id)
    session.commit()
    return endpoint_out(session, services, endpoint, request)


@router.get("/endpoint/{EndpointId}", response_model=EndpointOut, responses=ERRORS)
def read_endpoint(
    EndpointId: str,  # noqa: N803
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> EndpointOut:
    endpoint = services.endpoints.get_visible(session, access, EndpointId)
    return endpoint_out(session, services, endpoint, request)


@router.patch("/endpoint/{EndpointId}", response_model=EndpointOut, responses=ERRORS)
def update_endpoint(
    EndpointId: str,  # noqa: N803
    body: EndpointPatchIn,
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> EndpointOut:
    """Rename an endpoint or change its company, MaxRecords or parameters (all replaced)."""
    patch = EndpointPatch(
        name=body.Endpoint,
        company_id=body.CompanyId,
        max_records=body.MaxRecords,
        parameters=parameter_specs(body.Parameters) if body.Parameters is not None else None,
    )
    endpoint = services.endpoints.update(session, access, EndpointId, patch)
    session.commit()
    return endpoint_out(session, services, endpoint, request)


@router.delete("/endpoint/{EndpointId}", status_code=204, responses=ERRORS)
def delete_endpoint(
    EndpointId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    services.endpoints.delete(session, access, EndpointId)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/endpoint/{EndpointId}/parameters",
    response_model=list[EndpointParameterOut],
    responses=ERRORS,
)
def list_endpoint_parameters(
    EndpointId: str,  # noqa: N803
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[EndpointParameterOut]:
    endpoint = services.endpoints.get_visible(session, access, EndpointId)
    return endpoint_out(session, services, endpoint, request).Parameters


# Calls -----------------------------------------------------------------------------------


def plan_endpoint_call(name: str, context: ReadContext) -> PreparedQuery | None:
    """Authenticate, check rights, and prepare the endpoint's query for the query values.

    Reserved query names (token, format, MaxRecords, skip, orderby, count) set the format and
    paging; every other query value must be one of the endpoint's parameters. Returns None
    when ``context`` cannot serve it without waiting.
    """
    request = context.request
    caller = context.caller("endpoint")
    if caller is None:
        return None
    require_not_widget_token(caller)
    access = context.access(caller.principal_id)
    if access is None:
        return None
    access.require(READ_API, "ApiReader")

    found = context.endpoint(name)
    if found is None:
        return None
    endpoint, target = found
    access.require_list_data(target.entity.connector_id, target.entity.id, target.company_id)

    paging = Paging(
        skip=parse_int("skip", query_value(request, "skip")) or 0,
        max_records=parse_int("MaxRecords", query_value(request, "MaxRecords")),
        order_by=parse_order(query_value(request, "orderby")),
        format=(query_value(request, "format") or "json").strip().lower(),
        count=parse_bool("count", query_value(request, "count")),
    )
    arguments = [
        (key, value) for key, value in request.query_params.multi_items() if not is_reserved(key)
    ]
    endpoints = get_services(request).endpoints
    data_request = endpoints.build_request(endpoint, target, arguments, paging)
    return context.prepare(data_request, access)


async def call_endpoint_by_favorite_path(EndpointName: str, request: Request) -> Response:  # noqa: N803
    """Call a named endpoint (name matched case-insensitively) with its parameters."""
    return await get_reads(request).serve(request, partial(plan_endpoint_call, EndpointName))


async def call_endpoint_data(EndpointName: str, request: Request) -> Response:  # noqa: N803
    """Call a named endpoint; the same as ``GET /favorite/{EndpointName}``."""
    return await get_reads(request).serve(request, partial(plan_endpoint_call, EndpointName))


class EndpointNameConvertor(StringConvertor):
    """A path segment that is not a UUID: favorite ids are UUIDs, endpoint names never are."""

    regex = f"(?!{UUIDConvertor.regex}$)[^/]+"


register_url_convertor("endpoint_name", EndpointNameConvertor())

# Calls have a router of their own, included before the favorites router: the busiest routes
# are then tried first, and a UUID still reaches GET /favorite/{FavoriteId}.
call_router = APIRouter(tags=["endpoints"])
for path, endpoint in (
    ("/favorite/{EndpointName:endpoint_name}", call_endpoint_by_favorite_path),
    ("/endpoint/{EndpointName}/data", call_endpoint_data),
):
    call_router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        responses=DATA_RESPONSES,
        response_class=Response,
        route_class_override=DirectRoute,
    )
