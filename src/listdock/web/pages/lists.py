"""The list page: a grid with search, sort, paging, a field chooser and export buttons.

A web session is a data surface of its own: the user needs no ApiReader role, only a grant on
the list and company. Exports need the connector's TextExporter (CSV) or ExcelExporter (XLSX)
role.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from listdock.api.data_response import data_response
from listdock.connectors.query import SourceField, stream_rows
from listdock.domain.models import Entity
from listdock.errors import InvalidInputError, ListdockError, PermissionDeniedError
from listdock.security import roles
from listdock.security.policy import Access
from listdock.services.data import DataRequest, FieldRef, OrderSpec, RestrictionSpec
from listdock.web.deps import AccessDep, ServicesDep, SessionDep, UserDep

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 250)
# Field types whose values the grid aligns to the right.
NUMERIC_TYPES = ("integer", "decimal", "float")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


@dataclass
class GridState:
    """The grid settings in the list page's query string."""

    company: str | None = None
    skip: int = 0
    size: int = 50
    orderby: str = ""
    desc: bool = False
    search_field: str = ""
    q: str = ""
    fields: list[str] = field(default_factory=list)
    favorite: str = ""

    def query_pairs(self) -> list[tuple[str, str]]:
        pairs = [
            (key, str(value))
            for key, value in (
                ("company", self.company),
                ("skip", self.skip),
                ("size", self.size),
                ("orderby", self.orderby),
                ("search_field", self.search_field),
                ("q", self.q),
                ("favorite", self.favorite),
            )
            if value not in (None, "", 0)
        ]
        if self.desc:
            pairs.append(("desc", "1"))
        pairs.extend(("fields", name) for name in self.fields)
        return pairs


def grid_request(request: Request, entity_id: str) -> tuple[DataRequest, GridState]:
    """Return the data request and the grid state that the page's query string describes."""
    params = request.query_params
    size = _int(params.get("size"), 50)
    state = GridState(
        company=params.get("company") or None,
        skip=max(0, _int(params.get("skip"), 0)),
        size=size if size in PAGE_SIZES else 50,
        orderby=params.get("orderby") or "",
        desc=params.get("desc") == "1",
        search_field=params.get("search_field") or "",
        q=params.get("q") or "",
        fields=[name for name in params.getlist("fields") if name],
        favorite=params.get("favorite") or "",
    )
    restrictions: tuple[RestrictionSpec, ...] = ()
    if state.search_field and state.q:
        restrictions = (RestrictionSpec(FieldRef(state.search_field), "contains", state.q),)
    order: tuple[OrderSpec, ...] = ()
    if state.orderby:
        order = (OrderSpec(FieldRef(state.orderby), descending=state.desc),)
    data_request = DataRequest(
        entity_id=entity_id,
        company_id=state.company,
        fields=tuple(FieldRef(name) for name in state.fields),
        restrictions=restrictions,
        order_by=order,
        skip=state.skip,
        max_records=state.size,
        count=True,
    )
    return data_request, state


def state_url(
    path: str, state: GridState, extra: tuple[tuple[str, str], ...] = (), **changes: Any
) -> str:
    """Return ``path`` with the grid state, changed by ``changes``, as its query string."""
    pairs = list(extra) + replace(state, **changes).query_pairs()
    return f"{path}?{urlencode(pairs)}" if pairs else path


