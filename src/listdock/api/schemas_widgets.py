"""Bodies of the widget, widget token, embed and action routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from listdock.api.schemas import RequestBody
from listdock.api.schemas_security import NewTokenOut
from listdock.domain.models import Action, EntityField, Widget, WidgetParameter
from listdock.services.widgets import (
    DEFAULT_PAGE_SIZES,
    MAX_PAGE_SIZE,
    PAGED_TYPES,
    page_size_of,
)

WidgetTypeName = Literal["grid", "single_record", "cards", "summary"]

PAGE_SIZE_IN = (
    f"Rows per embed page, 1 to {MAX_PAGE_SIZE}, for grid and cards widgets only; "
    f"null means the type's default ({DEFAULT_PAGE_SIZES['grid']} for a grid, "
    f"{DEFAULT_PAGE_SIZES['cards']} for cards)"
)
ActionTypeName = Literal["change_field", "delete", "webhook"]
ScopeName = Literal["record", "list"]


class WidgetParameterIn(RequestBody):
    Name: str = Field(min_length=1, max_length=64)
    EntityFieldId: str = Field(min_length=1, max_length=36)
    Required: bool = False


class WidgetIn(RequestBody):
    """A widget definition; give exactly one of ``EntityId`` and ``FavoriteId``."""

    Name: str = Field(min_length=1, max_length=200)
    Type: WidgetTypeName
    EntityId: str | None = Field(default=None, max_length=36)
    FavoriteId: str | None = Field(default=None, max_length=36)
    CompanyId: str | None = Field(default=None, max_length=36)
    Fields: list[str] = Field(default_factory=list, max_length=500)
    Parameters: list[WidgetParameterIn] = Field(default_factory=list, max_length=50)
    Actions: list[str] = Field(default_factory=list, max_length=100)
    AllowedOrigins: list[str] = Field(default_factory=list, max_length=50)
    Height: int | None = None
    Width: int | None = None
    SummaryField: str | None = Field(default=None, max_length=36)
    GroupByField: str | None = Field(default=None, max_length=36)
    PageSize: int | None = Field(default=None, strict=True, description=PAGE_SIZE_IN)


class WidgetPatchIn(RequestBody):
    """Changes to a widget; keys left out keep their value, ``Parameters`` replaces the list."""

    Name: str | None = Field(default=None, min_length=1, max_length=200)
    Type: WidgetTypeName | None = None
    EntityId: str | None = Field(default=None, max_length=36)
    FavoriteId: str | None = Field(default=None, max_length=36)
    CompanyId: str | None = Field(default=None, max_length=36)
    Fields: list[str] | None = Field(default=None, max_length=500)
    Parameters: list[WidgetParameterIn] | None = Field(default=None, max_length=50)
    Actions: list[str] | None = Field(default=None, max_length=100)
    AllowedOrigins: list[str] | None = Field(default=None, max_length=50)
    Height: int | None = None
    Width: int | None = None
    SummaryField: str | None = Field(default=None, max_length=36)
    GroupByField: str | None = Field(default=None, max_length=36)
    PageSize: int | None = Field(default=None, strict=True, description=PAGE_SIZE_IN)


class WidgetParameterOut(BaseModel):
    Name: str
    EntityFieldId: str
    ApiName: str | None
    Required: bool

    @classmethod
    def of(cls, parameter: WidgetParameter, field: EntityField | None) -> WidgetParameterOut:
        return cls(
            Name=parameter.name,
            EntityFieldId=parameter.entity_field_id,
            ApiName=field.api_name if field is not None else None,
            Required=parameter.required,
        )


class WidgetOut(BaseModel):
    WidgetId: str
    EmbedId: str
    Name: str
    Type: str
    EntityId: str | None
    FavoriteId: str | None
    CompanyId: str | None
    Fields: list[str]
    Parameters: list[WidgetParameterOut]
    Actions: list[str]
    AllowedOrigins: list[str]
    Height: int | None
    Width: int | None
    SummaryField: str | None
    GroupByField: str | None
    PageSize: int | None = Field(
        description=(
            "Rows per embed page of a grid or cards widget, its own or the type's default; "
            "null for other types"
        )
    )
    CreatedBy: str | None
    Created: datetime
    Modified: datetime

    @classmethod
    def of(cls, widget: Widget, fields: dict[str, EntityField]) -> WidgetOut:
        """Describe a widget; ``fields`` maps EntityFieldIds to fields for parameter ApiNames."""
        return cls(
            WidgetId=widget.id,
            EmbedId=widget.embed_id,
            Name=widget.name,
            Type=widget.type,
            EntityId=widget.entity_id,
            FavoriteId=widget.favorite_id,
            CompanyId=widget.company_id,
            Fields=list(widget.fields or []),
            Parameters=[
                WidgetParameterOut.of(parameter, fields.get(parameter.entity_field_id))
                for parameter in widget.parameters
            ],
            Actions=list(widget.actions or []),
            AllowedOrigins=list(widget.allowed_origins or []),
            Height=widget.height,
            Width=widget.width,
            SummaryField=widget.summary_field_id,
            GroupByField=widget.group_by_field_id,
            PageSize=page_size_of(widget) if widget.type in PAGED_TYPES else None,
            CreatedBy=widget.created_by,
            Created=widget.created,
            Modified=widget.modified,
        )


class WidgetTokenIn(RequestBody):
    UserId: str = Field(min_length=1, max_length=36)
    Name: str = Field(min_length=1, max_length=200)
    ReadOnly: bool = False
    ExpiresAt: datetime | None = None


class WidgetTokensIn(RequestBody):
    """Several widget tokens at once; all are created or none."""

    Tokens: list[WidgetTokenIn] = Field(min_length=1, max_length=100)


class WidgetTokensOut(BaseModel):
    Tokens: list[NewTokenOut]


class EmbedUrlOut(BaseModel):
    """A ready embed URL carrying only a short-lived embed session token."""

    Url: str
    EmbedId: str
    ExpiresAt: datetime


class ActionIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    ActionType: ActionTypeName
    Scope: ScopeName = "record"
    Values: dict[str, Any] | None = None
    Url: str | None = Field(default=None, max_length=2000)
    ConfirmationButton: str | None = Field(default=None, max_length=100)
    CancelButton: str | None = Field(default=None, max_length=100)
    AllowMultiple: bool = False


class ActionPatchIn(RequestBody):
    """Changes to an action; keys left out keep their value."""

    Name: str | None = Field(default=None, min_length=1, max_length=200)
    ActionType: ActionTypeName | None = None
    Scope: ScopeName | None = None
    Values: dict[str, Any] | None = None
    Url: str | None = Field(default=None, max_length=2000)
    ConfirmationButton: str | None = Field(default=None, max_length=100)
    CancelButton: str | None = Field(default=None, max_length=100)
    AllowMultiple: bool | None = None


class ActionOut(BaseModel):
    """An action; ``Url`` is shown only to callers who may change the action."""

    ActionId: str
    EntityId: str
    ConnectorId: str
    Name: str
    ActionType: str
    Scope: str
    Values: dict[str, Any]
    Url: str | None
    ConfirmationButton: str
    CancelButton: str
    AllowMultiple: bool
    Created: datetime
    Modified: datetime

    @classmethod
    def of(cls, action: Action, *, show_url: bool) -> ActionOut:
        return cls(
            ActionId=action.id,
            EntityId=action.entity_id,
            ConnectorId=action.connector_id,
            Name=action.name,
            ActionType=action.action_type,
            Scope=action.scope,
            Values=dict(action.values or {}),
            Url=action.url if show_url else None,
            ConfirmationButton=action.confirmation_button,
            CancelButton=action.cancel_button,
            AllowMultiple=action.allow_multiple,
            Created=action.created,
            Modified=action.modified,
        )


class ActionRunIn(RequestBody):
    Company: str | None = Field(default=None, max_length=36)
    Keys: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    Values: dict[str, Any] = Field(default_factory=dict)


class ActionRunOut(BaseModel):
    Changed: int
