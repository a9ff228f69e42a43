"""Request and response bodies of the REST API, in Popdock's PascalCase names.

Request bodies forbid unknown keys, which FastAPI answers with a 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from listdock.domain.models import (
    Account,
    Company,
    Connector,
    Entity,
    EntityField,
    EntityGroup,
    Principal,
)


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    error: str
    code: str


class AccountOut(BaseModel):
    AccountId: str
    Name: str
    MaxTokenLifetimeDays: int | None
    DefaultEmbedOrigins: list[str]
    Created: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            AccountId=account.account_id,
            Name=account.name,
            MaxTokenLifetimeDays=account.max_token_lifetime_days,
            DefaultEmbedOrigins=list(account.default_embed_origins or []),
            Created=account.created,
        )


class UserOut(BaseModel):
    UserId: str
    Name: str
    Email: str | None
    Kind: str
    Status: str
    Created: datetime
    Modified: datetime
    LastLogin: datetime | None

    @classmethod
    def of(cls, principal: Principal) -> UserOut:
        return cls(
            UserId=principal.id,
            Name=principal.name,
            Email=principal.email,
            Kind=principal.kind,
            Status=principal.status,
            Created=principal.created,
            Modified=principal.modified,
            LastLogin=principal.last_login,
        )


class CompanyOut(BaseModel):
    CompanyId: str
    ConnectorId: str
    Name: str
    DatabaseName: str

    @classmethod
    def of(cls, company: Company) -> CompanyOut:
        return cls(
            CompanyId=company.id,
            ConnectorId=company.connector_id,
            Name=company.name,
            DatabaseName=company.database_name,
        )


class ConnectorSettingsOut(BaseModel):
    Host: str | None
    Port: int | None
    Username: str | None
    HasPassword: bool


class ConnectorOut(BaseModel):
    ConnectorId: str
    Name: str
    Type: str
    Settings: ConnectorSettingsOut
    CompanyPrompt: str
    CreatedBy: str | None
    Created: datetime
    Modified: datetime
    Companies: list[CompanyOut]

    @classmethod
    def of(cls, connector: Connector) -> ConnectorOut:
        return cls(
            ConnectorId=connector.id,
            Name=connector.name,
            Type=connector.type,
            Settings=ConnectorSettingsOut(
                Host=connector.host,
                Port=connector.port,
                Username=connector.username,
                HasPassword=connector.password_encrypted is not None,
            ),
            CompanyPrompt=connector.company_prompt,
            CreatedBy=connector.created_by,
            Created=connector.created,
            Modified=connector.modified,
            Companies=[CompanyOut.of(company) for company in connector.companies],
        )


class EntityGroupOut(BaseModel):
    EntityGroupId: str
    ConnectorId: str
    Name: str

    @classmethod
    def of(cls, group: EntityGroup) -> EntityGroupOut:
        return cls(EntityGroupId=group.id, ConnectorId=group.connector_id, Name=group.name)


class EntityOut(BaseModel):
    EntityId: str
    ConnectorId: str
    EntityGroupId: str | None
    Name: str
    Type: str
    ItemName: str
    ItemSingular: str
    KeyFields: list[str]

    @classmethod
    def of(cls, entity: Entity) -> EntityOut:
        return cls(
            EntityId=entity.id,
            ConnectorId=entity.connector_id,
            EntityGroupId=entity.group_id,
            Name=entity.name,
            Type=entity.type,
            ItemName=entity.item_name,
            ItemSingular=entity.item_singular,
            KeyFields=[
                field.id
                for field in entity.fields
                if field.primary_key and not field.hidden and not field.missing
            ],
        )


class FieldOut(BaseModel):
    EntityFieldId: str
    EntityId: str
    Name: str
    DisplayName: str
    ApiName: str
    Type: str
    SourceType: str
    DefaultField: bool
    Hidden: bool
    PrimaryKey: bool
    Nullable: bool
    DecimalPlaces: int | None

    @classmethod
    def of(cls, field: EntityField) -> FieldOut:
        return cls(
            EntityFieldId=field.id,
            EntityId=field.entity_id,
            Name=field.source_name,
            DisplayName=field.display_name,
            ApiName=field.api_name,
            Type=field.type,
            SourceType=field.source_type,
            DefaultField=field.default_field,
            Hidden=field.hidden,
            PrimaryKey=field.primary_key,
            Nullable=field.nullable,
            DecimalPlaces=field.decimal_places,
        )


class ConnectorSettingsIn(RequestBody):
    Host: str | None = Field(default=None, max_length=255)
    Port: int | None = Field(default=None, ge=1, le=65535)
    Username: str | None = Field(default=None, max_length=255)
    Password: str | None = Field(default=None, max_length=1024)


class CompanyIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    DatabaseName: str = Field(min_length=1, max_length=4096)


class ConnectorIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    Type: Literal["sqlite", "postgresql", "mysql"]
    Settings: ConnectorSettingsIn = Field(default_factory=ConnectorSettingsIn)
    Companies: list[CompanyIn] = Field(min_length=1, max_length=100)


class RefreshOut(BaseModel):
    ConnectorId: str
    Lists: int


class QueryFieldIn(RequestBody):
    EntityFieldId: str


class QueryCompanyIn(RequestBody):
    CompanyId: str


class QueryRestrictionIn(RequestBody):
    EntityFieldId: str
    Operator: str = "eq"
    Value: Any = None


class QueryOrderIn(RequestBody):
    EntityFieldId: str
    Descending: bool = False


class QuerySpecIn(RequestBody):
    Fields: list[QueryFieldIn] = Field(default_factory=list, max_length=1000)
    Companies: list[QueryCompanyIn] = Field(default_factory=list, max_length=1)
    Restrictions: list[QueryRestrictionIn] = Field(default_factory=list, max_length=100)
    OrderBy: list[QueryOrderIn] = Field(default_factory=list, max_length=20)
    MaxRecords: int | None = None
    Skip: int = 0
    Count: bool = False


class QueryIn(RequestBody):
    Id: str
    Format: str = "json"
    Query: QuerySpecIn = Field(default_factory=QuerySpecIn)
