"""Custom roles built from the permission list; built-in roles are read-only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from listdock.domain.models import ConnectorGrant, Role
from listdock.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from listdock.security import roles as role_definitions
from listdock.services.audit import AuditLog

PERMISSIONS_BY_SCOPE = {
    "system": role_definitions.SYSTEM_PERMISSIONS,
    "connector": role_definitions.CONNECTOR_PERMISSIONS,
}


class RoleService:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def list_all(self, session: Session) -> list[Role]:
        return list(session.scalars(select(Role).order_by(Role.scope.desc(), Role.name)))

    def get(self, session: Session, role_id: str) -> Role:
        role = session.get(Role, role_id)
        if role is None:
            raise NotFoundError("Role not found", code="role_not_found")
        return role

    def _checked_permissions(self, scope: str, permissions: list[str]) -> list[str]:
        allowed = PERMISSIONS_BY_SCOPE[scope]
        for permission in permissions:
            if permission not in allowed:
                raise InvalidInputError(
                    f"Unknown {scope} permission {permission!r}; use {', '.join(allowed)}",
                    code="unknown_permission",
                )
        return sorted(set(permissions))

    def _checked_name(self, session: Session, scope: str, name: str, role_id: str | None) -> str:
        clean = name.strip()
        if not clean or len(clean) > 100:
            raise InvalidInputError("Name must be 1 to 100 characters", code="invalid_name")
        clash = session.scalar(
            select(Role.id).where(
                Role.scope == scope,
                Role.name_normalized == clean.casefold(),
                Role.id != (role_id or ""),
            )
        )
        if clash is not None:
            raise ConflictError("A role with this name already exists", code="name_taken")
        return clean

    def create(
        self,
        session: Session,
        *,
        name: str,
        scope: str,
        permissions: list[str],
        description: str,
        actor_id: str | None,
    ) -> Role:
        """Create a custom role; raises InvalidInputError for an unknown scope or permission."""
        if scope not in PERMISSIONS_BY_SCOPE:
            raise InvalidInputError("Scope must be system or connector", code="invalid_scope")
        clean = self._checked_name(session, scope, name, None)
        role = Role(
            name=clean,
            name_normalized=clean.casefold(),
            scope=scope,
            permissions=self._checked_permissions(scope, permissions),
            built_in=False,
            description=description.strip(),
        )
        session.add(role)
        session.flush()
        self._audit.record(
            "role_created", actor_id=actor_id, target=f"role:{role.id}", session=session
        )
        return role

    def _rename_in_grants(self, session: Session, old: str, new: str | None) -> None:
        """Replace the connector role name ``old`` in every grant by ``new`` (None removes it).

        Grants name connector roles, so a renamed or deleted role must be followed there.
        """
        for grant in session.scalars(select(ConnectorGrant)):
            if old in (grant.roles or []):
                names = [name for name in grant.roles if name != old]
                if new is not None:
                    names.append(new)
                grant.roles = sorted(set(names))

    def _require_custom(self, role: Role) -> None:
        if role.built_in:
            raise PermissionDeniedError(
                "Built-in roles cannot be changed or deleted", code="built_in_role"
            )

    def update(
        self,
        session: Session,
        role: Role,
        *,
        name: str | None,
        permissions: list[str] | None,
        description: str | None,
        actor_id: str | None,
    ) -> Role:
        self._require_custom(role)
        if name is not None:
            old_name = role.name
            role.name = self._checked_name(session, role.scope, name, role.id)
            role.name_normalized = role.name.casefold()
            if role.scope == "connector" and role.name != old_name:
                self._rename_in_grants(session, old_name, role.name)
        if permissions is not None:
            role.permissions = self._checked_permissions(role.scope, permissions)
        if description is not None:
            role.description = description.strip()
        self._audit.record(
            "role_changed", actor_id=actor_id, target=f"role:{role.id}", session=session
        )
        return role

    def delete(self, session: Session, role: Role, *, actor_id: str | None) -> None:
        """Delete a custom role. A connector role's name is also taken out of every grant, so a
        role created later under the same name grants nothing by itself."""
        self._require_custom(role)
        if role.scope == "connector":
            self._rename_in_grants(session, role.name, None)
        target = f"role:{role.id}"
        session.delete(role)
        self._audit.record(
            "role_deleted",
            actor_id=actor_id,
            target=target,
            details={"name": role.name},
            session=session,
        )
