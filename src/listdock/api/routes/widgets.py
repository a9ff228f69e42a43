"""Widgets: definitions, their parameters, widget tokens, and ready embed URLs.

Widget tokens (``POST /widget/{WidgetId}/token``) may be created by an Administrator or
SecurityManager able to manage the token's owner, or by a Developer for itself.
``POST /widget/{WidgetId}/embed`` is the one REST route a widget token may call, and only for
its own widget: it turns the token into a short-lived embed URL for a browser.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from listdock.api.auth import authenticate
from listdock.api.deps import (
    AccessDep,
    CallerDep,
    ServicesDep,
    SessionDep,
)
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_security import NewTokenOut, TokenEnvelopeOut, TokenOut
from listdock.api.schemas_widgets import (
    EmbedUrlOut,
    WidgetIn,
    WidgetOut,
    WidgetParameterOut,
    WidgetPatchIn,
    WidgetTokenIn,
    WidgetTokensIn,
    WidgetTokensOut,
)
from listdock.domain.models import Account, EntityField, Principal, Widget
from listdock.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from listdock.security.management import require_may_create_widget_token
from listdock.security.policy import Access
from listdock.services.widgets import ParameterSpec, WidgetSpec

router = APIRouter(tags=["widgets"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


def parameter_fields(session: Session, widgets: list[Widget]) -> dict[str, EntityField]:
    ids = {parameter.entity_field_id for widget in widgets for parameter in widget.parameters}
    if not ids:
        return {}
    return {
        field.id: field
        for field in session.scalars(select(EntityField).where(EntityField.id.in_(ids)))
    }


def widget_out(session: Session, widget: Widget) -> WidgetOut:
    return WidgetOut.of(widget, parameter_fields(session, [widget]))


def spec_of(body: WidgetIn) -> WidgetSpec:
    return WidgetSpec(
        name=body.Name,
        type=body.Type,
        entity_id=body.EntityId,
        favorite_id=body.FavoriteId,
        company_id=body.CompanyId,
        fields=tuple(body.Fields),
        parameters=tuple(
            ParameterSpec(item.Name, item.EntityFieldId, item.Required) for item in body.Parameters
        ),
        actions=tuple(body.Actions),
        allowed_origins=tuple(body.AllowedOrigins),
        height=body.Height,
        width=body.Width,
        summary_field_id=body.SummaryField,
        group_by_field_id=body.GroupByField,
        page_size=body.PageSize,
    )


def merged_spec(widget: Widget, body: WidgetPatchIn) -> WidgetSpec:
    """Return the widget's definition with the keys ``body`` sets replaced."""
    given = body.model_fields_set
    if "EntityId" in given and body.EntityId is not None:
        entity_id, favorite_id = body.EntityId, None
    elif "FavoriteId" in given and body.FavoriteId is not None:
        entity_id, favorite_id = None, body.FavoriteId
    else:
        entity_id, favorite_id = widget.entity_id, widget.favorite_id
    parameters = (
        tuple(
            ParameterSpec(item.Name, item.EntityFieldId, item.Required) for item in body.Parameters
        )
        if body.Parameters is not None
        else tuple(
            ParameterSpec(item.name, item.entity_field_id, item.required)
            for item in widget.parameters
        )
    )

    def pick(key: str, current: Any) -> Any:
        return getattr(body, key) if key in given else current

    return WidgetSpec(
        name=body.Name if body.Name is not None else widget.name,
        type=body.Type if body.Type is not None else widget.type,
        entity_id=entity_id,
        favorite_id=favorite_id,
        company_id=pick("CompanyId", widget.company_id),
        fields=tuple(body.Fields if body.Fields is not None else widget.fields),
        parameters=parameters,
        actions=tuple(body.Actions if body.Actions is not None else widget.actions),
        allowed_origins=tuple(
            body.AllowedOrigins if body.AllowedOrigins is not None else widget.allowed_origins
        ),
        height=pick("Height", widget.height),
        width=pick("Width", widget.width),
        summary_field_id=pick("SummaryField", widget.summary_field_id),
        group_by_field_id=pick("GroupByField", widget.group_by_field_id),
        page_size=pick("PageSize", widget.page_size),
    )


@router.get("/widget", response_model=list[WidgetOut])
def list_widgets(access: AccessDep, services: ServicesDep, session: SessionDep) -> list[WidgetOut]:
    """List the widgets whose list the caller can see."""
    widgets = services.widgets.list_visible(session, access)
    fields = parameter_fields(session, widgets)
    return [WidgetOut.of(widget, fields) for widget in widgets]


