"""Security pages for users and API users: lists, creation, and a user's settings tabs.

A user's page has the tabs Profile, Teams, Roles, Connectors and Tokens. Everyone may open
their own page and manage their own tokens; everything else needs the SecurityManager or
Administrator role, and Administrators alone manage Administrators.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from listdock.domain.models import Principal, Role, TeamMember
from listdock.errors import (
    ConflictError,
    InvalidInputError,
    ListdockError,
    NotFoundError,
    PermissionDeniedError,
)
from listdock.security.management import can_manage, require_can_manage, require_security_manager
from listdock.security.policy import Access, load_access
from listdock.services.grants import GrantSpec
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep, UserDep
from listdock.web.grant_forms import GrantFormDep, grant_error_message, grant_rows, submitted_spec
from listdock.web.sessions import WebUser

router = APIRouter(include_in_schema=False)

USER_TABS = (
    ("profile", "Profile"),
    ("teams", "Teams"),
    ("roles", "Roles"),
    ("connectors", "Connectors"),
    ("tokens", "Tokens"),
)


def redirect(path: str, done: str) -> Response:
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}done={done}", status_code=303)


def visible_principal(session: Session, access: Access, principal_id: str) -> Principal:
    """Return the principal if the user may see it (itself, or anyone for SecurityManagers)."""
    principal = session.get(Principal, principal_id)
    if principal is None or not (access.is_security_manager or principal.id == access.principal_id):
        raise NotFoundError("User not found", code="user_not_found")
    return principal


def _people_page(
    request: Request,
    services: ServicesDep,
    session: Session,
    user: WebUser,
    access: Access,
    kind: str,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    require_security_manager(access)
    principals = [p for p in services.principals.list_all(session) if p.kind == kind]
    return services.pages.render(
        request,
        "pages/security_people.html",
        {
            "kind": kind,
            "principals": principals,
            "error": error,
            "form": form or {},
            "section": "users" if kind == "user" else "api-users",
        },
        user=user,
        status_code=400 if error else 200,
    )


@router.get("/security")
def security_home() -> Response:
    return RedirectResponse("/security/users", status_code=303)


@router.get("/security/users")
def users_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    return _people_page(request, services, session, user, access, "user")


@router.get("/security/api-users")
def api_users_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    return _people_page(request, services, session, user, access, "api")


@router.post("/security/users")
def invite_user(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Create a user with a temporary password the administrator passes on."""
    require_security_manager(access)
    try:
        created = services.principals.create_user(
            session,
            name=name or email,
            email=email,
            password=password,
            actor_id=user.principal_id,
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return _people_page(
            request,
            services,
            session,
            user,
            access,
            "user",
            error=f"{failure.message}. Correct it and try again.",
            form={"name": name, "email": email},
        )
    return redirect(f"/security/users/{created.id}", "user_created")


@router.post("/security/api-users")
def add_api_user(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    add_token: Annotated[str | None, Form()] = None,
    token_name: Annotated[str, Form()] = "",
) -> Response:
    """Create an API user from the "Add API user" dialog, with an optional token shown once."""
    require_security_manager(access)
    try:
        api_user = services.principals.create_api_user(
            session, name=name, actor_id=user.principal_id
        )
        issued = None
        if add_token:
            account = services.accounts.get(session)
            issued = services.tokens.create(
                session,
                api_user,
                token_name,
                created_by=user.principal_id,
                max_lifetime_days=account.max_token_lifetime_days,
            )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return _people_page(
            request,
            services,
            session,
            user,
            access,
            "api",
            error=f"{failure.message}. Correct it and try again.",
            form={"name": name, "token_name": token_name, "add_token": bool(add_token)},
        )
    if issued is None:
        return redirect(f"/security/users/{api_user.id}", "api_user_created")
    return services.pages.render(
        request,
        "pages/token_created.html",
        {
            "value": issued.value,
            "token": issued.token,
            "owner": api_user,
            "back": f"/security/users/{api_user.id}?tab=tokens",
        },
        user=user,
        no_store=True,
    )


@router.get("/security/users/{principal_id}")
def user_page(
    principal_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    tab: str = "profile",
) -> Response:
    principal = visible_principal(session, access, principal_id)
    return _user_page(request, services, session, user, access, principal, tab)


def _user_page(
    request: Request,
    services: ServicesDep,
    session: Session,
    user: WebUser,
    access: Access,
    principal: Principal,
    tab: str,
    *,
    error: str | None = None,
    rejected_grant: tuple[str, GrantSpec] | None = None,
) -> Response:
    """Render one tab of a user's page. An ``error`` is shown above it with status 400.

    ``rejected_grant`` is the connector id and spec of a grant save that failed, which the
    Connectors tab shows in place of the stored grant.
    """
    manageable = can_manage(session, access, principal.id)
    is_self = principal.id == user.principal_id
    if tab not in dict(USER_TABS):
        tab = "profile"
    context: dict[str, Any] = {
        "principal": principal,
        "tabs": USER_TABS,
        "tab": tab,
        "manageable": manageable,
        "is_self": is_self,
        "section": "users" if principal.kind == "user" else "api-users",
        "error": error,
    }
    if tab == "teams":
        member_of = set(
            session.scalars(
                select(TeamMember.team_id).where(TeamMember.principal_id == principal.id)
            )
        )
        context["teams"] = [
            (team, team.id in member_of) for team in services.teams.list_all(session)
        ]
    elif tab == "roles":
        assigned = set(services.principals.system_role_names(session, principal.id))
        context["roles"] = [
            (role, role.name in assigned)
            for role in session.scalars(
                select(Role).where(Role.scope == "system").order_by(Role.name)
            )
        ]
        context["can_grant_admin"] = access.is_administrator
    elif tab == "connectors":
        connectors = [
            connector
            for connector in services.connectors.list_all(session)
            if access.is_security_manager or access.administers_connector(connector.id)
        ]
        context["grants"] = grant_rows(
            services.grants,
            session,
            connectors,
            principal_id=principal.id,
            rejected=rejected_grant,
        )
        context["connector_roles"] = list(
            session.scalars(select(Role.name).where(Role.scope == "connector").order_by(Role.name))
        )
    elif tab == "tokens":
        services.usage.flush()
        session.expire_all()
        context["tokens"] = services.tokens.list_for_principal(session, principal.id)
        context["can_manage_tokens"] = manageable or is_self
    return services.pages.render(
        request,
        "pages/security_user.html",
        context,
        user=user,
        status_code=400 if error else 200,
    )


@router.post("/security/users/{principal_id}/profile")
def save_profile(
    principal_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "Active",
) -> Response:
    principal = visible_principal(session, access, principal_id)
    require_can_manage(session, access, principal.id)
    if status == "Disabled" or principal.status == "Disabled":
        _keep_an_administrator(services, session, principal, status)
    services.principals.update(
        session, principal, name=name, status=status, actor_id=user.principal_id
    )
    session.commit()
    return redirect(f"/security/users/{principal.id}", "user_saved")


def _keep_an_administrator(
    services: ServicesDep, session: Session, principal: Principal, status: str
) -> None:
    """Raise ConflictError when the change would leave no active Administrator."""
    if status != "Disabled" or not load_access(session, principal.id).is_administrator:
        return
    if services.principals.count_active_administrators(session) <= 1:
        raise ConflictError(
            "The last active Administrator cannot be disabled or deleted",
            code="last_administrator",
        )


@router.post("/security/users/{principal_id}/delete")
def delete_user(
    principal_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    principal = visible_principal(session, access, principal_id)
    require_can_manage(session, access, principal.id)
    _keep_an_administrator(services, session, principal, "Disabled")
    target = "/security/users" if principal.kind == "user" else "/security/api-users"
    services.principals.delete(session, principal, actor_id=user.principal_id)
    session.commit()
    return redirect(target, "user_deleted")


@router.post("/security/users/{principal_id}/roles")
def save_roles(
    principal_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    principal = visible_principal(session, access, principal_id)
    require_can_manage(session, access, principal.id)
    wanted = roles or []
    if "Administrator" in wanted and not access.is_administrator:
        raise PermissionDeniedError(
            "Only an Administrator can grant the Administrator role", code="cannot_manage"
        )
    if "Administrator" not in wanted:
        _keep_an_administrator(services, session, principal, "Disabled")
    services.principals.assign_system_roles(session, principal, wanted, actor_id=user.principal_id)
    session.commit()
    return redirect(f"/security/users/{principal.id}?tab=roles", "roles_saved")


@router.post("/security/users/{principal_id}/teams")
def change_membership(
    principal_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    team_id: Annotated[str, Form()] = "",
    member: Annotated[str, Form()] = "1",
) -> Response:
    principal = visible_principal(session, access, principal_id)
    require_security_manager(access)
    team = services.teams.get(session, team_id)
    if member == "1":
        services.teams.add_member(session, team, principal, actor_id=user.principal_id)
        done = "member_added"
    else:
        services.teams.remove_member(session, team, principal.id, actor_id=user.principal_id)
        done = "member_removed"
    session.commit()
    return redirect(f"/security/users/{principal.id}?tab=teams", done)


@router.post("/security/users/{principal_id}/connectors/{connector_id}")
def save_user_grant(
    principal_id: str,
    connector_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    form: GrantFormDep,
) -> Response:
    """Save or remove a user's grant in one connector (SecurityManager or connector admin).

    A rejected grant shows the Connectors tab again with the submitted boxes and saves nothing.
    """
    principal = visible_principal(session, access, principal_id)
    if not (access.is_security_manager or access.administers_connector(connector_id)):
        require_security_manager(access)
    if not can_manage(session, access, principal.id) and not access.is_administrator:
        require_can_manage(session, access, principal.id)
    connector = services.connectors.get(session, connector_id)
    back = f"/security/users/{principal.id}?tab=connectors"
    stored = services.grants.find(session, connector.id, principal_id=principal.id)
    if form.remove:
        if stored is not None:
            services.grants.remove(session, stored, actor_id=user.principal_id)
            session.commit()
        return redirect(back, "grant_removed")

    spec = submitted_spec(services.grants, session, connector.id, stored, form)
    try:
        services.grants.put(
            session, connector.id, spec, principal_id=principal.id, actor_id=user.principal_id
        )
        session.commit()
    except InvalidInputError as failure:
        session.rollback()
        return _user_page(
            request,
            services,
            session,
            user,
            access,
            principal,
            "connectors",
            error=grant_error_message(failure, connector),
            rejected_grant=(connector.id, spec),
        )
    return redirect(back, "grant_saved")
