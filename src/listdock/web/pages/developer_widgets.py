"""Developer › Widgets: create widgets and edit them through the tabs General, Parameters,
Actions, Security (widget tokens) and Embed code (with a live preview).

The live preview embeds the widget in this page with a short-lived embed session made from
one of the signed-in user's own active tokens for this widget, so no token value is put in
the page.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from listdock.domain.models import Entity, Principal, Widget
from listdock.errors import InvalidInputError, ListdockError
from listdock.security.management import require_may_create_widget_token
from listdock.security.policy import Access
from listdock.security.roles import DEVELOP
from listdock.services.actions import ActionSpec
from listdock.services.widgets import (
    DEFAULT_PAGE_SIZES,
    MAX_PAGE_SIZE,
    PAGED_TYPES,
    ParameterSpec,
    WidgetSpec,
)
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep, UserDep
from listdock.web.list_choices import list_company_choices
from listdock.web.pages.security_tokens import parse_expiry
from listdock.web.pages.security_users import redirect
from listdock.web.sessions import WebUser

router = APIRouter(include_in_schema=False)

WIDGET_TABS = (
    ("general", "General"),
    ("parameters", "Parameters"),
    ("actions", "Actions"),
    ("security", "Security"),
    ("embed", "Embed code"),
)
WIDGET_TYPES = (
    ("grid", "Grid"),
    ("single_record", "Single record"),
    ("cards", "Cards"),
    ("summary", "Summary"),
)
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def spec_of(widget: Widget, **changes: Any) -> WidgetSpec:
    """Return the widget's current definition as a spec, with ``changes`` applied."""
    current: dict[str, Any] = {
        "name": widget.name,
        "type": widget.type,
        "entity_id": widget.entity_id if widget.source_kind != "favorite" else None,
        "favorite_id": widget.favorite_id if widget.source_kind == "favorite" else None,
        "company_id": widget.company_id,
        "fields": tuple(widget.fields or ()),
        "parameters": tuple(
            ParameterSpec(p.name, p.entity_field_id, p.required) for p in widget.parameters
        ),
        "actions": tuple(widget.actions or ()),
        "allowed_origins": tuple(widget.allowed_origins or ()),
        "height": widget.height,
        "width": widget.width,
        "summary_field_id": widget.summary_field_id,
        "group_by_field_id": widget.group_by_field_id,
        "page_size": widget.page_size,
    }
    current.update(changes)
    return WidgetSpec(**current)


