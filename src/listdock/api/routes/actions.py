"""Actions: definitions on a list, and running them through the REST API.

Every route here is an action route, so a read-only widget token gets 403
``read_only_token`` on each of them whatever the HTTP method (methods a path does not serve
get 405 only after that check). Any other widget token gets 403 ``token_scope``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from listdock.api.auth import Caller, authenticate, client_address, require_not_widget_token
from listdock.api.deps import ServicesDep, SessionDep, get_services
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_widgets import (
    ActionIn,
    ActionOut,
    ActionPatchIn,
    ActionRunIn,
    ActionRunOut,
)
from listdock.domain.models import Action
from listdock.errors import PermissionDeniedError
from listdock.security import roles
from listdock.security.policy import Access, load_access
from listdock.services.actions import ActionSpec, RunActor, RunRequest

router = APIRouter(tags=["actions"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    502: {"model": ErrorOut},
    504: {"model": ErrorOut},
}
OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def action_caller(request: Request) -> Caller:
    """Authenticate an action route; read-only tokens are refused before any other check."""
    caller = authenticate(request, get_services(request).tokens, surface="api")
    if caller.token.read_only:
        raise PermissionDeniedError("Read-only tokens cannot run actions", code="read_only_token")
    require_not_widget_token(caller)
    return caller


ActionCallerDep = Annotated[Caller, Depends(action_caller)]


def action_access(caller: ActionCallerDep, session: SessionDep) -> Access:
    return load_access(session, caller.principal_id)


ActionAccessDep = Annotated[Access, Depends(action_access)]


def may_manage(access: Access, action: Action) -> bool:
    return access.has(roles.DEVELOP) or access.administers_connector(action.connector_id)


def spec_of(body: ActionIn) -> ActionSpec:
    return ActionSpec(
        name=body.Name,
        action_type=body.ActionType,
        scope=body.Scope,
        values=body.Values,
        url=body.Url,
        confirmation_button=body.ConfirmationButton,
        cancel_button=body.CancelButton,
        allow_multiple=body.AllowMultiple,
    )


def merged_spec(action: Action, body: ActionPatchIn) -> ActionSpec:
    """Return the action's definition with the keys ``body`` sets replaced."""
    given = body.model_fields_set
    return ActionSpec(
        name=body.Name if body.Name is not None else action.name,
        action_type=body.ActionType if body.ActionType is not None else action.action_type,
        scope=body.Scope if body.Scope is not None else action.scope,
        values=body.Values if "Values" in given else action.values,
        url=body.Url if "Url" in given else action.url,
        confirmation_button=body.ConfirmationButton
        if body.ConfirmationButton is not None
        else action.confirmation_button,
        cancel_button=body.CancelButton if body.CancelButton is not None else action.cancel_button,
        allow_multiple=body.AllowMultiple
        if body.AllowMultiple is not None
        else action.allow_multiple,
    )


@router.post(
    "/entity/{EntityId}/action", response_model=ActionOut, status_code=201, responses=ERRORS
)
def create_action(
    EntityId: str,  # noqa: N803
    body: ActionIn,
    caller: ActionCallerDep,
    access: ActionAccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> ActionOut:
    """Define an action on a list (Developer, or the connector's Administrator)."""
    action = services.actions.create(
        session, access, EntityId, spec_of(body), actor_id=caller.principal_id
    )
    session.commit()
    return ActionOut.of(action, show_url=True)


@router.get("/entity/{EntityId}/action", response_model=list[ActionOut], responses=ERRORS)
def list_entity_actions(
    EntityId: str,  # noqa: N803
    access: ActionAccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[ActionOut]:
    actions = services.actions.list_visible(session, access, EntityId)
    return [ActionOut.of(action, show_url=may_manage(access, action)) for action in actions]


@router.get("/action", response_model=list[ActionOut])
def list_actions(
    access: ActionAccessDep, services: ServicesDep, session: SessionDep
) -> list[ActionOut]:
    """List the actions of every list the caller can see."""
    actions = services.actions.list_visible(session, access)
    return [ActionOut.of(action, show_url=may_manage(access, action)) for action in actions]


@router.get("/action/{ActionId}", response_model=ActionOut, responses=ERRORS)
def read_action(
    ActionId: str,  # noqa: N803
    access: ActionAccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> ActionOut:
    action = services.actions.get_visible(session, access, ActionId)
    return ActionOut.of(action, show_url=may_manage(access, action))


@router.patch("/action/{ActionId}", response_model=ActionOut, responses=ERRORS)
def update_action(
    ActionId: str,  # noqa: N803
    body: ActionPatchIn,
    caller: ActionCallerDep,
    access: ActionAccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> ActionOut:
    action = services.actions.get_visible(session, access, ActionId)
    services.actions.update(
        session, access, action, merged_spec(action, body), actor_id=caller.principal_id
    )
    session.commit()
    return ActionOut.of(action, show_url=True)


@router.delete("/action/{ActionId}", status_code=204, responses=ERRORS)
def delete_action(
    ActionId: str,  # noqa: N803
    caller: ActionCallerDep,
    access: ActionAccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> None:
    action = services.actions.get_visible(session, access, ActionId)
    services.actions.delete(session, access, action, actor_id=caller.principal_id)
    session.commit()


@router.post("/action/{ActionId}/run", response_model=ActionRunOut, responses=ERRORS)
def run_action(
    ActionId: str,  # noqa: N803
    body: ActionRunIn,
    request: Request,
    caller: ActionCallerDep,
    access: ActionAccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> ActionRunOut:
    """Run an action on the records named by ``Keys`` (or the whole list, for list actions).

    Needs the ApiReader role, a grant on the action and on the list's data in the company.
    All targeted records change in one transaction, or none do.
    """
    access.require(roles.READ_API, "ApiReader")
    action = services.actions.get_visible(session, access, ActionId)
    changed = services.actions.run(
        session,
        access,
        action,
        RunRequest(company_id=body.Company, keys=tuple(body.Keys), values=body.Values),
        RunActor(
            principal_id=caller.principal_id,
            token_id=caller.token.token_id,
            ip=client_address(request),
        ),
    )
    return ActionRunOut(Changed=changed)


def method_not_allowed(_caller: ActionCallerDep) -> JSONResponse:
    """Return 405 for a method an action path does not serve, after the token checks."""
    return JSONResponse(
        {"error": "Method not allowed", "code": "method_not_allowed"}, status_code=405
    )


# Registered last: Starlette uses these only when no route above serves the method.
for unserved_path in ("/action", "/action/{ActionId}", "/action/{ActionId}/run",
                      "/entity/{EntityId}/action"):  # fmt: skip
    router.add_api_route(
        unserved_path,
        method_not_allowed,
        methods=OTHER_METHODS,
        include_in_schema=False,
        response_model=None,
    )
