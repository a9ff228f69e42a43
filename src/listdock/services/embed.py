"""The widget runtime: who opens a widget, with which parameters, and what it shows.

A widget is opened with a long-lived token (a user token, or a widget token made for this
widget) or with an embed session token (``lde_…``, see ``listdock.security.embed_sessions``).
Either way the result is an ``EmbedCaller`` carrying a fresh embed session for the page. Each
use of an embed session re-checks the underlying token (status, display prefix, expiry, owner
status) in the store, and every request reloads the owner's rights, so revoking the token or
removing a grant applies at once.

Opening needs the WidgetReader role (or Administrator) and a grant on the list and company.
Parameters are equality filters on their fields. Actions, details and exports appear only when
the owner is granted them, and actions never for a read-only token.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc, select
from sqlalchemy.orm import Session, sessionmaker

from listdock.clock import Clock
from listdock.connectors.engines import source_error_for_engine
from listdock.connectors.query import build_select, convert_value
from listdock.domain.models import Account, Action, EntityField, Principal, Token, Widget
from listdock.errors import (
    AuthenticationError,
    InvalidInputError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)
from listdock.security import roles
from listdock.security.embed_sessions import EmbedSession, EmbedSessionSigner, is_session_value
from listdock.security.policy import Access, load_access
from listdock.services.actions import ActionService, RunActor, RunRequest
from listdock.services.audit import AuditLog
from listdock.services.data import (
    DataRequest,
    DataService,
    FieldRef,
    OrderSpec,
    PreparedQuery,
    RestrictionSpec,
    source_field,
)
from listdock.services.display import display_text, key_value
from listdock.services.relationships import RelationshipService
from listdock.services.tokens import TokenService, UsageRecorder
from listdock.services.widget_pages import (
    Column,
    OfferedAction,
    OfferedDetail,
    SummaryGroup,
    ViewSetup,
    ViewState,
    WidgetPage,
)
from listdock.services.widgets import (
    RESERVED_PARAMETERS,
    WidgetService,
    WidgetSource,
    page_size_of,
)

logger = logging.getLogger(__name__)

DETAIL_ROWS = 50


@dataclass(frozen=True)
class EmbedCaller:
    """The token behind an embed request, its parameters and the page's embed session."""

    principal_id: str
    token_id: str
    read_only: bool
    parameters: dict[str, str]
    session_value: str = field(repr=False)
    session_expires_at: dt.datetime


# The columns of an embed session's token that ``session_rejection`` checks, by token id.
SESSION_TOKEN = (
    select(
        Token.status,
        Token.prefix,
        Token.expires_at,
        Token.principal_id,
        Token.widget_id,
        Principal.status,
    )
    .join(Principal, Principal.id == Token.principal_id)
    .where(Token.id == sa.bindparam("token_id"))
)


def session_rejection(
    row: tuple[Any, ...] | None, claims: EmbedSession, widget_id: str, now: dt.datetime
) -> str | None:
    """Return why an embed session's token is refused now, or None when it still works.

    ``row`` is the ``SESSION_TOKEN`` row of the session's token, None when it is gone.
    """
    if row is None:
        return "unknown"
    status, prefix, expires_at, principal_id, token_widget_id, owner_status = row
    if status == "Revoked" or prefix != claims.token_prefix:
        return "revoked"
    if status == "Disabled":
        return "disabled"
    if expires_at is not None and expires_at <= now:
        return "expired"
    if owner_status != "Active" or principal_id != claims.principal_id:
        return "owner_disabled"
    if token_widget_id not in (None, widget_id):
        return "unknown"
    return None


