"""Actions: ``change_field``, ``delete`` and ``webhook`` operations on records of a list.

Defining an action needs the system Administrator or Developer role, or the connector's
Administrator role, on a list the caller can see. Running one needs a grant on the action
(``Access.runs_action``) and on the list's data in the company.

A run targets records by primary key (record scope) or every record matching the caller's
restrictions (list scope). ``change_field`` and ``delete`` run in one source transaction: each
targeted record is first selected within the restrictions, and when one is missing or one
value is invalid nothing changes. Every run, successful or not, is an ``action_run`` audit
event with the action id, the record count and the outcome, and never the values or the
webhook URL, which may hold secrets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.connectors.columns import column_type
from listdock.connectors.engines import source_error_for_engine
from listdock.connectors.formats import render
from listdock.connectors.query import build_select, convert_value
from listdock.connectors.types import FieldType
from listdock.domain.models import Action, Company, Entity, EntityField
from listdock.errors import (
    ConflictError,
    InvalidInputError,
    InvalidValueError,
    ListdockError,
    NotFoundError,
    PermissionDeniedError,
    SourceConnectionError,
    SourceError,
    SourceTimeoutError,
)
from listdock.security import roles
from listdock.security.policy import Access
from listdock.security.webhook_targets import WebhookTargets
from listdock.services.audit import AuditLog
from listdock.services.connectors import ConnectorService
from listdock.services.data import DataRequest, DataService, FieldRef, RestrictionSpec, source_field
from listdock.services.grants import remove_grant_targets

logger = logging.getLogger(__name__)

ACTION_TYPES = ("change_field", "delete", "webhook")
SCOPES = ("record", "list")
DEFAULT_CAPTIONS = {
    "change_field": ("Apply", "Cancel"),
    "delete": ("Delete", "Cancel"),
    "webhook": ("Send", "Cancel"),
}
MAX_NAME_LENGTH = 200
MAX_CAPTION_LENGTH = 100
MAX_KEYS = 1000
# Records changed by one UPDATE or DELETE statement, each named in its IN list.
WRITE_BATCH = 500


@dataclass(frozen=True)
class ActionSpec:
    """An action definition as a request gives it; None captions take the type's defaults."""

    name: str
    action_type: str
    scope: str = "record"
    values: Mapping[str, Any] | None = None
    url: str | None = None
    confirmation_button: str | None = None
    cancel_button: str | None = None
    allow_multiple: bool = False


@dataclass(frozen=True)
class RunRequest:
    """One run: the company, the records' keys (record scope) and the prompted values.

    ``restrictions`` narrow the records an action may touch (a widget's parameters); a key
    outside them counts as a missing record.
    """

    company_id: str | None
    keys: tuple[Mapping[str, Any], ...] = ()
    values: Mapping[str, Any] | None = None
    restrictions: tuple[RestrictionSpec, ...] = ()


@dataclass(frozen=True)
class RunActor:
    """The principal, token and address that run an action, for the audit event."""

    principal_id: str
    token_id: str | None = None
    ip: str | None = None
    surface: str = "api"


