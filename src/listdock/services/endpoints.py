"""Named API endpoints: a name, one list or favorite, one company and named parameters.

An endpoint name is 1 to 64 of ``A-Za-z0-9_-``, unique case-insensitively, and may not look
like a UUID (``/favorite/{FavoriteId}`` routes claim those). Each parameter filters one field
with one operator; two parameters may filter the same field (``from`` with ``ge`` and ``to``
with ``le``). A fixed parameter always applies its ``Default`` and callers may not pass it.

An endpoint over a list returns the list's default visible fields and may be sorted by any
visible field. An endpoint over a favorite returns, and sorts by, the favorite's fields only.
Callers filter only through parameters. A parameter whose field became hidden raises a
ConflictError when it would apply, because dropping it would widen the result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from listdock.clock import Clock
from listdock.connectors.query import Restriction, normalize_restriction
from listdock.connectors.types import FieldType
from listdock.connectors.values import EXPECTED
from listdock.domain.models import (
    Company,
    Endpoint,
    EndpointParameter,
    Entity,
    EntityField,
    Favorite,
)
from listdock.errors import (
    ConflictError,
    InvalidInputError,
    InvalidValueError,
    NotFoundError,
)
from listdock.security import roles
from listdock.security.policy import Access
from listdock.services.data import (
    DataRequest,
    DataService,
    FieldRef,
    OrderSpec,
    RestrictionSpec,
    source_field,
)
from listdock.services.favorites import FavoriteService

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
UUID_PATTERN = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
ENDPOINT_OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le", "contains", "startswith", "in")
RESERVED_QUERY_NAMES = ("token", "format", "MaxRecords", "skip", "orderby", "count")
MAX_PARAMETERS = 50


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    entity_field_id: str
    operator: str = "eq"
    required: bool = False
    default: Any = None
    fixed: bool = False


@dataclass(frozen=True)
class EndpointSpec:
    """A new endpoint over ``entity_id`` or ``favorite_id`` (exactly one of them)."""

    name: str
    entity_id: str | None = None
    favorite_id: str | None = None
    company_id: str | None = None
    max_records: int | None = None
    parameters: tuple[ParameterSpec, ...] = ()


@dataclass(frozen=True)
class EndpointPatch:
    """Changes to an endpoint; None leaves a setting as it is."""

    name: str | None = None
    company_id: str | None = None
    max_records: int | None = None
    parameters: tuple[ParameterSpec, ...] | None = None


@dataclass(frozen=True)
class EndpointTarget:
    """The list, company and fields an endpoint reads now.

    ``output`` are the fields returned. ``exposed`` are the fields callers may sort on and
    parameters may filter on.
    """

    entity: Entity
    company_id: str
    output: tuple[EntityField, ...]
    exposed: dict[str, EntityField]
    base_restrictions: tuple[RestrictionSpec, ...] = ()
    base_order: tuple[OrderSpec, ...] = ()


@dataclass(frozen=True)
class Paging:
    """The reserved query values of a call, already parsed."""

    skip: int = 0
    max_records: int | None = None
    order_by: tuple[OrderSpec, ...] = ()
    format: str = "json"
    count: bool = False


def is_reserved(name: str) -> bool:
    return name.casefold() in {reserved.casefold() for reserved in RESERVED_QUERY_NAMES}


class EndpointService:
    def __init__(
        self,
        clock: Clock,
        data: DataService,
        favorites: FavoriteService,
        default_max_records: int,
    ) -> None:
        self._clock = clock
        self._data = data
        self._favorites = favorites
        self._default_max_records = default_max_records

    def __repr__(self) -> str:
        return "EndpointService()"

    # Reading -----------------------------------------------------------------------------

    def find_by_name(self, session: Session, name: str) -> Endpoint:
        """Return the endpoint named ``name`` (case-insensitively); raises NotFoundError."""
        endpoint = session.scalar(
            select(Endpoint)
            .where(Endpoint.name_normalized == name.casefold())
            .options(selectinload(Endpoint.parameters))
        )
        if endpoint is None:
            raise NotFoundError("Endpoint not found", code="endpoint_not_found")
        return endpoint

    def get_visible(self, session: Session, access: Access, endpoint_id: str) -> Endpoint:
        """Return the endpoint if the caller sees its list; NotFoundError otherwise."""
        endpoint = session.get(Endpoint, endpoint_id, options=[selectinload(Endpoint.parameters)])
        if endpoint is None or not self._sees(session, access, endpoint):
            raise NotFoundError("Endpoint not found", code="endpoint_not_found")
        return endpoint

    def list_visible(self, session: Session, access: Access) -> list[Endpoint]:
        """Return the endpoints over lists visible to the caller, by name."""
        endpoints = session.scalars(
            select(Endpoint)
            .options(selectinload(Endpoint.parameters))
            .order_by(Endpoint.name_normalized)
        )
        return [endpoint for endpoint in endpoints if self._sees(session, access, endpoint)]

    def _sees(self, session: Session, access: Access, endpoint: Endpoint) -> bool:
        if access.is_administrator:
            return True
        entity_id = self.entity_id_of(session, endpoint)
        if entity_id is None:
            return access.has(roles.DEVELOP)
        entity = session.get(Entity, entity_id)
        return entity is not None and access.sees_list(entity.connector_id, entity.id)

    def entity_id_of(self, session: Session, endpoint: Endpoint) -> str | None:
        """Return the id of the list an endpoint reads, or None when its source is gone."""
        if endpoint.source_kind == "list":
            return endpoint.entity_id
        if endpoint.favorite_id is None:
            return None
        favorite = self._favorites_row(session, endpoint.favorite_id)
        return favorite.entity_id if favorite is not None else None

    def _favorites_row(self, session: Session, favorite_id: str) -> Favorite | None:
        return session.get(Favorite, favorite_id)

    def target(self, session: Session, endpoint: Endpoint) -> EndpointTarget:
        """Resolve what an endpoint reads now.

        Raises NotFoundError (``endpoint_source_missing``) when its list, favorite or company
        was deleted, and what ``FavoriteService.view`` raises for a broken favorite.
        """
        if endpoint.company_id is None:
            raise NotFoundError(
                "The endpoint's company no longer exists", code="endpoint_source_missing"
            )
        if endpoint.source_kind == "favorite":
            favorite = (
                self._favorites_row(session, endpoint.favorite_id)
                if endpoint.favorite_id is not None
                else None
            )
            if favorite is None:
                raise NotFoundError(
                    "The endpoint's favorite was deleted", code="endpoint_source_missing"
                )
            view = self._favorites.view(session, favorite)
            return EndpointTarget(
                entity=view.entity,
                company_id=endpoint.company_id,
                output=view.fields,
                exposed={field.id: field for field in view.fields},
                base_restrictions=view.restrictions,
                base_order=view.order_by,
            )

        if endpoint.entity_id is None:
            raise NotFoundError(
                "The endpoint's list no longer exists", code="endpoint_source_missing"
            )
        try:
            entity = self._data.read_only_entity(session, endpoint.entity_id)
        except NotFoundError:
            raise NotFoundError(
                "The endpoint's list no longer exists", code="endpoint_source_missing"
            ) from None
        visible = self._data.visible_fields(entity)
        return EndpointTarget(
            entity=entity,
            company_id=endpoint.company_id,
            output=tuple(field for field in visible if field.default_field),
            exposed={field.id: field for field in visible},
        )

    # Calling -----------------------------------------------------------------------------

    def build_request(
        self,
        endpoint: Endpoint,
        target: EndpointTarget,
        arguments: Sequence[tuple[str, str]],
        paging: Paging,
    ) -> DataRequest:
        """Turn a call's query values into a data request over the endpoint's target.

        ``arguments`` are the query values other than the reserved names. Raises
        InvalidInputError (each naming the parameter and listing the accepted ones) for an
        unknown, repeated, fixed or missing required parameter and for a value of the wrong
        type; InvalidInputError for a MaxRecords above the endpoint's or an orderby on a field
        the endpoint does not expose; ConflictError when a parameter that applies filters a
        field that is no longer visible.
        """
        parameters = {parameter.name_normalized: parameter for parameter in endpoint.parameters}
        accepted = self._accepted(endpoint)

        given: dict[str, str] = {}
        for name, raw in arguments:
            parameter = parameters.get(name.casefold())
            if parameter is None:
                raise InvalidInputError(
                    f"Unknown parameter {name}; {accepted}", code="unknown_parameter"
                )
            if parameter.fixed:
                raise InvalidInputError(
                    f"Parameter {parameter.name} is fixed and cannot be given; {accepted}",
                    code="fixed_parameter",
                )
            if parameter.name_normalized in given:
                raise InvalidInputError(
                    f"Parameter {parameter.name} is given more than once; {accepted}",
                    code="duplicate_parameter",
                )
            given[parameter.name_normalized] = raw

        restrictions = list(target.base_restrictions)
        for parameter in endpoint.parameters:
            value: Any = given.get(parameter.name_normalized)
            if value is None or value == "":
                if parameter.required:
                    raise InvalidInputError(
                        f"Missing parameter {parameter.name}; {accepted}",
                        code="missing_parameter",
                    )
                value = parameter.default
            if value is None:
                continue
            field = target.exposed.get(parameter.entity_field_id)
            if field is None:
                raise ConflictError(
                    f"Parameter {parameter.name} filters a field that is no longer available",
                    code="endpoint_field_unavailable",
                )
            self._check_value(parameter, field, value, accepted)
            restrictions.append(
                RestrictionSpec(
                    field=FieldRef(field.id, by_id=True), operator=parameter.operator, value=value
                )
            )

        exposed_names = {field.api_name.casefold(): field for field in target.exposed.values()}
        order_by = []
        for order in paging.order_by:
            field = exposed_names.get(order.field.value.casefold())
            if field is None:
                raise InvalidInputError(
                    f"Unknown field {order.field.value} in orderby", code="unknown_field"
                )
            order_by.append(OrderSpec(FieldRef(field.id, by_id=True), order.descending))

        if paging.max_records is not None and not 1 <= paging.max_records <= endpoint.max_records:
            raise InvalidInputError(
                f"MaxRecords must be between 1 and {endpoint.max_records}",
                code="invalid_max_records",
            )
        return DataRequest(
            entity_id=target.entity.id,
            company_id=target.company_id,
            fields=tuple(FieldRef(field.id, by_id=True) for field in target.output),
            restrictions=tuple(restrictions),
            order_by=tuple(order_by) or target.base_order,
            skip=paging.skip,
            max_records=paging.max_records or endpoint.max_records,
            format=paging.format,
            count=paging.count,
        )

    def _accepted(self, endpoint: Endpoint) -> str:
        names = [parameter.name for parameter in endpoint.parameters if not parameter.fixed]
        if not names:
            return "this endpoint accepts no parameters"
        return f"accepted: {', '.join(names)}"

    def _check_value(
        self, parameter: EndpointParameter, field: EntityField, value: Any, accepted: str
    ) -> None:
        named = source_field(field)
        try:
            normalize_restriction(
                Restriction(field=named, operator=parameter.operator, value=value)
            )
        except InvalidInputError:
            expected = EXPECTED[FieldType(field.type)]
            if parameter.operator == "in":
                expected = f"values separated by commas, {expected} each"
            raise InvalidValueError(
                f"Invalid value for parameter {parameter.name}: expected {expected}; {accepted}",
                field=parameter.name,
                code="invalid_parameter_value",
            ) from None

    # Changing ----------------------------------------------------------------------------

    def create(
        self, session: Session, access: Access, spec: EndpointSpec, *, actor_id: str | None
    ) -> Endpoint:
        """Create an endpoint and return it.

        Needs Developer or Administrator (PermissionDeniedError ``missing_role``). Raises
        NotFoundError for a list, favorite or company the caller cannot see;
        InvalidInputError for a bad name, source, MaxRecords or parameter; ConflictError
        (``name_taken``) for a name already used, ignoring case.
        """
        access.require(roles.DEVELOP, "Developer")
        name = self._checked_name(session, spec.name, None)
        if (spec.entity_id is None) == (spec.favorite_id is None):
            raise InvalidInputError(
                "Give either EntityId or FavoriteId", code="invalid_endpoint_source"
            )

        now = self._clock.now()
        endpoint = Endpoint(
            name=name,
            name_normalized=name.casefold(),
            source_kind="list" if spec.entity_id is not None else "favorite",
            entity_id=spec.entity_id,
            favorite_id=spec.favorite_id,
            created_by=actor_id,
            created=now,
            modified=now,
        )
        if spec.favorite_id is not None:
            favorite = self._favorites.get_visible(session, access, spec.favorite_id)
            endpoint.favorite_id = favorite.id
            view = self._favorites.view(session, favorite)
            entity = view.entity
            favorite_company = favorite.company_id
            favorite_max = favorite.max_records
        else:
            entity = self._data.load_entity(session, spec.entity_id or "")
            favorite_company = None
            favorite_max = None
        if not access.sees_list(entity.connector_id, entity.id):
            raise NotFoundError("List not found", code="entity_not_found")

        company_id = spec.company_id or favorite_company
        if favorite_company is not None and company_id != favorite_company:
            raise InvalidInputError(
                "CompanyId must be the favorite's company", code="invalid_company"
            )
        endpoint.company_id = self._checked_company(session, access, entity, company_id)
        endpoint.max_records = self._checked_max_records(spec.max_records, favorite_max)
        session.add(endpoint)
        session.flush()

        target = self.target(session, endpoint)
        self._set_parameters(endpoint, target, spec.parameters)
        session.flush()
        logger.info("Endpoint %s (%s) created over list %s", endpoint.id, name, entity.id)
        return endpoint

    def update(
        self, session: Session, access: Access, endpoint_id: str, patch: EndpointPatch
    ) -> Endpoint:
        """Apply ``patch`` to an endpoint; raises what ``create`` raises."""
        access.require(roles.DEVELOP, "Developer")
        endpoint = self.get_visible(session, access, endpoint_id)
        if patch.name is not None:
            endpoint.name = self._checked_name(session, patch.name, endpoint.id)
            endpoint.name_normalized = endpoint.name.casefold()
        target = self.target(session, endpoint)
        if patch.company_id is not None:
            if endpoint.source_kind == "favorite":
                favorite = self._favorites_row(session, endpoint.favorite_id or "")
                if favorite is not None and favorite.company_id not in (None, patch.company_id):
                    raise InvalidInputError(
                        "CompanyId must be the favorite's company", code="invalid_company"
                    )
            endpoint.company_id = self._checked_company(
                session, access, target.entity, patch.company_id
            )
        if patch.max_records is not None:
            favorite_max = None
            if endpoint.source_kind == "favorite":
                favorite = self._favorites_row(session, endpoint.favorite_id or "")
                favorite_max = favorite.max_records if favorite is not None else None
            endpoint.max_records = self._checked_max_records(patch.max_records, favorite_max)
        if patch.parameters is not None:
            endpoint.parameters.clear()
            session.flush()
            self._set_parameters(endpoint, target, patch.parameters)
        endpoint.modified = self._clock.now()
        session.flush()
        return endpoint

    def delete(self, session: Session, access: Access, endpoint_id: str) -> None:
        """Delete an endpoint; needs Developer or Administrator."""
        access.require(roles.DEVELOP, "Developer")
        endpoint = self.get_visible(session, access, endpoint_id)
        session.delete(endpoint)
        session.flush()
        logger.info("Endpoint %s deleted", endpoint_id)

    # Checks ------------------------------------------------------------------------------

    def _checked_name(self, session: Session, name: str, endpoint_id: str | None) -> str:
        clean = name.strip()
        if not NAME_PATTERN.fullmatch(clean):
            raise InvalidInputError(
                "Endpoint must be 1 to 64 letters, digits, hyphens or underscores",
                code="invalid_name",
            )
        if UUID_PATTERN.fullmatch(clean):
            raise InvalidInputError(
                "Endpoint must not look like a UUID, which favorite ids use",
                code="invalid_name",
            )
        clash = session.scalar(
            select(Endpoint.id).where(Endpoint.name_normalized == clean.casefold())
        )
        if clash is not None and clash != endpoint_id:
            raise ConflictError("An endpoint with this name already exists", code="name_taken")
        return clean

    def _checked_company(
        self, session: Session, access: Access, entity: Entity, company_id: str | None
    ) -> str:
        connector_companies = list(
            session.scalars(select(Company).where(Company.connector_id == entity.connector_id))
        )
        if company_id is None:
            if len(connector_companies) != 1:
                raise InvalidInputError(
                    "CompanyId is required because this connector has several companies",
                    code="company_required",
                )
            company_id = connector_companies[0].id
        if company_id not in {company.id for company in connector_companies} or not (
            access.sees_company(entity.connector_id, company_id)
        ):
            raise NotFoundError("Company not found", code="company_not_found")
        return company_id

    def _checked_max_records(self, max_records: int | None, favorite_max: int | None) -> int:
        cap = self._data.max_records_limit
        if favorite_max is not None:
            cap = min(cap, favorite_max)
        if max_records is None:
            return min(self._default_max_records, cap)
        if not 1 <= max_records <= cap:
            raise InvalidInputError(
                f"MaxRecords must be between 1 and {cap}", code="invalid_max_records"
            )
        return max_records

    def _set_parameters(
        self, endpoint: Endpoint, target: EndpointTarget, parameters: tuple[ParameterSpec, ...]
    ) -> None:
        """Check ``parameters`` against the exposed fields and attach them to ``endpoint``."""
        if len(parameters) > MAX_PARAMETERS:
            raise InvalidInputError(
                f"An endpoint has at most {MAX_PARAMETERS} parameters", code="invalid_parameter"
            )
        seen: set[str] = set()
        for position, spec in enumerate(parameters):
            name = spec.name.strip()
            if not NAME_PATTERN.fullmatch(name) or is_reserved(name):
                raise InvalidInputError(
                    f"Invalid parameter name {name!r}: use 1 to 64 letters, digits, hyphens or "
                    f"underscores, other than {', '.join(RESERVED_QUERY_NAMES)}",
                    code="invalid_parameter",
                )
            if name.casefold() in seen:
                raise InvalidInputError(
                    f"Parameter {name} is defined twice", code="invalid_parameter"
                )
            seen.add(name.casefold())
            if spec.operator not in ENDPOINT_OPERATORS:
                raise InvalidInputError(
                    f"Invalid operator {spec.operator!r} for parameter {name}: "
                    f"expected one of {', '.join(ENDPOINT_OPERATORS)}",
                    code="invalid_operator",
                )
            field = target.exposed.get(spec.entity_field_id)
            if field is None:
                raise InvalidInputError(
                    f"Unknown EntityFieldId {spec.entity_field_id} for parameter {name}",
                    code="unknown_field",
                )
            if spec.fixed and (spec.default is None or spec.required):
                raise InvalidInputError(
                    f"Fixed parameter {name} needs a Default and cannot be Required",
                    code="invalid_parameter",
                )
            if spec.required and spec.default is not None:
                raise InvalidInputError(
                    f"Required parameter {name} cannot have a Default", code="invalid_parameter"
                )
            parameter = EndpointParameter(
                name=name,
                name_normalized=name.casefold(),
                entity_field_id=field.id,
                operator=spec.operator,
                required=spec.required,
                default=spec.default,
                fixed=spec.fixed,
                position=position,
            )
            if spec.default is not None:
                self._check_value(parameter, field, spec.default, "check the Default")
            endpoint.parameters.append(parameter)
