"""The list page's forms: run an action on selected records, save a favorite, open a detail."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from listdock.errors import InvalidInputError, ListdockError
from listdock.security.roles import DEVELOP
from listdock.services.actions import RunActor, RunRequest
from listdock.services.data import DataRequest
from listdock.services.favorites import FavoriteSpec, OrderInput, RestrictionInput
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep, UserDep
from listdock.web.pages.lists import grid_request
from listdock.web.pages.security_users import redirect

router = APIRouter(include_in_schema=False)


@router.post("/lists/{entity_id}/actions")
async def run_action(
    entity_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Run the action named by the pressed button on the ticked records, in one transaction."""
    form = await request.form()

    action_id = str(form.get("action_id") or "")
    back = str(form.get("back") or f"/lists/{entity_id}")
    if not back.startswith("/lists/"):
        back = f"/lists/{entity_id}"
    keys = [json.loads(str(value)) for value in form.getlist("keys")]
    values: dict[str, Any] = {
        str(name)[len("value__") :]: value
        for name, value in form.multi_items()
        if str(name).startswith("value__") and value != ""
    }

    action = services.actions.get_visible(session, access, action_id)
    if action.entity_id != entity_id:
        raise InvalidInputError("The action belongs to another list", code="action_not_found")
    if action.scope == "record" and not keys:
        raise InvalidInputError("Tick at least one record first", code="no_records")

    company = str(form.get("company") or "") or None
    services.actions.run(
        session,
        access,
        action,
        RunRequest(company_id=company, keys=tuple(keys), values=values),
        RunActor(
            principal_id=user.principal_id,
            ip=request.client.host if request.client else None,
            surface="web",
        ),
    )
    session.commit()
    return redirect(back, "action_run")


@router.post("/lists/{entity_id}/favorites")
def save_favorite(
    entity_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    state_query: Annotated[str, Form()] = "",
    team_id: Annotated[str, Form()] = "",
) -> Response:
    """Save the grid as it is now (fields, search, sort, company) as a favorite."""
    state_request = Request(
        {**request.scope, "query_string": state_query.encode("utf-8"), "method": "GET"}
    )
    data_request, state = grid_request(state_request, entity_id)
    entity = services.data.load_entity(session, entity_id)
    by_api = {f.api_name.casefold(): f for f in services.data.visible_fields(entity)}

    def field_id(name: str) -> str:
        found = by_api.get(name.casefold())
        if found is None:
            raise InvalidInputError(f"Unknown field {name}", code="unknown_field")
        return found.id

    teams: tuple[str, ...] = ()
    if team_id:
        access.require(DEVELOP, "Developer")
        teams = (team_id,)
    favorite = services.favorites.create(
        session,
        access,
        FavoriteSpec(
            name=name,
            entity_id=entity_id,
            company_id=state.company,
            fields=tuple(field_id(ref.value) for ref in data_request.fields),
            restrictions=tuple(
                RestrictionInput(field_id(r.field.value), r.operator, r.value)
                for r in data_request.restrictions
            ),
            order_by=tuple(
                OrderInput(field_id(o.field.value), o.descending) for o in data_request.order_by
            ),
            teams=teams,
        ),
    )
    session.commit()
    return redirect(f"/lists/{entity_id}?favorite={favorite.id}", "favorite_saved")


@router.get("/lists/{entity_id}/details/{relationship_id}")
def detail_page(
    entity_id: str,
    relationship_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Show the related rows of one record: the target list filtered by the record's keys."""
    relationship = services.relationships.get_visible(session, access, relationship_id)
    keys = services.relationships.key_fields(session, relationship)
    arguments = [
        (key, value) for key, value in request.query_params.multi_items() if key != "company"
    ]
    restrictions = services.relationships.restrictions(keys, arguments)
    company = request.query_params.get("company") or None
    prepared = services.data.prepare(
        session,
        DataRequest(
            entity_id=relationship.to_entity_id,
            company_id=company,
            restrictions=restrictions,
            max_records=500,
        ),
        access,
    )
    rows = list(prepared.stream())
    try:
        source = services.data.load_entity(session, entity_id)
        source_name = source.name
    except ListdockError:
        source_name = ""
    return services.pages.render(
        request,
        "pages/list_detail.html",
        {
            "relationship": relationship,
            "entity": prepared.entity,
            "source_name": source_name,
            "source_id": entity_id,
            "arguments": arguments,
            "fields": prepared.fields,
            "rows": rows,
        },
        user=user,
    )
