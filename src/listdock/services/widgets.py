"""Widget definitions: an embeddable view of one list or favorite in one company.

Creating, changing and deleting a widget needs the Developer (or Administrator) role and a
list and company the caller can see. A widget is visible to Administrators, its creator and
anyone who can see its list. Deleting a widget revokes every token made for it, because
``Token.widget_id`` has no foreign key that would remove them.

``resolve`` turns a stored widget into a ``WidgetSource``: the list, company, displayed
fields and the favorite's restrictions and order, checked against the list as it is now.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from listdock.clock import Clock
from listdock.connectors.types import FieldType
from listdock.domain.models import (
    Action,
    Company,
    Connector,
    Entity,
    EntityField,
    Favorite,
    Token,
    Widget,
    WidgetParameter,
)
from listdock.errors import InvalidInputError, NotFoundError
from listdock.security import roles
from listdock.security.policy import Access
from listdock.services.audit import AuditLog
from listdock.services.data import DataService, OrderSpec, RestrictionSpec
from listdock.services.favorites import FavoriteService
from listdock.services.tokens import TokenService

logger = logging.getLogger(__name__)

WIDGET_TYPES = ("grid", "single_record", "cards", "summary")
RESERVED_PARAMETERS = frozenset({"token", "theme", "locale"})
PARAMETER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
NUMERIC_TYPES = {FieldType.INTEGER.value, FieldType.DECIMAL.value, FieldType.FLOAT.value}
MAX_NAME_LENGTH = 200
MAX_ORIGINS = 50
MAX_SIZE = 10_000
# Rows per embed page by widget type (for a summary, the number of groups). Grid and cards
# widgets may set their own page size from 1 to MAX_PAGE_SIZE instead of the default.
DEFAULT_PAGE_SIZES = {"grid": 25, "cards": 12, "single_record": 1, "summary": 200}
PAGED_TYPES = ("grid", "cards")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    entity_field_id: str
    required: bool = False


@dataclass(frozen=True)
class WidgetSpec:
    """A widget definition as a request gives it; exactly one of entity and favorite is set."""

    name: str
    type: str
    entity_id: str | None = None
    favorite_id: str | None = None
    company_id: str | None = None
    fields: tuple[str, ...] = ()
    parameters: tuple[ParameterSpec, ...] = ()
    actions: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    height: int | None = None
    width: int | None = None
    summary_field_id: str | None = None
    group_by_field_id: str | None = None
    page_size: int | None = None


@dataclass
class WidgetSource:
    """A widget resolved against its list as it is now."""

    widget: Widget
    entity: Entity
    company: Company
    fields: list[EntityField]
    restrictions: tuple[RestrictionSpec, ...] = ()
    order_by: tuple[OrderSpec, ...] = ()
    parameters: list[tuple[WidgetParameter, EntityField]] = field(default_factory=list)


def new_embed_id() -> str:
    """Return 22 random URL-safe characters (128 bits from ``secrets``)."""
    return secrets.token_urlsafe(16)


def page_size_of(widget: Widget) -> int:
    """Return the rows per embed page: the widget's own page size, else its type's default.

    Only grid and cards widgets use their own page size.
    """
    if widget.type in PAGED_TYPES and widget.page_size is not None:
        return widget.page_size
    return DEFAULT_PAGE_SIZES[widget.type]


def normalize_origin(origin: str) -> str:
    """Return ``scheme://host[:port]`` in lower case, or raise InvalidInputError.

    Only http and https origins without user, path, query or fragment are accepted.
    """
    text = origin.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInputError(
            f"Invalid origin {text!r}: expected scheme://host[:port]", code="invalid_origin"
        ) from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "*" in text
    ):
        raise InvalidInputError(
            f"Invalid origin {text!r}: expected scheme://host[:port] with http or https",
            code="invalid_origin",
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port is not None else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


class WidgetService:
    def __init__(
        self,
        clock: Clock,
        audit: AuditLog,
        data: DataService,
        favorites: FavoriteService,
        tokens: TokenService,
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._data = data
        self._favorites = favorites
        self._tokens = tokens

    def __repr__(self) -> str:
        return "WidgetService()"

    # Reading -----------------------------------------------------------------------------

    def get(self, session: Session, widget_id: str) -> Widget:
        """Return the widget with its parameters; raises NotFoundError for an unknown id."""
        widget = session.get(Widget, widget_id, options=[selectinload(Widget.parameters)])
        if widget is None:
            raise NotFoundError("Widget not found", code="widget_not_found")
        return widget

    def get_by_embed_id(self, session: Session, embed_id: str) -> Widget:
        """Return the widget of an embed URL; raises NotFoundError for an unknown EmbedId."""
        widget = session.scalar(
            select(Widget)
            .where(Widget.embed_id == embed_id)
            .options(selectinload(Widget.parameters))
        )
        if widget is None:
            raise NotFoundError("Widget not found", code="widget_not_found")
        return widget

    def get_visible(self, session: Session, access: Access, widget_id: str) -> Widget:
        """Return the widget if the caller may see it; otherwise raise NotFoundError."""
        widget = self.get(session, widget_id)
        if not self.sees(session, access, widget):
            raise NotFoundError("Widget not found", code="widget_not_found")
        return widget

    def sees(self, session: Session, access: Access, widget: Widget) -> bool:
        if access.is_administrator or widget.created_by == access.principal_id:
            return True
        entity_id = self._entity_id_of(session, widget)
        if entity_id is None:
            return False
        entity = session.get(Entity, entity_id)
        return entity is not None and access.sees_list(entity.connector_id, entity.id)

    def list_visible(self, session: Session, access: Access) -> list[Widget]:
        widgets = session.scalars(
            select(Widget).options(selectinload(Widget.parameters)).order_by(Widget.name, Widget.id)
        )
        return [widget for widget in widgets if self.sees(session, access, widget)]

    def tokens_of(self, session: Session, widget: Widget) -> list[Token]:
        return list(
            session.scalars(
                select(Token).where(Token.widget_id == widget.id).order_by(Token.created)
            )
        )

    def _entity_id_of(self, session: Session, widget: Widget) -> str | None:
        if widget.source_kind == "favorite":
            if widget.favorite_id is None:
                return None
            favorite = session.get(Favorite, widget.favorite_id)
            return favorite.entity_id if favorite is not None else None
        return widget.entity_id

    # Resolving ---------------------------------------------------------------------------

    def resolve(self, session: Session, widget: Widget) -> WidgetSource:
        """Return the widget's list, company, displayed fields and fixed filters as they are now.

        Raises NotFoundError (``widget_source_missing``) when its list, favorite or company
        was deleted, and what ``FavoriteService.view`` raises for a favorite that broke.
        Displayed fields that were hidden since the widget was saved are left out.
        """
        restrictions: tuple[RestrictionSpec, ...] = ()
        order_by: tuple[OrderSpec, ...] = ()
        if widget.source_kind == "favorite":
            favorite = session.get(Favorite, widget.favorite_id) if widget.favorite_id else None
            if favorite is None:
                raise NotFoundError(
                    "The widget's favorite no longer exists", code="widget_source_missing"
                )
            view = self._favorites.view(session, favorite)
            entity = view.entity
            available = list(view.fields)
            restrictions, order_by = view.restrictions, view.order_by
        else:
            if widget.entity_id is None:
                raise NotFoundError(
                    "The widget's list no longer exists", code="widget_source_missing"
                )
            entity = self._data.load_entity(session, widget.entity_id)
            available = [item for item in self._data.visible_fields(entity) if item.default_field]
        company = session.get(Company, widget.company_id) if widget.company_id else None
        if company is None or company.connector_id != entity.connector_id:
            raise NotFoundError(
                "The widget's company no longer exists", code="widget_source_missing"
            )

        visible = {item.id: item for item in self._data.visible_fields(entity)}
        if widget.fields:
            fields = [visible[field_id] for field_id in widget.fields if field_id in visible]
        else:
            fields = available
        if not fields:
            raise NotFoundError(
                "None of the widget's fields is visible any more", code="widget_source_missing"
            )
        parameters = []
        for parameter in widget.parameters:
            parameter_field = visible.get(parameter.entity_field_id)
            if parameter_field is None:
                # Dropping a filter would widen what the widget shows, so fail instead.
                raise NotFoundError(
                    f"The field of parameter {parameter.name} is no longer visible",
                    code="widget_source_missing",
                )
            parameters.append((parameter, parameter_field))
        return WidgetSource(
            widget=widget,
            entity=entity,
            company=company,
            fields=fields,
            restrictions=restrictions,
            order_by=order_by,
            parameters=parameters,
        )

    # Changing ----------------------------------------------------------------------------

    def create(
        self, session: Session, access: Access, spec: WidgetSpec, *, actor_id: str
    ) -> Widget:
        """Create a widget in ``session`` (the caller commits) and audit it.

        Raises PermissionDeniedError without the Developer role, NotFoundError for a list,
        favorite, company, field or action the caller cannot see, and InvalidInputError for
        any other invalid part of the definition.
        """
        access.require(roles.DEVELOP, "Developer")
        now = self._clock.now()
        widget = Widget(
            embed_id=new_embed_id(),
            created_by=actor_id,
            created=now,
            modified=now,
            fields=[],
            actions=[],
            allowed_origins=[],
        )
        self._apply(session, access, widget, spec)
        session.add(widget)
        session.flush()
        self._audit.record(
            "widget_created", actor_id=actor_id, target=f"widget:{widget.id}", session=session
        )
        return widget

    def update(
        self, session: Session, access: Access, widget: Widget, spec: WidgetSpec, *, actor_id: str
    ) -> Widget:
        """Replace a widget's definition with ``spec``; raises what ``create`` raises."""
        access.require(roles.DEVELOP, "Developer")
        self._apply(session, access, widget, spec)
        widget.modified = self._clock.now()
        session.flush()
        self._audit.record(
            "widget_changed", actor_id=actor_id, target=f"widget:{widget.id}", session=session
        )
        return widget

    def delete(self, session: Session, access: Access, widget: Widget, *, actor_id: str) -> int:
        """Delete a widget and revoke its tokens; returns the number of tokens revoked."""
        access.require(roles.DEVELOP, "Developer")
        revoked = 0
        for token in self.tokens_of(session, widget):
            if token.status != "Revoked":
                self._tokens.revoke(session, token, actor_id=actor_id)
                revoked += 1
        self._audit.record(
            "widget_deleted",
            actor_id=actor_id,
            target=f"widget:{widget.id}",
            details={"tokens_revoked": revoked},
            session=session,
        )
        session.delete(widget)
        session.flush()
        return revoked

    def _apply(self, session: Session, access: Access, widget: Widget, spec: WidgetSpec) -> None:
        name = spec.name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        if spec.type not in WIDGET_TYPES:
            raise InvalidInputError(
                f"Type must be one of {', '.join(WIDGET_TYPES)}", code="invalid_widget_type"
            )
        entity, favorite = self._checked_source(session, access, spec)
        connector = self._data_connector(session, entity)
        company = self._data.resolve_company(session, connector, spec.company_id)
        if not access.sees_company(entity.connector_id, company.id):
            raise NotFoundError("Company not found", code="company_not_found")

        visible = {item.id: item for item in self._data.visible_fields(entity)}
        fields = self._checked_fields(spec.fields, visible)
        parameters = self._checked_parameters(spec.parameters, visible)
        actions = self._checked_actions(session, spec.actions, entity)
        origins = self._checked_origins(spec.allowed_origins)
        self._check_summary(spec, visible)
        self._check_page_size(spec)
        for size_name, size in (("Height", spec.height), ("Width", spec.width)):
            if size is not None and not 1 <= size <= MAX_SIZE:
                raise InvalidInputError(
                    f"{size_name} must be between 1 and {MAX_SIZE} pixels", code="invalid_size"
                )

        widget.name = name
        widget.type = spec.type
        widget.source_kind = "favorite" if favorite is not None else "entity"
        widget.entity_id = entity.id if favorite is None else None
        widget.favorite_id = favorite.id if favorite is not None else None
        widget.company_id = company.id
        widget.fields = fields
        widget.actions = actions
        widget.allowed_origins = origins
        widget.height = spec.height
        widget.width = spec.width
        widget.summary_field_id = spec.summary_field_id if spec.type == "summary" else None
        widget.group_by_field_id = spec.group_by_field_id if spec.type == "summary" else None
        widget.page_size = spec.page_size
        widget.parameters.clear()
        session.flush()
        for position, (parameter_name, field_id, required) in enumerate(parameters):
            widget.parameters.append(
                WidgetParameter(
                    name=parameter_name,
                    name_normalized=parameter_name.casefold(),
                    entity_field_id=field_id,
                    required=required,
                    position=position,
                )
            )

    def _data_connector(self, session: Session, entity: Entity) -> Connector:
        connector = session.get(Connector, entity.connector_id)
        if connector is None:
            raise NotFoundError("List not found", code="entity_not_found")
        return connector

    def _checked_source(
        self, session: Session, access: Access, spec: WidgetSpec
    ) -> tuple[Entity, Favorite | None]:
        if (spec.entity_id is None) == (spec.favorite_id is None):
            raise InvalidInputError(
                "Give exactly one of EntityId and FavoriteId", code="invalid_widget_source"
            )
        favorite: Favorite | None = None
        if spec.favorite_id is not None:
            favorite = self._favorites.get_visible(session, access, spec.favorite_id)
            entity = self._favorites.view(session, favorite).entity
        else:
            assert spec.entity_id is not None
            entity = self._data.load_entity(session, spec.entity_id)
        if not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")
        return entity, favorite

    def _checked_fields(
        self, field_ids: Sequence[str], visible: dict[str, EntityField]
    ) -> list[str]:
        checked: list[str] = []
        for field_id in field_ids:
            if field_id not in visible:
                raise InvalidInputError(f"Unknown field {field_id}", code="unknown_field")
            if field_id not in checked:
                checked.append(field_id)
        return checked

    def _checked_parameters(
        self, parameters: Sequence[ParameterSpec], visible: dict[str, EntityField]
    ) -> list[tuple[str, str, bool]]:
        seen: set[str] = set()
        checked = []
        for parameter in parameters:
            name = parameter.name.strip()
            if not PARAMETER_NAME.fullmatch(name):
                raise InvalidInputError(
                    f"Invalid parameter name {name!r}: use 1 to 64 of A-Z a-z 0-9 _ -",
                    code="invalid_parameter_name",
                )
            if name.casefold() in RESERVED_PARAMETERS:
                raise InvalidInputError(
                    f"Parameter name {name} is reserved", code="invalid_parameter_name"
                )
            if name.casefold() in seen:
                raise InvalidInputError(
                    f"Parameter {name} is given more than once", code="duplicate_parameter"
                )
            seen.add(name.casefold())
            parameter_field = visible.get(parameter.entity_field_id)
            if parameter_field is None:
                raise InvalidInputError(
                    f"Unknown EntityFieldId {parameter.entity_field_id} for parameter {name}",
                    code="unknown_field",
                )
            if parameter_field.type == FieldType.BINARY.value:
                raise InvalidInputError(
                    f"Parameter {name} cannot filter a binary field", code="invalid_parameter"
                )
            checked.append((name, parameter_field.id, parameter.required))
        return checked

    def _checked_actions(
        self, session: Session, action_ids: Sequence[str], entity: Entity
    ) -> list[str]:
        checked: list[str] = []
        for action_id in action_ids:
            action = session.get(Action, action_id)
            if action is None or action.entity_id != entity.id:
                raise InvalidInputError(
                    f"Unknown action {action_id} for this list", code="unknown_action"
                )
            if action_id not in checked:
                checked.append(action_id)
        return checked

    def _checked_origins(self, origins: Sequence[str]) -> list[str]:
        if len(origins) > MAX_ORIGINS:
            raise InvalidInputError(
                f"AllowedOrigins may list at most {MAX_ORIGINS} origins", code="invalid_origin"
            )
        checked: list[str] = []
        for origin in origins:
            normalized = normalize_origin(origin)
            if normalized not in checked:
                checked.append(normalized)
        return checked

    def _check_summary(self, spec: WidgetSpec, visible: dict[str, EntityField]) -> None:
        if spec.type != "summary":
            if spec.summary_field_id is not None or spec.group_by_field_id is not None:
                raise InvalidInputError(
                    "SummaryField and GroupByField apply only to summary widgets",
                    code="invalid_summary",
                )
            return
        if spec.summary_field_id is None or spec.group_by_field_id is None:
            raise InvalidInputError(
                "A summary widget needs SummaryField and GroupByField", code="invalid_summary"
            )
        total = visible.get(spec.summary_field_id)
        if total is None or total.type not in NUMERIC_TYPES:
            raise InvalidInputError(
                "SummaryField must be a visible numeric field", code="invalid_summary"
            )
        group = visible.get(spec.group_by_field_id)
        if group is None or group.type == FieldType.BINARY.value:
            raise InvalidInputError(
                "GroupByField must be a visible field that is not binary", code="invalid_summary"
            )

    def _check_page_size(self, spec: WidgetSpec) -> None:
        if spec.page_size is None:
            return
        if spec.type not in PAGED_TYPES:
            raise InvalidInputError(
                "PageSize applies only to grid and cards widgets", code="invalid_page_size"
            )
        if not 1 <= spec.page_size <= MAX_PAGE_SIZE:
            raise InvalidInputError(
                f"PageSize must be between 1 and {MAX_PAGE_SIZE}, got {spec.page_size}",
                code="invalid_page_size",
            )
