"""Favorites: saved views of a list, and their data.

``GET /favorite/{FavoriteId}`` only matches a UUID, so that ``GET /favorite/{EndpointName}``
(a named endpoint call, in the endpoints router) receives every other name. This router must
be included before the endpoints router.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from listdock.api.data_response import data_response
from listdock.api.deps import AccessDep, ServicesDep, SessionDep
from listdock.api.routes.data import DATA_RESPONSES, parse_bool, parse_int, query_value
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_saved import (
    FavoriteIn,
    FavoriteOut,
    FavoritePatchIn,
    OrderIn,
    RestrictionIn,
)
from listdock.domain.models import Favorite
from listdock.errors import InvalidInputError
from listdock.security.roles import READ_API
from listdock.services.data import DataRequest
from listdock.services.favorites import FavoritePatch, FavoriteSpec, OrderInput, RestrictionInput

router = APIRouter(tags=["favorites"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}
DATA_QUERY_NAMES = ("token", "company", "format", "MaxRecords", "skip", "count")


def restriction_inputs(items: list[RestrictionIn]) -> tuple[RestrictionInput, ...]:
    return tuple(RestrictionInput(item.EntityFieldId, item.Operator, item.Value) for item in items)


def order_inputs(items: list[OrderIn]) -> tuple[OrderInput, ...]:
    return tuple(OrderInput(item.EntityFieldId, item.Descending) for item in items)


def favorite_out(session: Session, services: ServicesDep, favorite: Favorite) -> FavoriteOut:
    return FavoriteOut.of(favorite, services.favorites.team_ids(session, favorite.id))


@router.get("/favorite", response_model=list[FavoriteOut])
def list_favorites(
    access: AccessDep, services: ServicesDep, session: SessionDep
) -> list[FavoriteOut]:
    """List the caller's favorites and those shared with the caller's teams."""
    return [
        favorite_out(session, services, favorite)
        for favorite in services.favorites.list_visible(session, access)
    ]


@router.get("/entity/{EntityId}/favorite", response_model=list[FavoriteOut])
def list_entity_favorites(
    EntityId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[FavoriteOut]:
    return [
        favorite_out(session, services, favorite)
        for favorite in services.favorites.list_visible(session, access, EntityId)
    ]


@router.post("/favorite", response_model=FavoriteOut, status_code=201, responses=ERRORS)
def create_favorite(
    body: FavoriteIn, access: AccessDep, services: ServicesDep, session: SessionDep
) -> FavoriteOut:
    """Save a favorite owned by the caller; sharing with Teams needs the Developer role."""
    spec = FavoriteSpec(
        name=body.Name,
        entity_id=body.EntityId,
        company_id=body.CompanyId,
        fields=tuple(body.Fields),
        restrictions=restriction_inputs(body.Restrictions),
        order_by=order_inputs(body.OrderBy),
        max_records=body.MaxRecords,
        teams=tuple(body.Teams),
    )
    favorite = services.favorites.create(session, access, spec)
    session.commit()
    return favorite_out(session, services, favorite)


@router.get("/favorite/{FavoriteId:uuid}", response_model=FavoriteOut, responses=ERRORS)
def read_favorite(
    FavoriteId: uuid.UUID,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> FavoriteOut:
    favorite = services.favorites.get_visible(session, access, str(FavoriteId))
    return favorite_out(session, services, favorite)


@router.patch("/favorite/{FavoriteId}", response_model=FavoriteOut, responses=ERRORS)
def update_favorite(
    FavoriteId: str,  # noqa: N803
    body: FavoritePatchIn,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> FavoriteOut:
    """Change a favorite (owner or Administrator); lists given replace the stored ones."""
    patch = FavoritePatch(
        name=body.Name,
        company_id=body.CompanyId,
        fields=tuple(body.Fields) if body.Fields is not None else None,
        restrictions=(
            restriction_inputs(body.Restrictions) if body.Restrictions is not None else None
        ),
        order_by=order_inputs(body.OrderBy) if body.OrderBy is not None else None,
        max_records=body.MaxRecords,
        teams=tuple(body.Teams) if body.Teams is not None else None,
    )
    favorite = services.favorites.update(session, access, FavoriteId, patch)
    session.commit()
    return favorite_out(session, services, favorite)


@router.delete("/favorite/{FavoriteId}", status_code=204, responses=ERRORS)
def delete_favorite(
    FavoriteId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    services.favorites.delete(session, access, FavoriteId)
    session.commit()
    return Response(status_code=204)


@router.get("/favorite/{FavoriteId}/data", responses=DATA_RESPONSES, response_class=Response)
def read_favorite_data(
    FavoriteId: str,  # noqa: N803
    request: Request,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Return the favorite's rows with its fields, restrictions, order and MaxRecords.

    The caller may add ``company`` (when the favorite names none), ``skip``, ``MaxRecords``
    (at most the favorite's), ``format`` and ``count``; any other query value is a 400, so
    the favorite's restrictions cannot be widened or replaced.
    """
    access.require(READ_API, "ApiReader")
    favorite = services.favorites.get_visible(session, access, FavoriteId)
    view = services.favorites.view(session, favorite)

    accepted = {name.casefold() for name in DATA_QUERY_NAMES}
    for key in request.query_params:
        if key.casefold() not in accepted:
            raise InvalidInputError(
                f"Unknown parameter {key}; accepted: {', '.join(DATA_QUERY_NAMES[1:])}",
                code="unknown_parameter",
            )
    company_id = query_value(request, "company") or None
    if favorite.company_id is not None and company_id not in (None, favorite.company_id):
        raise InvalidInputError(
            "This favorite reads one company; leave out company", code="company_fixed"
        )
    max_records = parse_int("MaxRecords", query_value(request, "MaxRecords"))
    cap = favorite.max_records
    if max_records is not None and cap is not None and max_records > cap:
        raise InvalidInputError(
            f"MaxRecords must be between 1 and {cap}", code="invalid_max_records"
        )

    data_request = DataRequest(
        entity_id=view.entity.id,
        company_id=favorite.company_id or company_id,
        fields=view.field_refs,
        restrictions=view.restrictions,
        order_by=view.order_by,
        skip=parse_int("skip", query_value(request, "skip")) or 0,
        max_records=max_records or cap,
        format=(query_value(request, "format") or "json").strip().lower(),
        count=parse_bool("count", query_value(request, "count")),
    )
    prepared = services.data.prepare(session, data_request, access)
    session.close()
    return data_response(prepared, request.url)
