"""Custom lists: a base list with fixed restrictions, chosen fields and user variables.

A custom list is an ``Entity`` with ``type == "custom"``. Its fields are copies of the chosen
base fields (same source column and ApiName); ``fixed_restrictions`` contains
``{"EntityFieldId", "Operator", "Value"}`` or ``{"EntityFieldId", "Operator", "Variable"}``
objects over the base list's fields, and ``variables`` holds ``{"Name", "Type", "Default"}``.
The data service reads a custom list from its base table and always applies its fixed
restrictions; a variable takes the value of the query parameter of its name, else its default.

Variable defaults may be relative to today's date (UTC, from the injected clock):
``today``, ``yesterday``, ``start_of_week`` (Monday), ``start_of_month``, ``end_of_month``,
``start_of_year``, ``end_of_year``, ``days_ago:N`` and ``days_ahead:N``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from listdock.clock import Clock
from listdock.connectors.query import Restriction, normalize_restriction
from listdock.connectors.types import FieldType, SourceField
from listdock.connectors.values import EXPECTED, convert_value
from listdock.domain.models import (
    Action,
    Entity,
    EntityField,
    EntityGroup,
    EntityRelationship,
    new_id,
)
from listdock.errors import (
    ConflictError,
    InvalidInputError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)
from listdock.security import roles
from listdock.security.policy import Access
from listdock.services.grants import remove_grant_targets

logger = logging.getLogger(__name__)

CUSTOM_GROUP_NAME = "Custom lists"
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
RESERVED_NAMES = frozenset(
    {"token", "format", "maxrecords", "skip", "orderby", "count", "company", "fields"}
)
VARIABLE_TYPES = tuple(
    field_type.value for field_type in FieldType if field_type is not FieldType.BINARY
)
RELATIVE_DAYS = re.compile(r"(days_ago|days_ahead):(\d{1,5})")
RELATIVE_DATES = (
    "today",
    "yesterday",
    "start_of_week",
    "start_of_month",
    "end_of_month",
    "start_of_year",
    "end_of_year",
    "days_ago:N",
    "days_ahead:N",
)


@dataclass(frozen=True)
class CustomRestrictionInput:
    """A fixed restriction: ``value`` is used unless ``variable`` names a variable."""

    entity_field_id: str
    operator: str
    value: Any = None
    variable: str | None = None


@dataclass(frozen=True)
class VariableInput:
    name: str
    type: str
    default: Any = None


@dataclass(frozen=True)
class CustomListSpec:
    """A new custom list; empty ``fields`` copies every visible field of the base list."""

    name: str
    fields: tuple[str, ...] = ()
    restrictions: tuple[CustomRestrictionInput, ...] = ()
    variables: tuple[VariableInput, ...] = ()


@dataclass(frozen=True)
class CustomSource:
    """The source of a custom list's rows: the base table, filtered by ``restrictions``.

    ``columns`` are the source columns still visible in the base list; the custom list's
    other fields are treated as hidden.
    """

    table: str
    restrictions: tuple[Restriction, ...]
    columns: frozenset[str]


def relative_date(expression: str, today: dt.date) -> dt.date | None:
    """Return the date a relative expression names, or None if it is not one."""
    word = expression.strip().lower()
    match = RELATIVE_DAYS.fullmatch(word)
    if match is not None:
        days = int(match.group(2))
        return (
            today - dt.timedelta(days=days)
            if match.group(1) == "days_ago"
            else today + dt.timedelta(days=days)
        )
    if word == "today":
        return today
    if word == "yesterday":
        return today - dt.timedelta(days=1)
    if word == "start_of_week":
        return today - dt.timedelta(days=today.weekday())
    if word == "start_of_month":
        return today.replace(day=1)
    if word == "end_of_month":
        next_month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return next_month - dt.timedelta(days=1)
    if word == "start_of_year":
        return today.replace(month=1, day=1)
    if word == "end_of_year":
        return today.replace(month=12, day=31)
    return None


class CustomListService:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __repr__(self) -> str:
        return "CustomListService()"

    # Reading -----------------------------------------------------------------------------

    def source_for(
        self, session: Session, entity: Entity, arguments: Mapping[str, str]
    ) -> CustomSource:
        """Return the base table, the fixed restrictions and the visible columns of a custom list.

        ``arguments`` are the request's query values; those named like a variable
        (case-insensitively) set it. Raises NotFoundError (``base_list_missing``) when the base
        list is gone, ConflictError when a restriction's field vanished, and InvalidInputError
        for a variable with a bad value or with neither a value nor a default.
        """
        base = None
        if entity.base_entity_id is not None:
            base = session.get(Entity, entity.base_entity_id, options=[selectinload(Entity.fields)])
        if base is None or base.missing:
            raise NotFoundError(
                "The custom list's base list no longer exists", code="base_list_missing"
            )
        base_fields = {field.id: field for field in base.fields}
        values = self._variable_values(entity, arguments)

        restrictions = []
        for item in entity.fixed_restrictions or []:
            field = base_fields.get(item["EntityFieldId"])
            if field is None or field.missing:
                raise ConflictError(
                    "A field the custom list filters on no longer exists",
                    code="custom_list_field_missing",
                )
            variable = item.get("Variable")
            value = values[variable.casefold()] if variable else item.get("Value")
            restrictions.append(
                normalize_restriction(
                    Restriction(field=_source_field(field), operator=item["Operator"], value=value)
                )
            )
        columns = frozenset(
            field.source_name for field in base.fields if not field.hidden and not field.missing
        )
        return CustomSource(base.source_name, tuple(restrictions), columns)

    def _variable_values(self, entity: Entity, arguments: Mapping[str, str]) -> dict[str, Any]:
        given = {key.casefold(): value for key, value in arguments.items()}
        today = self._clock.now().date()
        values: dict[str, Any] = {}
        for variable in entity.variables or []:
            name = variable["Name"]
            raw = given.get(name.casefold())
            if raw is None or raw == "":
                raw = variable.get("Default")
            if raw is None:
                raise InvalidInputError(f"Variable {name} is required", code="missing_variable")
            values[name.casefold()] = self._variable_value(name, variable["Type"], raw, today)
        return values

    def _variable_value(self, name: str, type_name: str, raw: Any, today: dt.date) -> Any:
        """Return ``raw`` converted to the variable's type; relative dates are resolved first."""
        field_type = FieldType(type_name)
        if isinstance(raw, str) and field_type in (FieldType.DATE, FieldType.DATETIME):
            resolved = relative_date(raw, today)
            if resolved is not None:
                raw = resolved.isoformat()
        field = SourceField(column=name, api_name=name, label=name, type=field_type)
        try:
            return convert_value(field, raw)
        except InvalidValueError:
            expected = EXPECTED[field_type]
            if field_type in (FieldType.DATE, FieldType.DATETIME):
                expected += f" or one of {', '.join(RELATIVE_DATES)}"
            raise InvalidValueError(
                f"Invalid value for variable {name}: expected {expected}",
                field=name,
                code="invalid_variable",
            ) from None

    # Changing ----------------------------------------------------------------------------

    def create(
        self, session: Session, access: Access, base_entity_id: str, spec: CustomListSpec
    ) -> Entity:
        """Create a custom list over a table or view and return it.

        Needs the connector role CustomListContributor or connector Administrator
        (PermissionDeniedError ``missing_role``). Raises NotFoundError for a base list the
        caller cannot see, InvalidInputError for a bad name, field, operator, value, variable
        or a custom base list, and ConflictError for a name another list of the connector has.
        """
        base = session.get(Entity, base_entity_id, options=[selectinload(Entity.fields)])
        if base is None or base.missing or not access.sees_list(base.connector_id, base.id):
            raise NotFoundError("List not found", code="entity_not_found")
        if not access.has_connector_permission(base.connector_id, roles.CONNECTOR_CUSTOM_LISTS):
            raise PermissionDeniedError(
                "The CustomListContributor connector role is required", code="missing_role"
            )
        if base.type == "custom":
            raise InvalidInputError(
                "A custom list must be based on a table or view", code="invalid_base_list"
            )
        name = self._checked_name(session, base.connector_id, spec.name)
        visible = {
            field.id: field for field in base.fields if not field.hidden and not field.missing
        }
        chosen = self._chosen_fields(visible, spec.fields)
        variables = self._checked_variables(spec.variables)
        restrictions = self._checked_restrictions(visible, variables, spec.restrictions)

        now = self._clock.now()
        entity_id = new_id()
        entity = Entity(
            id=entity_id,
            connector_id=base.connector_id,
            group_id=self._group_id(session, base.connector_id),
            name=name,
            # The unique (connector, source_name, type) key needs a distinct source name per
            # custom list; reads use the base list's table, never this value.
            source_name=f"custom:{entity_id}",
            type="custom",
            item_name=name,
            item_singular=name,
            missing=False,
            created=now,
            modified=now,
            base_entity_id=base.id,
            fixed_restrictions=restrictions,
            variables=[
                {"Name": variable.name, "Type": variable.type, "Default": variable.default}
                for variable in variables
            ],
        )
        session.add(entity)
        session.flush()
        for position, field in enumerate(chosen):
            entity.fields.append(
                EntityField(
                    entity_id=entity.id,
                    source_name=field.source_name,
                    display_name=field.display_name,
                    api_name=field.api_name,
                    type=field.type,
                    source_type=field.source_type,
                    nullable=field.nullable,
                    primary_key=field.primary_key,
                    default_field=field.default_field,
                    hidden=False,
                    decimal_places=field.decimal_places,
                    position=position,
                    missing=False,
                )
            )
        session.flush()
        logger.info("Custom list %s created over list %s", entity.id, base.id)
        return entity

    def delete(self, session: Session, access: Access, entity_id: str) -> None:
        """Delete a custom list, its actions and its details, and remove their ids from grants.

        Tables and views cannot be deleted (InvalidInputError).
        """
        entity = session.get(Entity, entity_id)
        if entity is None or not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")
        if entity.type != "custom":
            raise InvalidInputError("Only custom lists can be deleted", code="not_custom_list")
        if not access.has_connector_permission(entity.connector_id, roles.CONNECTOR_CUSTOM_LISTS):
            raise PermissionDeniedError(
                "The CustomListContributor connector role is required", code="missing_role"
            )
        # The store deletes the list's actions and every detail from or to it along with the
        # list (ON DELETE CASCADE), so their ids must leave the grants as well. No list is based
        # on a custom list, because create() rejects a custom base list.
        action_ids = list(session.scalars(select(Action.id).where(Action.entity_id == entity.id)))
        detail_ids = list(
            session.scalars(
                select(EntityRelationship.id).where(
                    or_(
                        EntityRelationship.from_entity_id == entity.id,
                        EntityRelationship.to_entity_id == entity.id,
                    )
                )
            )
        )
        remove_grant_targets(
            session,
            entity.connector_id,
            now=self._clock.now(),
            lists=[entity.id],
            details=detail_ids,
            actions=action_ids,
        )
        session.delete(entity)
        session.flush()
        logger.info("Custom list %s deleted", entity_id)

    # Checks ------------------------------------------------------------------------------

    def _checked_name(self, session: Session, connector_id: str, name: str) -> str:
        clean = name.strip()
        if not clean or len(clean) > 200:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        clash = session.scalar(
            select(Entity.id).where(
                Entity.connector_id == connector_id,
                Entity.missing.is_(False),
                func.lower(Entity.name) == clean.lower(),
            )
        )
        if clash is not None:
            raise ConflictError("A list with this name already exists", code="name_taken")
        return clean

    def _chosen_fields(
        self, visible: dict[str, EntityField], field_ids: tuple[str, ...]
    ) -> list[EntityField]:
        if not field_ids:
            return list(visible.values())
        if len(set(field_ids)) != len(field_ids):
            raise InvalidInputError("Fields lists a field twice", code="duplicate_field")
        unknown = [field_id for field_id in field_ids if field_id not in visible]
        if unknown:
            raise InvalidInputError(f"Unknown field {unknown[0]}", code="unknown_field")
        return [visible[field_id] for field_id in field_ids]

    def _checked_variables(self, variables: tuple[VariableInput, ...]) -> list[VariableInput]:
        seen: set[str] = set()
        today = self._clock.now().date()
        for variable in variables:
            if (
                not VARIABLE_NAME.fullmatch(variable.name)
                or variable.name.casefold() in RESERVED_NAMES
            ):
                raise InvalidInputError(
                    f"Invalid variable name {variable.name!r}: use a letter, then up to 63 "
                    "letters, digits or underscores, and not a reserved query name",
                    code="invalid_variable",
                )
            if variable.name.casefold() in seen:
                raise InvalidInputError(
                    f"Variable {variable.name} is defined twice", code="invalid_variable"
                )
            seen.add(variable.name.casefold())
            if variable.type not in VARIABLE_TYPES:
                raise InvalidInputError(
                    f"Invalid type for variable {variable.name}: "
                    f"expected one of {', '.join(VARIABLE_TYPES)}",
                    code="invalid_variable",
                )
            if variable.default is not None:
                self._variable_value(variable.name, variable.type, variable.default, today)
        return list(variables)

    def _checked_restrictions(
        self,
        visible: dict[str, EntityField],
        variables: list[VariableInput],
        restrictions: tuple[CustomRestrictionInput, ...],
    ) -> list[dict[str, Any]]:
        by_name = {variable.name.casefold(): variable for variable in variables}
        today = self._clock.now().date()
        stored: list[dict[str, Any]] = []
        for item in restrictions:
            field = visible.get(item.entity_field_id)
            if field is None:
                raise InvalidInputError(
                    f"Unknown field {item.entity_field_id}", code="unknown_field"
                )
            value = item.value
            if item.variable is not None:
                variable = by_name.get(item.variable.casefold())
                if variable is None:
                    raise InvalidInputError(
                        f"Unknown variable {item.variable}", code="unknown_variable"
                    )
                value = None
                if variable.default is not None:
                    value = self._variable_value(
                        variable.name, variable.type, variable.default, today
                    )
            if value is not None or item.variable is None:
                normalize_restriction(
                    Restriction(field=_source_field(field), operator=item.operator, value=value)
                )
            entry: dict[str, Any] = {"EntityFieldId": field.id, "Operator": item.operator}
            if item.variable is not None:
                entry["Variable"] = by_name[item.variable.casefold()].name
            else:
                entry["Value"] = item.value
            stored.append(entry)
        return stored

    def _group_id(self, session: Session, connector_id: str) -> str:
        group = session.scalar(
            select(EntityGroup).where(
                EntityGroup.connector_id == connector_id, EntityGroup.name == CUSTOM_GROUP_NAME
            )
        )
        if group is None:
            group = EntityGroup(connector_id=connector_id, name=CUSTOM_GROUP_NAME)
            session.add(group)
            session.flush()
        return group.id


def _source_field(field: EntityField) -> SourceField:
    return SourceField(
        column=field.source_name,
        api_name=field.api_name,
        label=field.display_name,
        type=FieldType(field.type),
    )
