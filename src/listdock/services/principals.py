"""Users and API users, and the built-in roles every store starts with."""

from __future__ import annotations

import logging
import re

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.domain.models import Principal, PrincipalRole, Role, TeamMember, TeamRole, Token
from listdock.errors import ConflictError, InvalidInputError, NotFoundError
from listdock.security import roles as role_definitions
from listdock.security.passwords import MIN_PASSWORD_LENGTH, hash_password
from listdock.security.policy import load_access
from listdock.services.audit import AuditLog

logger = logging.getLogger(__name__)

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_NAME_LENGTH = 200


def ensure_built_in_roles(session: Session) -> None:
    """Create any missing built-in role and reset changed ones to their definition."""
    existing = {(role.scope, role.name): role for role in session.scalars(select(Role))}
    for scope, definitions in (
        ("system", role_definitions.BUILT_IN_SYSTEM_ROLES),
        ("connector", role_definitions.BUILT_IN_CONNECTOR_ROLES),
    ):
        for name, (permissions, description) in definitions.items():
            role = existing.get((scope, name))
            if role is None:
                role = Role(name=name, name_normalized=name.casefold(), scope=scope)
                session.add(role)
            role.permissions = list(permissions)
            role.description = description
            role.built_in = True


def unknown_role_error(session: Session, requested: list[str], found: set[str]) -> None:
    """Raise InvalidInputError naming the first requested system role that is not in ``found``.

    ``found`` contains the case-folded names that matched. The message quotes the name as the
    caller wrote it and lists the system roles that exist.
    """
    for name in requested:
        if name.casefold() not in found:
            known = sorted(session.scalars(select(Role.name).where(Role.scope == "system")))
            raise InvalidInputError(
                f"Unknown system role {name!r}; use one of {', '.join(known)}",
                code="unknown_role",
            )