@router.get("/lists/{entity_id}")
def list_page(
    entity_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    data_request, state = grid_request(request, entity_id)
    entity = services.data.load_entity(session, entity_id)
    connector = services.connectors.get(session, entity.connector_id)
    favorite_name = None
    if state.favorite:
        data_request, favorite_name = apply_favorite(services, session, access, data_request, state)
    error = None
    rows: list[tuple[Any, ...]] = []
    total = 0
    prepared = None
    try:
        prepared = services.data.prepare(session, data_request, access)
        total = prepared.count_rows()
        rows = list(itertools.islice(stream_rows(prepared.engine, prepared.query), state.size))
    except InvalidInputError as failure:
        if failure.code == "company_required":
            state.company = connector.companies[0].id if connector.companies else None
            return list_page_redirect(request, state)
        error = f"{failure.message}. Change the search or the chosen fields and try again."
    visible = services.data.visible_fields(entity)
    companies = [c for c in connector.companies if access.sees_company(connector.id, c.id)]
    extras = list_extras(services, session, access, entity, prepared.fields if prepared else ())
    return services.pages.render(
        request,
        "pages/list.html",
        {
            "entity": entity,
            "connector": connector,
            "companies": companies,
            "fields": prepared.fields if prepared else (),
            "visible": visible,
            "rows": rows,
            "total": total,
            "state": state,
            "page_sizes": PAGE_SIZES,
            "numeric_types": NUMERIC_TYPES,
            "state_url": lambda **changes: state_url(request.url.path, state, **changes),
            "export_url": lambda fmt: state_url(
                f"{request.url.path}/export", state, (("format", fmt),), skip=0
            ),
            "can_csv": access.has_connector_permission(connector.id, roles.CONNECTOR_EXPORT_TEXT),
            "can_xlsx": access.has_connector_permission(connector.id, roles.CONNECTOR_EXPORT_EXCEL),
            "error": error,
            "favorite_name": favorite_name,
            "can_share": access.has(roles.DEVELOP),
            "teams": services.teams.list_all(session) if access.has(roles.DEVELOP) else [],
            **extras,
        },
        user=user,
    )


def apply_favorite(
    services: ServicesDep,
    session: Session,
    access: Access,
    data_request: DataRequest,
    state: GridState,
) -> tuple[DataRequest, str]:
    """Return the request narrowed by a favorite's fields, restrictions and order.

    The page's own search adds to the favorite's restrictions; its sort replaces the
    favorite's order.
    """
    favorite = services.favorites.get_visible(session, access, state.favorite)
    view = services.favorites.view(session, favorite)
    narrowed = replace(
        data_request,
        fields=data_request.fields or tuple(FieldRef(f.api_name) for f in view.fields),
        restrictions=view.restrictions + data_request.restrictions,
        order_by=data_request.order_by or view.order_by,
        company_id=favorite.company_id or data_request.company_id,
    )
    return narrowed, favorite.name


def list_extras(
    services: ServicesDep,
    session: Session,
    access: Access,
    entity: Entity,
    shown: tuple[SourceField, ...],
) -> dict[str, Any]:
    """Return the details, actions and favorites the list page offers this user."""
    shown_names = [source.api_name for source in shown]
    details = []
    for relationship in services.relationships.list_for_entity(session, access, entity.id):
        try:
            keys = services.relationships.key_fields(session, relationship)
        except ListdockError:
            continue
        from_names = [key.source.api_name for key in keys]
        if all(name in shown_names for name in from_names):
            positions = [shown_names.index(name) for name in from_names]
            details.append(
                {"relationship": relationship, "names": from_names, "positions": positions}
            )

    key_names = [f.api_name for f in services.data.visible_fields(entity) if f.primary_key]
    key_positions = (
        [shown_names.index(name) for name in key_names]
        if key_names and all(name in shown_names for name in key_names)
        else None
    )
    actions = [
        action
        for action in services.actions.list_visible(session, access, entity.id)
        if access.runs_action(entity.connector_id, action.id)
        and (action.scope == "list" or key_positions is not None)
    ]
    return {
        "details": details,
        "actions": actions,
        "key_names": key_names,
        "key_positions": key_positions,
        "favorites": services.favorites.list_visible(session, access, entity.id),
    }


def list_page_redirect(request: Request, state: GridState) -> Response:
    return RedirectResponse(state_url(request.url.path, state), status_code=303)


@router.get("/lists/{entity_id}/export")
def export_list(
    entity_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Download the filtered list as CSV or XLSX, up to the server's maximum rows."""
    data_request, _state = grid_request(request, entity_id)
    export_format = request.query_params.get("format", "csv")
    needed = {
        "csv": roles.CONNECTOR_EXPORT_TEXT,
        "xlsx": roles.CONNECTOR_EXPORT_EXCEL,
    }.get(export_format)
    if needed is None:
        raise InvalidInputError("Export format must be csv or xlsx", code="invalid_format")
    entity = services.data.load_entity(session, entity_id)
    if not access.has_connector_permission(entity.connector_id, needed):
        role = "TextExporter" if export_format == "csv" else "ExcelExporter"
        raise PermissionDeniedError(f"The {role} role is required to export", code="missing_role")
    export_request = DataRequest(
        entity_id=data_request.entity_id,
        company_id=data_request.company_id,
        fields=data_request.fields,
        restrictions=data_request.restrictions,
        order_by=data_request.order_by,
        max_records=services.data.max_records_limit,
        format=export_format,
    )
    prepared = services.data.prepare(session, export_request, access)
    session.close()
    return data_response(prepared, None)