class EmbedService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        signer: EmbedSessionSigner,
        tokens: TokenService,
        usage: UsageRecorder,
        audit: AuditLog,
        widgets: WidgetService,
        data: DataService,
        actions: ActionService,
        relationships: RelationshipService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._signer = signer
        self._tokens = tokens
        self._usage = usage
        self._audit = audit
        self._widgets = widgets
        self._data = data
        self._actions = actions
        self._relationships = relationships

    def __repr__(self) -> str:
        return "EmbedService()"

    # Callers -----------------------------------------------------------------------------

    def open_caller(
        self,
        session: Session,
        widget: Widget,
        credential: str | None,
        *,
        ip: str | None,
        query_parameters: Sequence[tuple[str, str]] = (),
        require_parameters: bool = True,
    ) -> EmbedCaller:
        """Return the caller of an embed request and a fresh embed session for its page.

        ``credential`` is a long-lived token or an embed session token. With a long-lived
        token the parameters come from ``query_parameters``; an embed session carries its own,
        and query parameters, when given, must equal them. Without ``require_parameters`` a
        missing required parameter is not an error. Raises AuthenticationError for a
        missing or failing credential, PermissionDeniedError (``token_scope``) for a token or
        session of another widget, and InvalidInputError for bad parameters.
        """
        if credential is None:
            raise AuthenticationError("missing", code="token_required")
        if is_session_value(credential):
            claims = self._verified_session(session, widget, credential, ip)
            named = [
                item for item in query_parameters if item[0].casefold() not in RESERVED_PARAMETERS
            ]
            if named:
                given = self.check_parameters(session, widget, named)
                if given != claims.parameters:
                    raise InvalidInputError(
                        "The parameters differ from the ones this embed session was made for",
                        code="parameter_mismatch",
                    )
            value, renewed = self._signer.renew(claims)
            return EmbedCaller(
                principal_id=claims.principal_id,
                token_id=claims.token_id,
                read_only=claims.read_only,
                parameters=claims.parameters,
                session_value=value,
                session_expires_at=renewed.expires_at,
            )

        token = self._tokens.authenticate(credential, surface="widget", ip=ip)
        if token.widget_id is not None and token.widget_id != widget.id:
            raise PermissionDeniedError(
                "Widget tokens work only on their widget", code="token_scope"
            )
        parameters = self.check_parameters(
            session, widget, query_parameters, require=require_parameters
        )
        return self.issue_caller(
            session,
            widget,
            token_id=token.token_id,
            principal_id=token.principal_id,
            read_only=token.read_only,
            parameters=parameters,
        )

    def issue_caller(
        self,
        session: Session,
        widget: Widget,
        *,
        token_id: str,
        principal_id: str,
        read_only: bool,
        parameters: dict[str, str],
    ) -> EmbedCaller:
        """Return a caller with a new embed session for an already authenticated token."""
        token = session.get(Token, token_id)
        if token is None:
            raise AuthenticationError("unknown")
        value, claims = self._signer.issue(
            widget_id=widget.id,
            token_id=token.id,
            token_prefix=token.prefix,
            principal_id=principal_id,
            read_only=read_only,
            parameters=parameters,
        )
        return EmbedCaller(
            principal_id=principal_id,
            token_id=token_id,
            read_only=read_only,
            parameters=parameters,
            session_value=value,
            session_expires_at=claims.expires_at,
        )

    def _verified_session(
        self, session: Session, widget: Widget, value: str, ip: str | None
    ) -> EmbedSession:
        """Return the claims of a valid session for ``widget`` whose token still works."""
        try:
            claims = self._signer.verify(value)
        except AuthenticationError as error:
            self._audit.record(
                "token_refused", outcome="failure", reason=f"embed_session_{error.reason}", ip=ip
            )
            raise
        if claims.widget_id != widget.id:
            raise PermissionDeniedError(
                "This embed session belongs to another widget", code="token_scope"
            )
        row = session.execute(SESSION_TOKEN, {"token_id": claims.token_id}).first()
        now = self._clock.now()
        reason = session_rejection(None if row is None else tuple(row), claims, widget.id, now)
        if reason is not None:
            self._audit.record(
                "token_refused",
                outcome="failure",
                actor_id=claims.principal_id,
                token_id=claims.token_id,
                reason=reason,
                ip=ip,
            )
            raise AuthenticationError(reason)
        self._usage.record(claims.token_id, now, "widget")
        return claims

    def check_parameters(
        self,
        session: Session,
        widget: Widget,
        raw: Sequence[tuple[str, str]],
        *,
        require: bool = True,
    ) -> dict[str, str]:
        """Return the widget's parameter values by name from query values.

        Reserved names (token, theme, locale) are skipped. Raises InvalidInputError for an
        unknown or repeated parameter or a missing required one, and InvalidValueError for a
        value that does not fit its field.
        """
        by_name = {parameter.name.casefold(): parameter for parameter in widget.parameters}
        accepted = ", ".join(parameter.name for parameter in widget.parameters) or "none"
        values: dict[str, str] = {}
        for name, value in raw:
            if name.casefold() in RESERVED_PARAMETERS:
                continue
            parameter = by_name.get(name.casefold())
            if parameter is None:
                raise InvalidInputError(
                    f"Unknown parameter {name}; accepted: {accepted}", code="unknown_parameter"
                )
            if parameter.name in values:
                raise InvalidInputError(
                    f"Parameter {parameter.name} is given more than once",
                    code="duplicate_parameter",
                )
            values[parameter.name] = value
        fields = {item.id: item for item in self._field_rows(session, widget)}
        for parameter in widget.parameters:
            value = values.get(parameter.name, "")
            if value == "":
                values.pop(parameter.name, None)
                if parameter.required and require:
                    raise InvalidInputError(
                        f"Missing parameter {parameter.name}", code="missing_parameter"
                    )
                continue
            parameter_field = fields.get(parameter.entity_field_id)
            if parameter_field is None:
                continue
            try:
                convert_value(source_field(parameter_field), value)
            except InvalidValueError as error:
                # The caller gave the parameter, so name it rather than the field behind it.
                reason = error.message.partition(": ")[2] or "it does not fit the field"
                raise InvalidValueError(
                    f"Invalid value for parameter {parameter.name}: {reason}",
                    field=parameter_field.api_name,
                ) from None
        return values

    def _field_rows(self, session: Session, widget: Widget) -> list[EntityField]:
        ids = [parameter.entity_field_id for parameter in widget.parameters]
        if not ids:
            return []
        return list(session.scalars(select(EntityField).where(EntityField.id.in_(ids))))

    # Rights ------------------------------------------------------------------------------

    def authorize(
        self, session: Session, caller: EmbedCaller, widget: Widget
    ) -> tuple[Access, WidgetSource]:
        """Return the owner's rights and the resolved widget, checked for opening it.

        Raises PermissionDeniedError without the WidgetReader role or the data grant, and
        NotFoundError when the list or company is gone or invisible to the owner.
        """
        access = load_access(session, caller.principal_id)
        access.require(roles.OPEN_WIDGETS, "WidgetReader")
        source = self._widgets.resolve(session, widget)
        access.require_list_data(source.entity.connector_id, source.entity.id, source.company.id)
        return access, source

    def frame_ancestors(self, session: Session, widget: Widget | None) -> list[str]:
        """Return the origins that may frame a widget: its own, else the account's defaults."""
        if widget is not None and widget.allowed_origins:
            return list(widget.allowed_origins)
        account = session.scalar(select(Account))
        if account is not None and account.default_embed_origins:
            return list(account.default_embed_origins)
        return []

    # Pages -------------------------------------------------------------------------------

    def parameter_restrictions(
        self, caller: EmbedCaller, source: WidgetSource
    ) -> tuple[RestrictionSpec, ...]:
        """Return the favorite's restrictions and one equality filter per parameter given."""
        given = tuple(
            RestrictionSpec(FieldRef(parameter_field.id, by_id=True), "eq", caller.parameters[name])
            for parameter, parameter_field in source.parameters
            if (name := parameter.name) in caller.parameters
        )
        return source.restrictions + given

    def page(
        self,
        session: Session,
        caller: EmbedCaller,
        access: Access,
        source: WidgetSource,
        view: ViewState,
    ) -> WidgetPage:
        """Return one page of the widget; raises what ``DataService.prepare`` raises."""
        setup = self.view_setup(session, caller.read_only, access, source)
        if source.widget.type == "summary":
            page = setup.empty_page(view)
            page.has_keys = False
            self._fill_summary(session, caller, access, source, page)
            return page
        prepared = self.prepare_rows(
            session, caller, access, source, view, setup.page_size, setup.key_fields
        )
        total = prepared.count_rows()
        return setup.page(source, view, total, list(prepared.stream()))

    def view_setup(
        self, session: Session, read_only: bool, access: Access, source: WidgetSource
    ) -> ViewSetup:
        """Return what every page of the widget shows its owner, whatever the paging."""
        widget = source.widget
        columns = [self._column(item) for item in source.fields]
        connector_id = source.entity.connector_id
        key_fields = [item for item in self._data.visible_fields(source.entity) if item.primary_key]
        caller_actions = self._offered_actions(session, read_only, access, source)
        details = []
        if widget.type == "grid" and key_fields:
            details = self._offered_details(session, access, source)
        return ViewSetup(
            widget=widget,
            columns=columns,
            page_size=page_size_of(widget),
            key_fields=key_fields,
            actions=caller_actions,
            details=details,
            export_formats=[
                format_name
                for format_name, permission in (
                    ("csv", roles.CONNECTOR_EXPORT_TEXT),
                    ("xlsx", roles.CONNECTOR_EXPORT_EXCEL),
                )
                if access.has_connector_permission(connector_id, permission)
            ],
        )

    def prepare_rows(
        self,
        session: Session,
        caller: EmbedCaller,
        access: Access,
        source: WidgetSource,
        view: ViewState,
        max_records: int,
        extra_fields: Sequence[EntityField] = (),
        export_format: str = "json",
    ) -> PreparedQuery:
        """Return the widget's query: its fields (then ``extra_fields``), filters and order."""
        request = self.view_request(caller, source, view, max_records, extra_fields, export_format)
        return self._data.prepare(session, request, access)

    def view_request(
        self,
        caller: EmbedCaller,
        source: WidgetSource,
        view: ViewState,
        max_records: int,
        extra_fields: Sequence[EntityField] = (),
        export_format: str = "json",
    ) -> DataRequest:
        """Return the data request of ``prepare_rows``; raises InvalidInputError for a bad view."""
        by_api = {item.api_name.casefold(): item for item in source.fields}
        restrictions = self.parameter_restrictions(caller, source)
        if view.search:
            search_field = by_api.get((view.search_field or "").casefold())
            if search_field is None:
                raise InvalidInputError("Choose a field to search in", code="invalid_search")
            restrictions += (
                RestrictionSpec(FieldRef(search_field.id, by_id=True), "contains", view.search),
            )
        order_by = source.order_by
        if view.sort:
            sort_field = by_api.get(view.sort.casefold())
            if sort_field is None:
                raise InvalidInputError(f"Unknown field {view.sort}", code="unknown_field")
            order_by = (OrderSpec(FieldRef(sort_field.id, by_id=True), view.descending),)
        # Extra fields come after the shown ones even when shown too, at fixed positions.
        fields = [*source.fields, *extra_fields]
        return DataRequest(
            entity_id=source.entity.id,
            company_id=source.company.id,
            fields=tuple(FieldRef(item.id, by_id=True) for item in fields),
            restrictions=restrictions,
            order_by=order_by,
            skip=view.skip,
            max_records=max_records,
            format=export_format,
        )

    def _column(self, entity_field: EntityField) -> Column:
        numeric = entity_field.type in ("integer", "decimal", "float")
        return Column(entity_field.api_name, entity_field.display_name, numeric)

    def _offered_actions(
        self, session: Session, read_only: bool, access: Access, source: WidgetSource
    ) -> list[OfferedAction]:
        if read_only or not source.widget.actions:
            return []
        connector_id = source.entity.connector_id
        by_api = {item.api_name: item for item in self._data.visible_fields(source.entity)}
        offered = []
        for action_id in source.widget.actions:
            action = session.get(Action, action_id)
            if action is None or action.entity_id != source.entity.id:
                continue
            if not access.runs_action(connector_id, action.id):
                continue
            prompts = [
                self._column(by_api[name])
                for name, value in action.values.items()
                if value is None and name in by_api
            ]
            offered.append(
                OfferedAction(
                    action_id=action.id,
                    name=action.name,
                    action_type=action.action_type,
                    scope=action.scope,
                    confirmation_button=action.confirmation_button,
                    cancel_button=action.cancel_button,
                    allow_multiple=action.allow_multiple,
                    prompts=prompts,
                )
            )
        return offered

    def _offered_details(
        self, session: Session, access: Access, source: WidgetSource
    ) -> list[OfferedDetail]:
        details = []
        for relationship in self._relationships.list_for_entity(session, access, source.entity.id):
            target_id = relationship.to_entity_id
            if access.reads_list_data(relationship.connector_id, target_id):
                details.append(OfferedDetail(relationship.id, relationship.name))
        return details

    def _fill_summary(
        self,
        session: Session,
        caller: EmbedCaller,
        access: Access,
        source: WidgetSource,
        page: WidgetPage,
    ) -> None:
        """Count the records and total the summary field per value of the group-by field."""
        widget = source.widget
        visible = {item.id: item for item in self._data.visible_fields(source.entity)}
        group_field = visible.get(widget.group_by_field_id or "")
        total_field = visible.get(widget.summary_field_id or "")
        if group_field is None or total_field is None:
            raise NotFoundError(
                "The summary's fields are no longer visible", code="widget_source_missing"
            )
        page.summary_labels = (group_field.display_name, total_field.display_name)
        request = DataRequest(
            entity_id=source.entity.id,
            company_id=source.company.id,
            fields=(FieldRef(group_field.id, by_id=True), FieldRef(total_field.id, by_id=True)),
            restrictions=self.parameter_restrictions(caller, source),
        )
        prepared = self._data.prepare(session, request, access)
        query = replace(prepared.query, key_fields=(), order_by=(), limit=None, skip=0)
        engine = prepared.engine
        rows_subquery = build_select(query, engine.dialect.name).subquery()
        statement = (
            sa.select(
                rows_subquery.c.c0,
                sa.func.count().label("records"),
                sa.func.sum(rows_subquery.c.c1).label("total"),
            )
            .group_by(rows_subquery.c.c0)
            .order_by(rows_subquery.c.c0)
            .limit(page.page_size)
        )
        try:
            with engine.connect() as connection:
                results = list(connection.execute(statement))
        except exc.DBAPIError as error:
            raise source_error_for_engine(error, engine) from error
        grand_total = Decimal(0)
        for group, count, total in results:
            page.summary.append(
                SummaryGroup(
                    label=display_text(group, group_field.type, group_field.decimal_places),
                    count=int(count),
                    total=display_text(total, total_field.type, total_field.decimal_places),
                )
            )
            page.total_count += int(count)
            if total is not None:
                grand_total += Decimal(str(total))
        page.summary_total = display_text(grand_total, total_field.type, total_field.decimal_places)

    # Details -----------------------------------------------------------------------------

    def detail_rows(
        self,
        session: Session,
        caller: EmbedCaller,
        access: Access,
        source: WidgetSource,
        relationship_id: str,
        key: dict[str, Any],
    ) -> tuple[list[Column], list[list[str]]]:
        """Return the columns and rows of a record's detail (at most ``DETAIL_ROWS`` rows).

        The record must be within the widget's filters. Raises NotFoundError for a detail the
        owner is not granted or a record that does not exist.
        """
        relationship = self._relationships.get_visible(session, access, relationship_id)
        if relationship.from_entity_id != source.entity.id:
            raise NotFoundError("Detail not found", code="relationship_not_found")
        key_fields = [item for item in self._data.visible_fields(source.entity) if item.primary_key]
        pairs = self._relationships.key_fields(session, relationship)
        record_filter = self.parameter_restrictions(caller, source) + self._key_restrictions(
            key_fields, key
        )
        prepared = self._data.prepare(
            session,
            DataRequest(
                entity_id=source.entity.id,
                company_id=source.company.id,
                fields=tuple(FieldRef(pair.source.id, by_id=True) for pair in pairs),
                restrictions=record_filter,
                max_records=2,
            ),
            access,
        )
        records = list(prepared.stream())
        if len(records) != 1:
            raise NotFoundError("Record not found", code="record_not_found")
        arguments = [
            (pair.source.api_name, "" if value is None else str(key_value(value)))
            for pair, value in zip(pairs, records[0], strict=True)
        ]
        target = self._data.load_entity(session, relationship.to_entity_id)
        target_fields = [item for item in self._data.visible_fields(target) if item.default_field]
        detail = self._data.prepare(
            session,
            DataRequest(
                entity_id=target.id,
                company_id=source.company.id,
                fields=tuple(FieldRef(item.id, by_id=True) for item in target_fields),
                restrictions=self._relationships.restrictions(pairs, arguments),
                max_records=DETAIL_ROWS,
            ),
            access,
        )
        rows = [
            [
                display_text(value, item.type, item.decimal_places)
                for value, item in zip(values, target_fields, strict=True)
            ]
            for values in detail.stream()
        ]
        return [self._column(item) for item in target_fields], rows

    def _key_restrictions(
        self, key_fields: list[EntityField], key: dict[str, Any]
    ) -> tuple[RestrictionSpec, ...]:
        names = {item.api_name.casefold(): item for item in key_fields}
        if not key_fields or {name.casefold() for name in key} != set(names):
            raise InvalidInputError("The record key is incomplete", code="invalid_keys")
        return tuple(
            RestrictionSpec(FieldRef(names[name.casefold()].id, by_id=True), "eq", value)
            for name, value in key.items()
        )

    # Actions -----------------------------------------------------------------------------

    def run_action(
        self,
        session: Session,
        caller: EmbedCaller,
        access: Access,
        source: WidgetSource,
        action_id: str,
        keys: Sequence[dict[str, Any]],
        values: dict[str, Any],
        *,
        ip: str | None,
    ) -> int:
        """Run one of the widget's actions within its filters; returns the records changed.

        Raises PermissionDeniedError (``read_only_token``) for a read-only token and
        NotFoundError for an action the widget does not offer; otherwise what
        ``ActionService.run`` raises.
        """
        require_writable(caller)
        if action_id not in source.widget.actions:
            raise NotFoundError("Action not found", code="action_not_found")
        action = session.get(Action, action_id)
        if action is None or action.entity_id != source.entity.id:
            raise NotFoundError("Action not found", code="action_not_found")
        return self._actions.run(
            session,
            access,
            action,
            RunRequest(
                company_id=source.company.id,
                keys=tuple(keys),
                values=values,
                restrictions=self.parameter_restrictions(caller, source),
            ),
            RunActor(
                principal_id=caller.principal_id, token_id=caller.token_id, ip=ip, surface="widget"
            ),
        )


def require_writable(caller: EmbedCaller) -> None:
    """Raise PermissionDeniedError (``read_only_token``) when the token is read-only."""
    if caller.read_only:
        raise PermissionDeniedError("Read-only tokens cannot run actions", code="read_only_token")