@router.post("/widget", response_model=WidgetOut, status_code=201, responses=ERRORS)
def create_widget(
    body: WidgetIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> WidgetOut:
    """Create a widget over a list or favorite the caller (a Developer) can see."""
    widget = services.widgets.create(session, access, spec_of(body), actor_id=caller.principal_id)
    session.commit()
    return widget_out(session, widget)


@router.get("/widget/{WidgetId}", response_model=WidgetOut, responses=ERRORS)
def read_widget(
    WidgetId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> WidgetOut:
    return widget_out(session, services.widgets.get_visible(session, access, WidgetId))


@router.patch("/widget/{WidgetId}", response_model=WidgetOut, responses=ERRORS)
def update_widget(
    WidgetId: str,  # noqa: N803
    body: WidgetPatchIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> WidgetOut:
    widget = services.widgets.get_visible(session, access, WidgetId)
    services.widgets.update(
        session, access, widget, merged_spec(widget, body), actor_id=caller.principal_id
    )
    session.commit()
    return widget_out(session, widget)


@router.delete("/widget/{WidgetId}", status_code=204, responses=ERRORS)
def delete_widget(
    WidgetId: str,  # noqa: N803
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> None:
    """Delete a widget and revoke every token made for it."""
    widget = services.widgets.get_visible(session, access, WidgetId)
    services.widgets.delete(session, access, widget, actor_id=caller.principal_id)
    session.commit()


@router.get(
    "/widget/{WidgetId}/parameter", response_model=list[WidgetParameterOut], responses=ERRORS
)
def list_widget_parameters(
    WidgetId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[WidgetParameterOut]:
    widget = services.widgets.get_visible(session, access, WidgetId)
    fields = parameter_fields(session, [widget])
    return [
        WidgetParameterOut.of(parameter, fields.get(parameter.entity_field_id))
        for parameter in widget.parameters
    ]


# Widget tokens -----------------------------------------------------------------------------


def create_widget_tokens(
    services: ServicesDep,
    session: Session,
    access: Access,
    widget: Widget,
    items: list[WidgetTokenIn],
    actor_id: str,
) -> list[NewTokenOut]:
    account = session.scalar(select(Account))
    created = []
    for item in items:
        owner = session.get(Principal, item.UserId)
        if owner is None:
            raise NotFoundError("User not found", code="user_not_found")
        require_may_create_widget_token(session, access, owner.id)
        issued = services.tokens.create(
            session,
            owner,
            item.Name,
            created_by=actor_id,
            expires_at=item.ExpiresAt,
            widget_id=widget.id,
            read_only=item.ReadOnly,
            max_lifetime_days=account.max_token_lifetime_days if account else None,
        )
        created.append(NewTokenOut.of(issued))
    return created


@router.post(
    "/widget/{WidgetId}/token", response_model=TokenEnvelopeOut, status_code=201, responses=ERRORS
)
def create_widget_token(
    WidgetId: str,  # noqa: N803
    body: WidgetTokenIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> TokenEnvelopeOut:
    """Create a token that works on this widget only; its value appears only here."""
    widget = services.widgets.get_visible(session, access, WidgetId)
    created = create_widget_tokens(services, session, access, widget, [body], caller.principal_id)
    session.commit()
    return TokenEnvelopeOut(Token=created[0])


@router.post(
    "/widget/{WidgetId}/tokens", response_model=WidgetTokensOut, status_code=201, responses=ERRORS
)
def create_widget_token_batch(
    WidgetId: str,  # noqa: N803
    body: WidgetTokensIn,
    caller: CallerDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> WidgetTokensOut:
    """Create several widget tokens at once, for example one per user; all or none."""
    widget = services.widgets.get_visible(session, access, WidgetId)
    created = create_widget_tokens(
        services, session, access, widget, body.Tokens, caller.principal_id
    )
    session.commit()
    return WidgetTokensOut(Tokens=created)


@router.get("/widget/{WidgetId}/token", response_model=list[TokenOut], responses=ERRORS)
def list_widget_tokens(
    WidgetId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> list[TokenOut]:
    """List the widget's tokens: all of them for SecurityManagers, else the caller's own."""
    services.usage.flush()
    widget = services.widgets.get_visible(session, access, WidgetId)
    tokens = services.widgets.tokens_of(session, widget)
    return [
        TokenOut.of(token)
        for token in tokens
        if access.is_security_manager or token.principal_id == access.principal_id
    ]


# Embed URLs --------------------------------------------------------------------------------


@router.post("/widget/{WidgetId}/embed", response_model=EmbedUrlOut, responses=ERRORS)
def create_embed_url(
    WidgetId: str,  # noqa: N803
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    body: dict[str, str | int | float | bool | None] | None = Body(default=None),  # noqa: B008
) -> EmbedUrlOut:
    """Return an embed URL for a browser, carrying only a short-lived embed session token.

    The body gives the parameter values. A user token or this widget's own widget token
    works; the owner must be allowed to open the widget.
    """
    caller = authenticate(request, services.tokens, surface="widget")
    widget = services.widgets.get(session, WidgetId)
    if caller.token.widget_id is not None and caller.token.widget_id != widget.id:
        raise PermissionDeniedError("Widget tokens work only on their widget", code="token_scope")
    values = []
    for name, value in (body or {}).items():
        if isinstance(value, dict | list):
            raise InvalidInputError(f"Parameter {name} must be a single value")
        if value is not None:
            values.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    parameters = services.embed.check_parameters(session, widget, values)
    embed_caller = services.embed.issue_caller(
        session,
        widget,
        token_id=caller.token.token_id,
        principal_id=caller.principal_id,
        read_only=caller.token.read_only,
        parameters=parameters,
    )
    services.embed.authorize(session, embed_caller, widget)
    url = str(request.url_for("embed_page", EmbedId=widget.embed_id))
    return EmbedUrlOut(
        Url=f"{url}?token={embed_caller.session_value}",
        EmbedId=widget.embed_id,
        ExpiresAt=embed_caller.session_expires_at,
    )