def _widgets_page(
    request: Request,
    services: ServicesDep,
    session: Session,
    user: WebUser,
    access: Access,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    access.require(DEVELOP, "Developer")
    return services.pages.render(
        request,
        "pages/developer_widgets.html",
        {
            "widgets": services.widgets.list_visible(session, access),
            "choices": list_company_choices(services.connectors, session, access),
            "types": WIDGET_TYPES,
            "error": error,
            "form": form or {},
            "section": "widgets",
        },
        user=user,
        status_code=400 if error else 200,
    )


@router.get("/developer/widgets")
def widgets_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    return _widgets_page(request, services, session, user, access)


@router.post("/developer/widgets")
def create_widget(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    widget_type: Annotated[str, Form()] = "grid",
    list_and_company: Annotated[str, Form()] = "",
) -> Response:
    """Create a widget over a list in one company, showing the list's default fields."""
    entity_id, _, company_id = list_and_company.partition("|")
    try:
        entity = services.data.load_entity(session, entity_id)
        fields = tuple(
            field.id for field in services.data.visible_fields(entity) if field.default_field
        )
        numeric = [
            field.id
            for field in services.data.visible_fields(entity)
            if field.type in ("integer", "decimal", "float") and not field.primary_key
        ]
        widget = services.widgets.create(
            session,
            access,
            WidgetSpec(
                name=name,
                type=widget_type,
                entity_id=entity_id,
                company_id=company_id or None,
                fields=fields,
                summary_field_id=numeric[0] if widget_type == "summary" and numeric else None,
                group_by_field_id=fields[1]
                if widget_type == "summary" and len(fields) > 1
                else None,
            ),
            actor_id=user.principal_id,
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return _widgets_page(
            request,
            services,
            session,
            user,
            access,
            error=f"{failure.message}. Correct it and try again.",
            form={"name": name, "widget_type": widget_type, "list_and_company": list_and_company},
        )
    return redirect(f"/developer/widgets/{widget.id}", "widget_saved")


def general_form(widget: Widget) -> dict[str, Any]:
    """Return the General tab's form values as the widget has them saved."""
    return {
        "name": widget.name,
        "widget_type": widget.type,
        "fields": list(widget.fields or ()),
        "summary_field_id": widget.summary_field_id or "",
        "group_by_field_id": widget.group_by_field_id or "",
        "allowed_origins": "\n".join(widget.allowed_origins or ()),
        "height": str(widget.height or ""),
        "width": str(widget.width or ""),
        "page_size": str(widget.page_size or ""),
    }


def parse_page_size(text: str, widget_type: str) -> int | None:
    """Parse the General tab's Rows per page text; return None when it is empty.

    Raises InvalidInputError with a message for people when the text is not a whole number
    from 1 to MAX_PAGE_SIZE, or when a widget type other than grid or cards is given one.
    """
    text = text.strip()
    if not text:
        return None
    if not WHOLE_NUMBER.fullmatch(text) or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"Rows per page must be a whole number from 1 to {MAX_PAGE_SIZE}. Enter one, or "
            "leave the box empty for the default of the widget type.",
            code="invalid_page_size",
        )
    if widget_type not in PAGED_TYPES:
        raise InvalidInputError(
            "Rows per page applies only to grid and cards widgets. Leave the box empty for "
            "a single record or summary widget.",
            code="invalid_page_size",
        )
    return int(text)


def widget_context(
    services: ServicesDep, session: Session, access: Access, widget: Widget
) -> dict[str, Any]:
    source = services.widgets.resolve(session, widget)
    entity: Entity = source.entity
    return {
        "widget": widget,
        "entity": entity,
        "visible": services.data.visible_fields(entity),
        "field_names": {f.id: f.display_name for f in services.data.visible_fields(entity)},
    }


@router.get("/developer/widgets/{widget_id}")
def widget_page(
    widget_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    tab: str = "general",
    error: str | None = None,
) -> Response:
    return _widget_page(widget_id, request, user, access, services, session, tab, error)


def _widget_page(
    widget_id: str,
    request: Request,
    user: WebUser,
    access: Access,
    services: ServicesDep,
    session: Session,
    tab: str = "general",
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    """Render one tab of a widget's page, with ``form`` in place of the saved General values.

    A page that shows an error is a 400, like the other pages whose form failed.
    """
    access.require(DEVELOP, "Developer")
    widget = services.widgets.get_visible(session, access, widget_id)
    if tab not in dict(WIDGET_TABS):
        tab = "general"
    context = widget_context(services, session, access, widget)
    context.update(
        {
            "tabs": WIDGET_TABS,
            "tab": tab,
            "types": WIDGET_TYPES,
            "section": "widgets",
            "error": error,
            "general": form if form is not None else general_form(widget),
            "default_page_sizes": {key: DEFAULT_PAGE_SIZES[key] for key in PAGED_TYPES},
            "max_page_size": MAX_PAGE_SIZE,
        }
    )
    if tab == "actions":
        context["actions"] = services.actions.list_visible(session, access, context["entity"].id)
    elif tab == "security":
        services.usage.flush()
        session.expire_all()
        owners = {p.id: p for p in services.principals.list_all(session)}
        context["tokens"] = [
            (token, owners.get(token.principal_id))
            for token in services.widgets.tokens_of(session, widget)
            if access.is_security_manager or token.principal_id == access.principal_id
        ]
        context["principals"] = [
            p
            for p in owners.values()
            if p.status == "Active" and (access.is_security_manager or p.id == access.principal_id)
        ]
    elif tab == "embed":
        base = str(request.base_url).rstrip("/")
        context["embed_base"] = f"{base}/embed/{widget.embed_id}"
        context["preview_url"] = _preview_url(request, services, session, user, widget)
    return services.pages.render(
        request,
        "pages/developer_widget.html",
        context,
        user=user,
        status_code=400 if error else 200,
    )


def _preview_url(
    request: Request, services: ServicesDep, session: Session, user: WebUser, widget: Widget
) -> str | None:
    """Return an embed URL with a fresh embed session from the user's own widget token.

    Returns None when the user has no active token for this widget, or when the widget needs
    parameters (the preview has no record to filter by) and they have no default.
    """
    if any(parameter.required for parameter in widget.parameters):
        return None
    own = [
        token
        for token in services.widgets.tokens_of(session, widget)
        if token.principal_id == user.principal_id and token.status == "Active"
    ]
    if not own:
        return None
    try:
        caller = services.embed.issue_caller(
            session,
            widget,
            token_id=own[0].id,
            principal_id=user.principal_id,
            read_only=own[0].read_only,
            parameters={},
        )
        services.embed.authorize(session, caller, widget)
    except ListdockError:
        return None
    return f"/embed/{widget.embed_id}?token={caller.session_value}"


def _save(
    request: Request,
    services: ServicesDep,
    session: Session,
    user: WebUser,
    access: Access,
    widget: Widget,
    tab: str,
    form: dict[str, Any] | None = None,
    **changes: Any,
) -> Response:
    """Save ``changes`` to the widget, or show the tab again with the error and ``form``."""
    try:
        services.widgets.update(
            session, access, widget, spec_of(widget, **changes), actor_id=user.principal_id
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return _widget_page(
            widget.id,
            request,
            user,
            access,
            services,
            session,
            tab=tab,
            error=f"{failure.message}. Correct it and try again.",
            form=form,
        )
    return redirect(f"/developer/widgets/{widget.id}?tab={tab}", "widget_saved")


@router.post("/developer/widgets/{widget_id}/general")
def save_general(
    widget_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    widget_type: Annotated[str, Form()] = "grid",
    fields: Annotated[list[str] | None, Form()] = None,
    allowed_origins: Annotated[str, Form()] = "",
    height: Annotated[str, Form()] = "",
    width: Annotated[str, Form()] = "",
    summary_field_id: Annotated[str, Form()] = "",
    group_by_field_id: Annotated[str, Form()] = "",
    page_size: Annotated[str, Form()] = "",
) -> Response:
    widget = services.widgets.get_visible(session, access, widget_id)
    # What the user typed, shown again unchanged when saving fails.
    form = {
        "name": name,
        "widget_type": widget_type,
        "fields": list(fields or ()),
        "summary_field_id": summary_field_id,
        "group_by_field_id": group_by_field_id,
        "allowed_origins": allowed_origins,
        "height": height,
        "width": width,
        "page_size": page_size,
    }
    try:
        rows_per_page = parse_page_size(page_size, widget_type)
    except InvalidInputError as failure:
        return _widget_page(
            widget.id, request, user, access, services, session, "general", failure.message, form
        )

    origins = tuple(line.strip() for line in allowed_origins.splitlines() if line.strip())
    return _save(
        request,
        services,
        session,
        user,
        access,
        widget,
        "general",
        form,
        name=name,
        type=widget_type,
        fields=tuple(fields or ()),
        allowed_origins=origins,
        height=int(height) if height.strip().isdigit() else None,
        width=int(width) if width.strip().isdigit() else None,
        summary_field_id=summary_field_id or None,
        group_by_field_id=group_by_field_id or None,
        page_size=rows_per_page,
    )


@router.post("/developer/widgets/{widget_id}/parameters")
def save_parameters(
    widget_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    entity_field_id: Annotated[str, Form()] = "",
    required: Annotated[str | None, Form()] = None,
    remove: Annotated[str, Form()] = "",
) -> Response:
    """Add a parameter (URL name → field), or remove the one named in ``remove``."""
    widget = services.widgets.get_visible(session, access, widget_id)
    parameters = list(spec_of(widget).parameters)
    if remove:
        parameters = [parameter for parameter in parameters if parameter.name != remove]
    else:
        parameters.append(ParameterSpec(name.strip(), entity_field_id, bool(required)))
    return _save(
        request,
        services,
        session,
        user,
        access,
        widget,
        "parameters",
        parameters=tuple(parameters),
    )


@router.post("/developer/widgets/{widget_id}/actions")
def save_actions(
    widget_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    actions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    widget = services.widgets.get_visible(session, access, widget_id)
    return _save(
        request,
        services,
        session,
        user,
        access,
        widget,
        "actions",
        actions=tuple(actions or ()),
    )


@router.post("/developer/widgets/{widget_id}/actions/new")
def create_action(
    widget_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    action_type: Annotated[str, Form()] = "change_field",
    scope: Annotated[str, Form()] = "record",
    values: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    confirmation_button: Annotated[str, Form()] = "",
    cancel_button: Annotated[str, Form()] = "",
    allow_multiple: Annotated[str | None, Form()] = None,
) -> Response:
    """Define a new action on the widget's list and offer it in the widget."""
    widget = services.widgets.get_visible(session, access, widget_id)
    entity = services.widgets.resolve(session, widget).entity
    try:
        parsed_values = json.loads(values) if values.strip() else None
        if parsed_values is not None and not isinstance(parsed_values, dict):
            raise InvalidInputError("Values must be a JSON object", code="invalid_values")
    except json.JSONDecodeError:
        parsed_values = None
        error = (
            'Values must be a JSON object such as {"Status": "Shipped"}. Correct it and try again.'
        )
        return widget_page(
            widget.id, request, user, access, services, session, tab="actions", error=error
        )
    try:
        action = services.actions.create(
            session,
            access,
            entity.id,
            ActionSpec(
                name=name,
                action_type=action_type,
                scope=scope,
                values=parsed_values,
                url=url or None,
                confirmation_button=confirmation_button or None,
                cancel_button=cancel_button or None,
                allow_multiple=bool(allow_multiple),
            ),
            actor_id=user.principal_id,
        )
        session.flush()
    except ListdockError as failure:
        session.rollback()
        return widget_page(
            widget.id,
            request,
            user,
            access,
            services,
            session,
            tab="actions",
            error=f"{failure.message}. Correct it and try again.",
        )
    return _save(
        request,
        services,
        session,
        user,
        access,
        widget,
        "actions",
        actions=(*(widget.actions or ()), action.id),
    )


@router.post("/developer/widgets/{widget_id}/tokens")
def add_widget_token(
    widget_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    user_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    read_only: Annotated[str | None, Form()] = None,
    expires: Annotated[str, Form()] = "",
) -> Response:
    """The widget Security tab's "Add token" dialog: User, Name and Read only."""
    widget = services.widgets.get_visible(session, access, widget_id)
    try:
        owner = session.get(Principal, user_id)
        if owner is None:
            raise InvalidInputError("Choose a user", code="user_not_found")
        require_may_create_widget_token(session, access, owner.id)
        account = services.accounts.get(session)
        issued = services.tokens.create(
            session,
            owner,
            name,
            created_by=user.principal_id,
            expires_at=parse_expiry(expires),
            widget_id=widget.id,
            read_only=bool(read_only),
            max_lifetime_days=account.max_token_lifetime_days,
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return widget_page(
            widget.id,
            request,
            user,
            access,
            services,
            session,
            tab="security",
            error=f"{failure.message}. Correct it and try again.",
        )
    return services.pages.render(
        request,
        "pages/token_created.html",
        {
            "value": issued.value,
            "token": issued.token,
            "owner": owner,
            "back": f"/developer/widgets/{widget.id}?tab=security",
        },
        user=user,
        no_store=True,
    )


@router.post("/developer/widgets/{widget_id}/delete")
def delete_widget(
    widget_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    widget = services.widgets.get_visible(session, access, widget_id)
    services.widgets.delete(session, access, widget, actor_id=user.principal_id)
    session.commit()
    return redirect("/developer/widgets", "widget_deleted")