class PrincipalService:
    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    def create_user(
        self,
        session: Session,
        *,
        name: str,
        email: str,
        password: str,
        actor_id: str | None,
    ) -> Principal:
        """Create a user who logs in with ``email`` and ``password``.

        Raises InvalidInputError for a bad name, email or short password, and ConflictError
        when the email is taken (case-insensitively).
        """
        clean_name = self._checked_name(name)
        clean_email = email.strip()
        if not EMAIL_PATTERN.fullmatch(clean_email):
            raise InvalidInputError("Email is not a valid address", code="invalid_email")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInputError(
                f"Password must be at least {MIN_PASSWORD_LENGTH} characters",
                code="invalid_password",
            )
        normalized = clean_email.casefold()
        if session.scalar(select(Principal.id).where(Principal.email_normalized == normalized)):
            raise ConflictError("A user with this email already exists", code="email_taken")

        now = self._clock.now()
        user = Principal(
            kind="user",
            name=clean_name,
            email=clean_email,
            email_normalized=normalized,
            password_hash=hash_password(password),
            status="Active",
            created=now,
            modified=now,
        )
        session.add(user)
        session.flush()
        self._audit.record(
            "user_created", actor_id=actor_id, target=f"principal:{user.id}", session=session
        )
        return user

    def create_api_user(self, session: Session, *, name: str, actor_id: str | None) -> Principal:
        """Create an API user: no email, no password, never able to log in."""
        now = self._clock.now()
        api_user = Principal(
            kind="api",
            name=self._checked_name(name),
            status="Active",
            created=now,
            modified=now,
        )
        session.add(api_user)
        session.flush()
        self._audit.record(
            "api_user_created",
            actor_id=actor_id,
            target=f"principal:{api_user.id}",
            session=session,
        )
        return api_user

    def _checked_name(self, name: str) -> str:
        clean = name.strip()
        if not clean or len(clean) > MAX_NAME_LENGTH:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        return clean

    def get(self, session: Session, principal_id: str) -> Principal:
        """Return the principal; raises NotFoundError when none has that id."""
        principal = session.get(Principal, principal_id)
        if principal is None:
            raise NotFoundError("User not found", code="user_not_found")
        return principal

    def find_by_login(self, session: Session, email_or_name: str) -> Principal:
        """Return the principal with this email, or else the only one with this name.

        Raises NotFoundError when none matches and InvalidInputError when the name is shared.
        """
        needle = email_or_name.strip()
        by_email = session.scalar(
            select(Principal).where(Principal.email_normalized == needle.casefold())
        )
        if by_email is not None:
            return by_email
        matches = list(
            session.scalars(select(Principal).where(func.lower(Principal.name) == needle.lower()))
        )
        if not matches:
            raise NotFoundError(f"No user or API user is named {needle!r}", code="user_not_found")
        if len(matches) > 1:
            raise InvalidInputError(
                f"Several principals are named {needle!r}; use an email address",
                code="ambiguous_user",
            )
        return matches[0]

    def list_all(self, session: Session) -> list[Principal]:
        return list(session.scalars(select(Principal).order_by(Principal.kind, Principal.name)))

    def assign_system_roles(
        self, session: Session, principal: Principal, role_names: list[str], *, actor_id: str | None
    ) -> None:
        """Replace the principal's direct system roles with ``role_names`` (matched by name).

        Raises InvalidInputError naming the first unknown role.
        """
        wanted = {name.casefold() for name in role_names}
        roles = list(
            session.scalars(
                select(Role).where(Role.scope == "system", Role.name_normalized.in_(wanted))
            )
        )
        unknown_role_error(session, role_names, {role.name_normalized for role in roles})
        session.query(PrincipalRole).filter(PrincipalRole.principal_id == principal.id).delete()
        for role in roles:
            session.add(PrincipalRole(principal_id=principal.id, role_id=role.id))
        self._audit.record(
            "roles_changed",
            actor_id=actor_id,
            target=f"principal:{principal.id}",
            details={"roles": sorted(role.name for role in roles)},
            session=session,
        )

    def has_any_user(self, session: Session) -> bool:
        return (
            session.scalar(select(Principal.id).where(or_(Principal.kind == "user")).limit(1))
            is not None
        )

    def update(
        self,
        session: Session,
        principal: Principal,
        *,
        name: str | None,
        status: str | None,
        actor_id: str | None,
    ) -> Principal:
        """Rename, disable or enable a principal and audit the change.

        Disabling stops all of the principal's tokens on the next request, because
        authentication checks the owner's status every time.
        """
        if name is not None:
            principal.name = self._checked_name(name)
            self._audit.record(
                "principal_renamed",
                actor_id=actor_id,
                target=f"principal:{principal.id}",
                session=session,
            )
        if status is not None and status != principal.status:
            if status not in ("Active", "Disabled"):
                raise InvalidInputError("Status must be Active or Disabled", code="invalid_status")
            principal.status = status
            event = "principal_enabled" if status == "Active" else "principal_disabled"
            self._audit.record(
                event, actor_id=actor_id, target=f"principal:{principal.id}", session=session
            )
        principal.modified = self._clock.now()
        return principal

    def delete(self, session: Session, principal: Principal, *, actor_id: str | None) -> None:
        """Delete a principal; its tokens, team memberships, roles and grants go with it."""
        target = f"principal:{principal.id}"
        session.execute(delete(Token).where(Token.principal_id == principal.id))
        session.delete(principal)
        self._audit.record(
            "principal_deleted",
            actor_id=actor_id,
            target=target,
            details={"name": principal.name, "kind": principal.kind},
            session=session,
        )

    def system_role_names(self, session: Session, principal_id: str) -> list[str]:
        """Return the names of the system roles assigned directly to the principal."""
        return sorted(
            session.scalars(
                select(Role.name)
                .join(PrincipalRole, PrincipalRole.role_id == Role.id)
                .where(PrincipalRole.principal_id == principal_id)
            )
        )

    def require_other_administrator(self, session: Session, principal_id: str) -> None:
        """Raise ConflictError when disabling or deleting ``principal_id`` would leave no active
        Administrator. Does nothing for a principal that is not an Administrator."""
        if not load_access(session, principal_id).is_administrator:
            return
        if self.count_active_administrators(session) <= 1:
            raise ConflictError(
                "The last active Administrator cannot be disabled or deleted",
                code="last_administrator",
            )

    def count_active_administrators(self, session: Session) -> int:
        """Return how many active users hold the Administrator role directly or via a team."""
        admin_role = select(Role.id).where(Role.scope == "system", Role.name == "Administrator")
        direct = select(PrincipalRole.principal_id).where(PrincipalRole.role_id.in_(admin_role))
        via_team = (
            select(TeamMember.principal_id)
            .join(TeamRole, TeamRole.team_id == TeamMember.team_id)
            .where(TeamRole.role_id.in_(admin_role))
        )
        statement = select(func.count()).where(
            Principal.status == "Active",
            Principal.kind == "user",
            or_(Principal.id.in_(direct), Principal.id.in_(via_team)),
        )
        return session.scalar(statement) or 0
