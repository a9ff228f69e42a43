"""List data: ``GET /entity/{EntityId}/data`` and ``POST /query``."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from listdock.api.auth import require_not_widget_token
from listdock.api.data_reads import ReadContext, get_reads
from listdock.api.data_response import data_response
from listdock.api.deps import AccessDep, ServicesDep, SessionDep
from listdock.api.direct_route import DirectRoute
from listdock.api.schemas import ErrorOut, QueryIn
from listdock.errors import InvalidInputError
from listdock.security.roles import READ_API
from listdock.services.data import (
    DataRequest,
    FieldRef,
    OrderSpec,
    PreparedQuery,
    RestrictionSpec,
)

router = APIRouter(tags=["data"])

DATA_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Rows in the requested format",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/csv": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    },
    400: {"model": ErrorOut},
    404: {"model": ErrorOut},
    502: {"model": ErrorOut},
    504: {"model": ErrorOut},
}


def query_value(request: Request, name: str) -> str | None:
    """Return the query parameter ``name`` matched case-insensitively, or None.

    When a name is given more than once, the first value counts.
    """
    return lowered_query(request).get(name.lower())


def lowered_query(request: Request) -> dict[str, str]:
    """Return the request's query parameters by lowercased name, the first value of each.

    Built once per request and kept in the request's scope.
    """
    found: dict[str, str] | None = request.scope.get("listdock.lowered_query")
    if found is None:
        found = {}
        for key, value in request.query_params.multi_items():
            found.setdefault(key.lower(), value)
        request.scope["listdock.lowered_query"] = found
    return found


# Error codes of the integer query parameters, the same as for their out-of-range values.
INTEGER_CODES = {"MaxRecords": "invalid_max_records", "skip": "invalid_skip"}


def parse_int(name: str, raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw.strip())
    except ValueError:
        code = INTEGER_CODES.get(name, f"invalid_{name.lower()}")
        raise InvalidInputError(f"{name} must be an integer", code=code) from None


def parse_bool(name: str, raw: str | None) -> bool:
    if raw is None or raw.strip() == "":
        return False
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidInputError(f"{name} must be true or false", code=f"invalid_{name.lower()}")


def parse_order(raw: str | None) -> tuple[OrderSpec, ...]:
    """Parse ``orderby``: comma-separated ApiNames, each optionally followed by asc or desc."""
    if raw is None or not raw.strip():
        return ()
    terms = []
    for term in raw.split(","):
        words = term.split()
        if (
            not words
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise InvalidInputError(
                "orderby must be ApiName, optionally followed by asc or desc",
                code="invalid_orderby",
            )
        descending = len(words) == 2 and words[1].lower() == "desc"
        terms.append(OrderSpec(field=FieldRef(words[0]), descending=descending))
    return tuple(terms)


def parse_fields(raw: str | None) -> tuple[FieldRef, ...]:
    if raw is None or not raw.strip():
        return ()
    names = [name.strip() for name in raw.split(",")]
    if any(not name for name in names):
        raise InvalidInputError("fields must be comma-separated ApiNames", code="invalid_fields")
    return tuple(FieldRef(name) for name in names)


async def read_entity_data(EntityId: str, request: Request) -> Response:  # noqa: N803
    """Return a page of a list's rows (default fields unless ``fields`` names others).

    Query parameters: ``company``, ``format`` (json, csv, xml, xlsx), ``MaxRecords``, ``skip``,
    ``orderby`` (ApiName, optionally `` desc``), ``fields`` (comma-separated ApiNames) and
    ``count`` (adds ``X-Total-Count``). The caller needs the ApiReader role and a grant on the
    list and company.
    """
    return await get_reads(request).serve(request, partial(plan_entity_read, EntityId))


router.add_api_route(
    "/entity/{EntityId}/data",
    read_entity_data,
    methods=["GET"],
    responses=DATA_RESPONSES,
    response_class=Response,
    route_class_override=DirectRoute,
)


def plan_entity_read(entity_id: str, context: ReadContext) -> PreparedQuery | None:
    """Prepare a list data request; None when ``context`` cannot serve it without waiting."""
    request = context.request
    caller = context.caller("api")
    if caller is None:
        return None
    require_not_widget_token(caller)
    data_request = DataRequest(
        entity_id=entity_id,
        company_id=query_value(request, "company"),
        fields=parse_fields(query_value(request, "fields")),
        order_by=parse_order(query_value(request, "orderby")),
        skip=parse_int("skip", query_value(request, "skip")) or 0,
        max_records=parse_int("MaxRecords", query_value(request, "MaxRecords")),
        format=(query_value(request, "format") or "json").strip().lower(),
        count=parse_bool("count", query_value(request, "count")),
        variables=tuple(request.query_params.multi_items()),
    )
    access = context.access(caller.principal_id)
    if access is None:
        return None
    access.require(READ_API, "ApiReader")
    return context.prepare(data_request, access)


@router.post("/query", responses=DATA_RESPONSES, response_class=Response)
def run_query(
    body: QueryIn,
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Return rows of one list chosen by field ids, with restrictions and ordering."""
    spec = body.Query
    data_request = DataRequest(
        entity_id=body.Id,
        company_id=spec.Companies[0].CompanyId if spec.Companies else None,
        fields=tuple(FieldRef(field.EntityFieldId, by_id=True) for field in spec.Fields),
        restrictions=tuple(
            RestrictionSpec(
                field=FieldRef(restriction.EntityFieldId, by_id=True),
                operator=restriction.Operator,
                value=restriction.Value,
            )
            for restriction in spec.Restrictions
        ),
        order_by=tuple(
            OrderSpec(field=FieldRef(order.EntityFieldId, by_id=True), descending=order.Descending)
            for order in spec.OrderBy
        ),
        skip=spec.Skip,
        max_records=spec.MaxRecords,
        format=body.Format.strip().lower(),
        count=spec.Count or parse_bool("count", query_value(request, "count")),
    )
    access.require(READ_API, "ApiReader")
    prepared = services.data.prepare(session, data_request, access)
    session.close()
    # A POST body cannot be paged by a URL, so no Link header here.
    return data_response(prepared, None)
