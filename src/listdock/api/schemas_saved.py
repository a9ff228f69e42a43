"""Bodies of the endpoint, favorite, detail and custom list routes, in PascalCase.

Request bodies forbid unknown keys, which FastAPI answers with a 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from listdock.api.schemas import RequestBody
from listdock.domain import models
from listdock.domain.models import (
    EndpointParameter,
    Entity,
    EntityField,
    EntityRelationship,
    Favorite,
)

# Endpoints ---------------------------------------------------------------------------------


class EndpointParameterIn(RequestBody):
    Name: str = Field(min_length=1, max_length=64)
    EntityFieldId: str = Field(min_length=1, max_length=36)
    Operator: str = "eq"
    Required: bool = False
    Default: Any = None
    Fixed: bool = False


class EndpointIn(RequestBody):
    Endpoint: str = Field(min_length=1, max_length=64)
    EntityId: str | None = None
    FavoriteId: str | None = None
    CompanyId: str | None = None
    MaxRecords: int | None = None
    Parameters: list[EndpointParameterIn] = Field(default_factory=list, max_length=50)


class EndpointPatchIn(RequestBody):
    Endpoint: str | None = Field(default=None, min_length=1, max_length=64)
    CompanyId: str | None = None
    MaxRecords: int | None = None
    Parameters: list[EndpointParameterIn] | None = Field(default=None, max_length=50)


class EndpointParameterOut(BaseModel):
    Name: str
    EntityFieldId: str
    ApiName: str | None
    Operator: str
    Type: str | None
    Required: bool
    Default: Any
    Fixed: bool

    @classmethod
    def of(cls, parameter: EndpointParameter, field: EntityField | None) -> EndpointParameterOut:
        return cls(
            Name=parameter.name,
            EntityFieldId=parameter.entity_field_id,
            ApiName=field.api_name if field is not None else None,
            Operator=parameter.operator,
            Type=field.type if field is not None else None,
            Required=parameter.required,
            Default=parameter.default,
            Fixed=parameter.fixed,
        )


class EndpointOut(BaseModel):
    EndpointId: str
    Endpoint: str
    EntityId: str | None
    FavoriteId: str | None
    CompanyId: str | None
    MaxRecords: int
    Url: str
    Parameters: list[EndpointParameterOut]
    CreatedBy: str | None
    Created: datetime
    Modified: datetime

    @classmethod
    def of(
        cls,
        endpoint: models.Endpoint,
        entity_id: str | None,
        fields: dict[str, EntityField],
        url: str,
    ) -> EndpointOut:
        return cls(
            EndpointId=endpoint.id,
            Endpoint=endpoint.name,
            EntityId=entity_id,
            FavoriteId=endpoint.favorite_id,
            CompanyId=endpoint.company_id,
            MaxRecords=endpoint.max_records,
            Url=url,
            Parameters=[
                EndpointParameterOut.of(parameter, fields.get(parameter.entity_field_id))
                for parameter in endpoint.parameters
            ],
            CreatedBy=endpoint.created_by,
            Created=endpoint.created,
            Modified=endpoint.modified,
        )


# Favorites ---------------------------------------------------------------------------------


class RestrictionIn(RequestBody):
    EntityFieldId: str = Field(min_length=1, max_length=36)
    Operator: str = "eq"
    Value: Any = None


class OrderIn(RequestBody):
    EntityFieldId: str = Field(min_length=1, max_length=36)
    Descending: bool = False


class FavoriteIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    EntityId: str
    CompanyId: str | None = None
    Fields: list[str] = Field(default_factory=list, max_length=1000)
    Restrictions: list[RestrictionIn] = Field(default_factory=list, max_length=100)
    OrderBy: list[OrderIn] = Field(default_factory=list, max_length=20)
    MaxRecords: int | None = None
    Teams: list[str] = Field(default_factory=list, max_length=100)


class FavoritePatchIn(RequestBody):
    Name: str | None = Field(default=None, min_length=1, max_length=200)
    CompanyId: str | None = None
    Fields: list[str] | None = Field(default=None, max_length=1000)
    Restrictions: list[RestrictionIn] | None = Field(default=None, max_length=100)
    OrderBy: list[OrderIn] | None = Field(default=None, max_length=20)
    MaxRecords: int | None = None
    Teams: list[str] | None = Field(default=None, max_length=100)


class FavoriteOut(BaseModel):
    FavoriteId: str
    Name: str
    UserId: str
    EntityId: str | None
    CompanyId: str | None
    Fields: list[str]
    Restrictions: list[dict[str, Any]]
    OrderBy: list[dict[str, Any]]
    MaxRecords: int | None
    Teams: list[str]
    Created: datetime
    Modified: datetime

    @classmethod
    def of(cls, favorite: Favorite, teams: list[str]) -> FavoriteOut:
        return cls(
            FavoriteId=favorite.id,
            Name=favorite.name,
            UserId=favorite.owner_id,
            EntityId=favorite.entity_id,
            CompanyId=favorite.company_id,
            Fields=list(favorite.fields or []),
            Restrictions=list(favorite.restrictions or []),
            OrderBy=list(favorite.order_by or []),
            MaxRecords=favorite.max_records,
            Teams=teams,
            Created=favorite.created,
            Modified=favorite.modified,
        )


# Details -----------------------------------------------------------------------------------


class RelationshipFieldIn(RequestBody):
    FromEntityFieldId: str = Field(min_length=1, max_length=36)
    ToEntityFieldId: str = Field(min_length=1, max_length=36)


class RelationshipIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    ToEntityId: str
    Fields: list[RelationshipFieldIn] = Field(min_length=1, max_length=20)


class RelationshipFieldOut(BaseModel):
    FromEntityFieldId: str
    ToEntityFieldId: str


class RelationshipOut(BaseModel):
    RelationshipId: str
    Name: str
    ConnectorId: str
    FromEntityId: str
    ToEntityId: str
    Discovered: bool
    Fields: list[RelationshipFieldOut]

    @classmethod
    def of(cls, relationship: EntityRelationship) -> RelationshipOut:
        return cls(
            RelationshipId=relationship.id,
            Name=relationship.name,
            ConnectorId=relationship.connector_id,
            FromEntityId=relationship.from_entity_id,
            ToEntityId=relationship.to_entity_id,
            Discovered=relationship.discovered,
            Fields=[
                RelationshipFieldOut(
                    FromEntityFieldId=pair.from_field_id, ToEntityFieldId=pair.to_field_id
                )
                for pair in relationship.fields
            ],
        )


# Custom lists ------------------------------------------------------------------------------


class CustomRestrictionIn(RequestBody):
    EntityFieldId: str = Field(min_length=1, max_length=36)
    Operator: str = "eq"
    Value: Any = None
    Variable: str | None = Field(default=None, min_length=1, max_length=64)


class VariableIn(RequestBody):
    Name: str = Field(min_length=1, max_length=64)
    Type: str = "string"
    Default: Any = None


class CustomListIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    Fields: list[str] = Field(default_factory=list, max_length=1000)
    Restrictions: list[CustomRestrictionIn] = Field(default_factory=list, max_length=100)
    Variables: list[VariableIn] = Field(default_factory=list, max_length=50)


class CustomListOut(BaseModel):
    EntityId: str
    ConnectorId: str
    BaseEntityId: str | None
    Name: str
    Type: str
    Fields: list[str]
    Restrictions: list[dict[str, Any]]
    Variables: list[dict[str, Any]]

    @classmethod
    def of(cls, entity: Entity) -> CustomListOut:
        return cls(
            EntityId=entity.id,
            ConnectorId=entity.connector_id,
            BaseEntityId=entity.base_entity_id,
            Name=entity.name,
            Type=entity.type,
            Fields=[field.id for field in entity.fields],
            Restrictions=list(entity.fixed_restrictions or []),
            Variables=list(entity.variables or []),
        )
