"""Bodies of the security routes: users, teams, roles, grants, tokens and audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from listdock.api.schemas import RequestBody, UserOut
from listdock.domain.models import AuditEvent, ConnectorGrant, Principal, Role, Team, Token
from listdock.services.tokens import IssuedToken


class TokenOut(BaseModel):
    """Token metadata; never the value."""

    TokenId: str
    Name: str
    UserId: str
    WidgetId: str | None
    ReadOnly: bool
    Prefix: str
    Status: str
    Created: datetime
    CreatedBy: str | None
    ExpiresAt: datetime | None
    LastUsed: datetime | None
    LastUsedSurface: str | None
    UseCount: int
    LastRefusalReason: str | None
    LastRefused: datetime | None

    @classmethod
    def of(cls, token: Token) -> TokenOut:
        return cls(
            TokenId=token.id,
            Name=token.name,
            UserId=token.principal_id,
            WidgetId=token.widget_id,
            ReadOnly=token.read_only,
            Prefix=token.prefix,
            Status=token.status,
            Created=token.created,
            CreatedBy=token.created_by,
            ExpiresAt=token.expires_at,
            LastUsed=token.last_used,
            LastUsedSurface=token.last_used_surface,
            UseCount=token.use_count,
            LastRefusalReason=token.last_rejection_reason,
            LastRefused=token.last_refused,
        )


class NewTokenOut(BaseModel):
    """A token just created or rotated, with its value: the only time it is shown."""

    TokenId: str
    Name: str
    Value: str
    Prefix: str
    UserId: str
    WidgetId: str | None
    ReadOnly: bool
    ExpiresAt: datetime | None
    Created: datetime

    @classmethod
    def of(cls, issued: IssuedToken) -> NewTokenOut:
        token = issued.token
        return cls(
            TokenId=token.id,
            Name=token.name,
            Value=issued.value,
            Prefix=token.prefix,
            UserId=token.principal_id,
            WidgetId=token.widget_id,
            ReadOnly=token.read_only,
            ExpiresAt=token.expires_at,
            Created=token.created,
        )


class TokenEnvelopeOut(BaseModel):
    Token: NewTokenOut


class CreatedUserOut(UserOut):
    Token: NewTokenOut | None = None


class UserIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    Kind: Literal["user", "api"] = "user"
    Email: str | None = Field(default=None, max_length=320)
    Password: str | None = Field(default=None, max_length=1024)
    TokenName: str | None = Field(default=None, min_length=1, max_length=200)


class UserPatchIn(RequestBody):
    Name: str | None = Field(default=None, min_length=1, max_length=200)
    Status: Literal["Active", "Disabled"] | None = None


class RolesIn(RequestBody):
    Roles: list[str] = Field(max_length=50)


class RolesOut(BaseModel):
    Roles: list[str]


class TeamIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    Description: str = Field(default="", max_length=2000)


class TeamPatchIn(RequestBody):
    Name: str | None = Field(default=None, min_length=1, max_length=200)
    Description: str | None = Field(default=None, max_length=2000)


class TeamOut(BaseModel):
    TeamId: str
    Name: str
    Description: str
    Created: datetime
    Modified: datetime

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(
            TeamId=team.id,
            Name=team.name,
            Description=team.description,
            Created=team.created,
            Modified=team.modified,
        )


class MemberIn(RequestBody):
    UserId: str


class MemberOut(BaseModel):
    UserId: str
    Name: str
    Kind: str
    Status: str

    @classmethod
    def of(cls, principal: Principal) -> MemberOut:
        return cls(
            UserId=principal.id, Name=principal.name, Kind=principal.kind, Status=principal.status
        )


class RoleIn(RequestBody):
    Name: str = Field(min_length=1, max_length=100)
    Scope: Literal["system", "connector"]
    Permissions: list[str] = Field(default_factory=list, max_length=50)
    Description: str = Field(default="", max_length=2000)


class RolePatchIn(RequestBody):
    Name: str | None = Field(default=None, min_length=1, max_length=100)
    Permissions: list[str] | None = Field(default=None, max_length=50)
    Description: str | None = Field(default=None, max_length=2000)


class RoleOut(BaseModel):
    RoleId: str
    Name: str
    Scope: str
    Permissions: list[str]
    BuiltIn: bool
    Description: str

    @classmethod
    def of(cls, role: Role) -> RoleOut:
        return cls(
            RoleId=role.id,
            Name=role.name,
            Scope=role.scope,
            Permissions=list(role.permissions or []),
            BuiltIn=role.built_in,
            Description=role.description,
        )


GrantPart = Literal["all"] | list[str]


class GrantIn(RequestBody):
    Roles: list[str] = Field(default_factory=list, max_length=50)
    Companies: GrantPart = Field(default_factory=list)
    Lists: GrantPart = Field(default_factory=list)
    Details: GrantPart = Field(default_factory=list)
    Actions: GrantPart = Field(default_factory=list)

    @field_validator("Companies", "Lists", "Details", "Actions")
    @classmethod
    def bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > 10_000:
            raise ValueError("at most 10000 ids")
        return value


class GrantOut(BaseModel):
    ConnectorId: str
    UserId: str | None
    TeamId: str | None
    Roles: list[str]
    Companies: GrantPart
    Lists: GrantPart
    Details: GrantPart
    Actions: GrantPart
    Modified: datetime

    @classmethod
    def of(cls, grant: ConnectorGrant) -> GrantOut:
        return cls(
            ConnectorId=grant.connector_id,
            UserId=grant.principal_id,
            TeamId=grant.team_id,
            Roles=list(grant.roles or []),
            Companies=grant.companies,
            Lists=grant.lists,
            Details=grant.details,
            Actions=grant.actions,
            Modified=grant.modified,
        )


class TokenIn(RequestBody):
    Name: str = Field(min_length=1, max_length=200)
    ExpiresAt: datetime | None = None
    ReadOnly: bool = False

    @field_validator("ReadOnly")
    @classmethod
    def widget_only(cls, value: bool) -> bool:
        if value:
            raise ValueError("ReadOnly applies only to widget tokens")
        return value


class TokenPatchIn(RequestBody):
    Name: str | None = Field(default=None, min_length=1, max_length=200)
    Status: Literal["Active", "Disabled"] | None = None


class RotateIn(RequestBody):
    GraceSeconds: int = Field(default=0, ge=0, le=86_400)


class AuditEventOut(BaseModel):
    Time: datetime
    Actor: str | None
    ActorName: str | None
    TokenId: str | None
    Event: str
    Target: str | None
    Outcome: str
    Reason: str | None
    Ip: str | None
    Details: dict[str, Any] | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            Time=event.time,
            Actor=event.actor_id,
            ActorName=event.actor_name,
            TokenId=event.token_id,
            Event=event.event,
            Target=event.target,
            Outcome=event.outcome,
            Reason=event.reason,
            Ip=event.ip,
            Details=event.details,
        )