def check_webhook_url(url: str | None) -> str:
    """Return the URL stripped, or raise InvalidInputError unless it is an http(s) URL."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError("Url must be an http or https URL", code="invalid_url")
    return text


def write_records(
    connection: sa.Connection,
    table: sa.TableClause,
    key_names: Sequence[str],
    targets: Sequence[tuple[Any, ...]],
    values: Mapping[str, Any] | None,
    *,
    batch_size: int = WRITE_BATCH,
) -> int:
    """Set ``values`` on the records whose keys are ``targets``, or delete them when None.

    Each statement names up to ``batch_size`` records by key (an IN list, of row values for a
    key of several columns). Returns the number of records. Raises NotFoundError when a
    statement changes fewer records than it names; the caller's transaction then rolls back.
    """
    # Keys given twice in different forms (1 and "1") name one record.
    unique = list(dict.fromkeys(targets))
    key_columns = [table.c[name] for name in key_names]
    for start in range(0, len(unique), batch_size):
        batch = unique[start : start + batch_size]
        if len(key_columns) == 1:
            condition = key_columns[0].in_([target[0] for target in batch])
        else:
            condition = sa.tuple_(*key_columns).in_(batch)
        if values is None:
            result = connection.execute(sa.delete(table).where(condition))
        else:
            result = connection.execute(sa.update(table).where(condition).values(dict(values)))
        if result.rowcount != len(batch):
            raise NotFoundError("Record not found", code="record_not_found")
    return len(unique)


class ActionService:
    def __init__(
        self,
        clock: Clock,
        audit: AuditLog,
        data: DataService,
        connectors: ConnectorService,
        *,
        webhook_timeout: float = 5.0,
        webhook_targets: WebhookTargets | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._data = data
        self._connectors = connectors
        self._webhook_timeout = webhook_timeout
        self._webhook_targets = webhook_targets or WebhookTargets()
        self._transport = transport

    def __repr__(self) -> str:
        return "ActionService()"

    # Reading -----------------------------------------------------------------------------

    def get_visible(self, session: Session, access: Access, action_id: str) -> Action:
        """Return the action if the caller sees its list; otherwise raise NotFoundError."""
        action = session.get(Action, action_id)
        if action is None or not access.sees_list(action.connector_id, action.entity_id):
            raise NotFoundError("Action not found", code="action_not_found")
        return action

    def list_visible(
        self, session: Session, access: Access, entity_id: str | None = None
    ) -> list[Action]:
        """Return the actions of the lists visible to the caller, optionally of one list.

        Raises NotFoundError when ``entity_id`` names a list the caller cannot see.
        """
        statement = select(Action).order_by(Action.name, Action.id)
        if entity_id is not None:
            entity = self._data.load_entity(session, entity_id)
            if not access.sees_list(entity.connector_id, entity.id):
                raise NotFoundError("List not found", code="entity_not_found")
            statement = statement.where(Action.entity_id == entity.id)
        return [
            action
            for action in session.scalars(statement)
            if access.sees_list(action.connector_id, action.entity_id)
        ]

    def key_fields(self, entity: Entity) -> list[EntityField]:
        """Return the list's visible primary key fields (empty when it has none)."""
        return [field for field in self._data.visible_fields(entity) if field.primary_key]

    # Changing ----------------------------------------------------------------------------

    def create(
        self, session: Session, access: Access, entity_id: str, spec: ActionSpec, *, actor_id: str
    ) -> Action:
        """Define an action on a list in ``session`` (the caller commits) and audit it.

        Raises NotFoundError for a list the caller cannot see, PermissionDeniedError without
        the right to define actions, ConflictError for a taken name and InvalidInputError for
        an invalid definition.
        """
        entity = self._data.load_entity(session, entity_id)
        self._require_manage(access, entity)
        now = self._clock.now()
        action = Action(
            connector_id=entity.connector_id,
            entity_id=entity.id,
            created_by=actor_id,
            created=now,
            modified=now,
        )
        self._apply(session, entity, action, spec)
        session.add(action)
        session.flush()
        self._audit.record(
            "action_created", actor_id=actor_id, target=f"action:{action.id}", session=session
        )
        return action

    def update(
        self, session: Session, access: Access, action: Action, spec: ActionSpec, *, actor_id: str
    ) -> Action:
        """Replace an action's definition with ``spec``; raises what ``create`` raises."""
        entity = self._data.load_entity(session, action.entity_id)
        self._require_manage(access, entity)
        self._apply(session, entity, action, spec)
        action.modified = self._clock.now()
        session.flush()
        self._audit.record(
            "action_changed", actor_id=actor_id, target=f"action:{action.id}", session=session
        )
        return action

    def delete(self, session: Session, access: Access, action: Action, *, actor_id: str) -> None:
        """Delete an action and remove its id from every grant.

        Widgets that offered the action stop showing it.
        """
        entity = self._data.load_entity(session, action.entity_id)
        self._require_manage(access, entity)
        self._audit.record(
            "action_deleted", actor_id=actor_id, target=f"action:{action.id}", session=session
        )
        remove_grant_targets(
            session, entity.connector_id, now=self._clock.now(), actions=[action.id]
        )
        session.delete(action)
        session.flush()

    def _require_manage(self, access: Access, entity: Entity) -> None:
        if not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")
        if not (access.has(roles.DEVELOP) or access.administers_connector(entity.connector_id)):
            raise PermissionDeniedError(
                "The Developer or connector Administrator role is required", code="missing_role"
            )

    def _apply(self, session: Session, entity: Entity, action: Action, spec: ActionSpec) -> None:
        name = spec.name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        if spec.action_type not in ACTION_TYPES:
            raise InvalidInputError(
                f"ActionType must be one of {', '.join(ACTION_TYPES)}", code="invalid_action_type"
            )
        if spec.scope not in SCOPES:
            raise InvalidInputError("Scope must be record or list", code="invalid_scope")
        clash = session.scalar(
            select(Action.id).where(
                Action.entity_id == entity.id,
                Action.name_normalized == name.casefold(),
                Action.id != action.id,
            )
        )
        if clash is not None:
            raise ConflictError("An action with this name already exists", code="action_name_taken")

        changes_data = spec.action_type in ("change_field", "delete")
        if changes_data and entity.type != "table":
            raise InvalidInputError(
                "Actions that change data need a list that is a table", code="not_a_table"
            )
        if (spec.scope == "record" or changes_data) and not self.key_fields(entity):
            raise InvalidInputError(
                "This list has no primary key, so it cannot have record actions",
                code="no_primary_key",
            )
        values = self._checked_values(entity, spec)
        url = None
        if spec.action_type == "webhook":
            url = check_webhook_url(spec.url)
            self._webhook_targets.check_definition(url)
        if spec.action_type != "webhook" and spec.url is not None:
            raise InvalidInputError("Url applies only to webhook actions", code="invalid_url")
        default_confirm, default_cancel = DEFAULT_CAPTIONS[spec.action_type]
        confirm = self._caption(spec.confirmation_button, default_confirm, "ConfirmationButton")
        cancel = self._caption(spec.cancel_button, default_cancel, "CancelButton")

        action.name = name
        action.name_normalized = name.casefold()
        action.action_type = spec.action_type
        action.scope = spec.scope
        action.values = values
        action.url = url
        action.confirmation_button = confirm
        action.cancel_button = cancel
        action.allow_multiple = spec.allow_multiple

    def _caption(self, caption: str | None, default: str, key: str) -> str:
        if caption is None:
            return default
        text = caption.strip()
        if not text or len(text) > MAX_CAPTION_LENGTH:
            raise InvalidInputError(f"{key} must be 1 to 100 characters", code="invalid_caption")
        return text

    def _checked_values(self, entity: Entity, spec: ActionSpec) -> dict[str, Any]:
        """Return the values keyed by ApiName, each fixed value converted to check its type."""
        if spec.action_type != "change_field":
            if spec.values:
                raise InvalidInputError(
                    "Values apply only to change_field actions", code="invalid_values"
                )
            return {}
        if not spec.values:
            raise InvalidInputError(
                "A change_field action needs at least one value", code="invalid_values"
            )
        fields = {field.api_name.casefold(): field for field in self._data.visible_fields(entity)}
        checked: dict[str, Any] = {}
        for api_name, value in spec.values.items():
            field = fields.get(api_name.casefold())
            if field is None:
                raise InvalidInputError(f"Unknown field {api_name}", code="unknown_field")
            if field.primary_key:
                raise InvalidInputError(
                    f"Field {field.api_name} is part of the primary key and cannot be changed",
                    code="invalid_values",
                )
            if field.type == FieldType.BINARY.value:
                raise InvalidInputError(
                    f"Field {field.api_name} is binary and cannot be changed",
                    code="invalid_values",
                )
            if value is not None:
                convert_value(source_field(field), value)
            checked[field.api_name] = value
        return checked

    # Running -----------------------------------------------------------------------------

    def run(
        self, session: Session, access: Access, action: Action, request: RunRequest, actor: RunActor
    ) -> int:
        """Run an action and return the number of records it changed (or sent, for webhooks).

        Raises NotFoundError for an invisible list, company or record, PermissionDeniedError
        without the action or data grant, InvalidInputError for bad keys or values,
        ConflictError when the source rejects the change, and SourceError (or a subclass)
        when the source or the webhook fails. Every outcome is audited.
        """
        try:
            count = self._run(session, access, action, request)
        except ListdockError as error:
            self._audit_run(action, actor, request, outcome="failure", count=0, reason=error.code)
            raise
        self._audit_run(action, actor, request, outcome="success", count=count, reason=None)
        return count

    def _audit_run(
        self,
        action: Action,
        actor: RunActor,
        request: RunRequest,
        *,
        outcome: str,
        count: int,
        reason: str | None,
    ) -> None:
        self._audit.record(
            "action_run",
            outcome=outcome,
            actor_id=actor.principal_id,
            token_id=actor.token_id,
            target=f"action:{action.id}",
            reason=reason,
            ip=actor.ip,
            details={
                "action_id": action.id,
                "action_type": action.action_type,
                "company_id": request.company_id,
                "count": count,
                "surface": actor.surface,
            },
        )

    def _run(self, session: Session, access: Access, action: Action, request: RunRequest) -> int:
        entity = self._data.load_entity(session, action.entity_id)
        connector = self._connectors.get(session, entity.connector_id)
        company = self._data.resolve_company(session, connector, request.company_id)
        access.require_list_data(entity.connector_id, entity.id, company.id)
        if not access.runs_action(entity.connector_id, action.id):
            raise PermissionDeniedError(
                "No grant allows running this action", code="no_action_grant"
            )
        key_fields = self.key_fields(entity)
        keys = self._checked_keys(action, key_fields, request.keys)

        if action.action_type == "webhook":
            return self._run_webhook(session, action, entity, company, keys, request)
        values = self._run_values(action, entity, request.values)
        engine = self._connectors.engine_for(connector, company)
        try:
            with engine.begin() as connection:
                targets = self._select_targets(
                    session, connection, entity, company, key_fields, keys, request
                )
                return self._write(connection, action, entity, key_fields, targets, values)
        except exc.IntegrityError as error:
            logger.info("Action %s was rejected by the source: %s", action.id, type(error).__name__)
            raise ConflictError(
                "The source rejected the change because it breaks a constraint",
                code="source_constraint",
            ) from None
        except exc.DBAPIError as error:
            raise source_error_for_engine(error, engine) from error

    def _checked_keys(
        self,
        action: Action,
        key_fields: list[EntityField],
        keys: Sequence[Mapping[str, Any]],
    ) -> list[dict[str, Any]]:
        """Return each key as ``{ApiName: raw value}`` covering exactly the primary key."""
        if action.scope == "list":
            if keys:
                raise InvalidInputError("A list action takes no Keys", code="invalid_keys")
            return []
        if not key_fields:
            raise InvalidInputError(
                "This list has no primary key, so record actions cannot run",
                code="no_primary_key",
            )
        if not keys:
            raise InvalidInputError("Keys must name at least one record", code="invalid_keys")
        if len(keys) > 1 and not action.allow_multiple:
            raise InvalidInputError(
                "This action runs on one record at a time", code="multiple_not_allowed"
            )
        if len(keys) > MAX_KEYS:
            raise InvalidInputError(
                f"Keys may name at most {MAX_KEYS} records", code="invalid_keys"
            )
        names = {field.api_name.casefold(): field.api_name for field in key_fields}
        checked: list[dict[str, Any]] = []
        for key in keys:
            given = {}
            for name, value in key.items():
                api_name = names.get(str(name).casefold())
                if api_name is None or value is None:
                    raise InvalidInputError(
                        f"Each key must give exactly {', '.join(names.values())}",
                        code="invalid_keys",
                    )
                given[api_name] = value
            if len(given) != len(names):
                raise InvalidInputError(
                    f"Each key must give exactly {', '.join(names.values())}", code="invalid_keys"
                )
            if given not in checked:
                checked.append(given)
        return checked

    def _run_values(
        self, action: Action, entity: Entity, given: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Return the converted values to set, keyed by source column name."""
        if action.action_type != "change_field":
            if given:
                raise InvalidInputError("This action takes no Values", code="invalid_values")
            return {}
        fields = {field.api_name: field for field in self._data.visible_fields(entity)}
        prompted = {name.casefold(): name for name, value in action.values.items() if value is None}
        supplied: dict[str, Any] = {}
        for name, value in (given or {}).items():
            api_name = prompted.get(str(name).casefold())
            if api_name is None:
                raise InvalidInputError(
                    f"Value {name} is not one this action asks for", code="invalid_values"
                )
            supplied[api_name] = value
        missing = [name for name in prompted.values() if name not in supplied]
        if missing:
            raise InvalidInputError(f"Missing value for {', '.join(missing)}", code="missing_value")

        converted: dict[str, Any] = {}
        for api_name, fixed in action.values.items():
            field = fields.get(api_name)
            if field is None:
                raise ConflictError(
                    f"Field {api_name} of this action is no longer available",
                    code="action_field_unavailable",
                )
            raw = supplied[api_name] if fixed is None else fixed
            value = convert_value(source_field(field), raw)
            if value is None and not field.nullable:
                raise InvalidValueError(
                    f"Invalid value for field {api_name}: a value is required",
                    field=api_name,
                )
            converted[field.source_name] = value
        return converted

    def _select_targets(
        self,
        session: Session,
        connection: sa.Connection,
        entity: Entity,
        company: Company,
        key_fields: list[EntityField],
        keys: list[dict[str, Any]],
        request: RunRequest,
    ) -> list[tuple[Any, ...]]:
        """Return the primary key values of every targeted record, read in the transaction.

        Raises NotFoundError when a key matches no record within the restrictions.
        """
        refs = tuple(FieldRef(field.id, by_id=True) for field in key_fields)
        dialect = connection.dialect.name
        if not keys:
            prepared = self._data.prepare(
                session,
                DataRequest(
                    entity_id=entity.id,
                    company_id=company.id,
                    fields=refs,
                    restrictions=request.restrictions,
                    max_records=1,
                ),
            )
            # Reading one row more than the limit shows whether the list is too large.
            limit = self._data.max_records_limit
            query = replace(prepared.query, limit=limit + 1)
            rows = [tuple(row) for row in connection.execute(build_select(query, dialect))]
            if len(rows) > limit:
                raise InvalidInputError(
                    f"A list action changes at most {limit} records, and this list has more",
                    code="too_many_records",
                )
            return rows

        targets = []
        for key in keys:
            restrictions = request.restrictions + tuple(
                RestrictionSpec(FieldRef(api_name), "eq", value) for api_name, value in key.items()
            )
            prepared = self._data.prepare(
                session,
                DataRequest(
                    entity_id=entity.id,
                    company_id=company.id,
                    fields=refs,
                    restrictions=restrictions,
                    max_records=2,
                ),
            )
            rows = list(connection.execute(build_select(prepared.query, dialect)))
            if len(rows) != 1:
                raise NotFoundError("Record not found", code="record_not_found")
            targets.append(tuple(rows[0]))
        return targets

    def _write(
        self,
        connection: sa.Connection,
        action: Action,
        entity: Entity,
        key_fields: list[EntityField],
        targets: list[tuple[Any, ...]],
        values: dict[str, Any],
    ) -> int:
        dialect = connection.dialect.name
        fields_by_column = {field.source_name: field for field in self._data.visible_fields(entity)}
        columns = {field.source_name for field in key_fields} | set(values)
        table = sa.table(
            entity.source_name,
            *(
                sa.column(name, column_type(FieldType(fields_by_column[name].type), dialect))
                for name in sorted(columns)
            ),
        )
        key_names = [field.source_name for field in key_fields]
        if action.action_type == "delete":
            return write_records(connection, table, key_names, targets, None)
        return write_records(connection, table, key_names, targets, values)

    # Webhooks ----------------------------------------------------------------------------

    def _run_webhook(
        self,
        session: Session,
        action: Action,
        entity: Entity,
        company: Company,
        keys: list[dict[str, Any]],
        request: RunRequest,
    ) -> int:
        assert action.url is not None
        self._webhook_targets.check_before_post(action.url, action.id)
        fields = self._data.visible_fields(entity)
        refs = tuple(FieldRef(field.id, by_id=True) for field in fields)
        batches = []
        if not keys:
            prepared = self._data.prepare(
                session,
                DataRequest(
                    entity_id=entity.id,
                    company_id=company.id,
                    fields=refs,
                    restrictions=request.restrictions,
                    max_records=self._data.max_records_limit,
                ),
            )
            batches.append(list(prepared.stream()))
        for key in keys:
            restrictions = request.restrictions + tuple(
                RestrictionSpec(FieldRef(api_name), "eq", value) for api_name, value in key.items()
            )
            prepared = self._data.prepare(
                session,
                DataRequest(
                    entity_id=entity.id,
                    company_id=company.id,
                    fields=refs,
                    restrictions=restrictions,
                    max_records=2,
                ),
            )
            rows = list(prepared.stream())
            if len(rows) != 1:
                raise NotFoundError("Record not found", code="record_not_found")
            batches.append(rows)
        rows = [row for batch in batches for row in batch]
        records = b"".join(render("json", tuple(source_field(field) for field in fields), rows))
        header = json.dumps(
            {
                "ActionId": action.id,
                "ActionName": action.name,
                "EntityId": entity.id,
                "CompanyId": company.id,
            }
        )
        body = header[:-1].encode("utf-8") + b', "Records": ' + records + b"}"
        self._post(action, body)
        return len(rows)

    def _post(self, action: Action, body: bytes) -> None:
        """POST ``body`` to the action's URL; raise SourceError unless the status is 2xx."""
        assert action.url is not None
        seconds = f"{self._webhook_timeout:g}"
        try:
            with httpx.Client(
                timeout=self._webhook_timeout, transport=self._transport, follow_redirects=False
            ) as client:
                response = client.post(
                    action.url, content=body, headers={"Content-Type": "application/json"}
                )
        except httpx.TimeoutException:
            logger.warning("Webhook of action %s timed out after %s seconds", action.id, seconds)
            raise SourceTimeoutError(
                f"The webhook timed out after {seconds} seconds", code="webhook_timeout"
            ) from None
        except httpx.HTTPError as error:
            logger.warning("Webhook of action %s failed: %s", action.id, type(error).__name__)
            raise SourceConnectionError(
                "The webhook could not be reached", code="webhook_unreachable"
            ) from None
        if not response.is_success:
            logger.warning(
                "Webhook of action %s failed with status %d", action.id, response.status_code
            )
            raise SourceError(
                f"The webhook failed with status {response.status_code}", code="webhook_failed"
            )
