"""Teams, their members and their system roles."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.domain.models import Principal, Role, Team, TeamMember, TeamRole
from listdock.errors import ConflictError, InvalidInputError, NotFoundError
from listdock.services.audit import AuditLog
from listdock.services.principals import unknown_role_error

MAX_NAME_LENGTH = 200


class TeamService:
    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    def _checked_name(self, session: Session, name: str, team_id: str | None) -> str:
        clean = name.strip()
        if not clean or len(clean) > MAX_NAME_LENGTH:
            raise InvalidInputError("Name must be 1 to 200 characters", code="invalid_name")
        clash = session.scalar(
            select(Team.id).where(
                Team.name_normalized == clean.casefold(), Team.id != (team_id or "")
            )
        )
        if clash is not None:
            raise ConflictError("A team with this name already exists", code="name_taken")
        return clean

    def create(
        self, session: Session, *, name: str, description: str, actor_id: str | None
    ) -> Team:
        """Create a team; raises ConflictError when the name is taken (case-insensitively)."""
        clean = self._checked_name(session, name, None)
        now = self._clock.now()
        team = Team(
            name=clean,
            name_normalized=clean.casefold(),
            description=description.strip(),
            created=now,
            modified=now,
        )
        session.add(team)
        session.flush()
        self._audit.record(
            "team_created", actor_id=actor_id, target=f"team:{team.id}", session=session
        )
        return team

    def update(
        self,
        session: Session,
        team: Team,
        *,
        name: str | None,
        description: str | None,
        actor_id: str | None,
    ) -> Team:
        if name is not None:
            team.name = self._checked_name(session, name, team.id)
            team.name_normalized = team.name.casefold()
        if description is not None:
            team.description = description.strip()
        team.modified = self._clock.now()
        self._audit.record(
            "team_changed", actor_id=actor_id, target=f"team:{team.id}", session=session
        )
        return team

    def delete(self, session: Session, team: Team, *, actor_id: str | None) -> None:
        """Delete a team; its members lose what the team granted them at once."""
        target = f"team:{team.id}"
        session.delete(team)
        self._audit.record(
            "team_deleted",
            actor_id=actor_id,
            target=target,
            details={"name": team.name},
            session=session,
        )

    def get(self, session: Session, team_id: str) -> Team:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFoundError("Team not found", code="team_not_found")
        return team

    def list_all(self, session: Session) -> list[Team]:
        return list(session.scalars(select(Team).order_by(Team.name)))

    def members(self, session: Session, team: Team) -> list[Principal]:
        return list(
            session.scalars(
                select(Principal)
                .join(TeamMember, TeamMember.principal_id == Principal.id)
                .where(TeamMember.team_id == team.id)
                .order_by(Principal.name)
            )
        )

    def add_member(
        self, session: Session, team: Team, principal: Principal, *, actor_id: str | None
    ) -> None:
        """Add a user or API user to a team; raises ConflictError when already a member."""
        existing = session.get(TeamMember, (team.id, principal.id))
        if existing is not None:
            raise ConflictError("The user is already a member of this team", code="already_member")
        session.add(TeamMember(team_id=team.id, principal_id=principal.id))
        self._audit.record(
            "team_member_added",
            actor_id=actor_id,
            target=f"team:{team.id}",
            details={"principal_id": principal.id},
            session=session,
        )

    def remove_member(
        self, session: Session, team: Team, principal_id: str, *, actor_id: str | None
    ) -> None:
        """Remove a member; raises NotFoundError when the principal is not a member."""
        result = session.execute(
            delete(TeamMember).where(
                TeamMember.team_id == team.id, TeamMember.principal_id == principal_id
            )
        )
        if getattr(result, "rowcount", 0) == 0:
            raise NotFoundError("The user is not a member of this team", code="member_not_found")
        self._audit.record(
            "team_member_removed",
            actor_id=actor_id,
            target=f"team:{team.id}",
            details={"principal_id": principal_id},
            session=session,
        )

    def role_names(self, session: Session, team: Team) -> list[str]:
        return sorted(
            session.scalars(
                select(Role.name)
                .join(TeamRole, TeamRole.role_id == Role.id)
                .where(TeamRole.team_id == team.id)
            )
        )

    def assign_system_roles(
        self, session: Session, team: Team, role_names: list[str], *, actor_id: str | None
    ) -> None:
        """Replace the team's system roles; raises InvalidInputError naming an unknown role."""
        wanted = {name.casefold() for name in role_names}
        roles = list(
            session.scalars(
                select(Role).where(Role.scope == "system", Role.name_normalized.in_(wanted))
            )
        )
        unknown_role_error(session, role_names, {role.name_normalized for role in roles})
        session.execute(delete(TeamRole).where(TeamRole.team_id == team.id))
        for role in roles:
            session.add(TeamRole(team_id=team.id, role_id=role.id))
        self._audit.record(
            "roles_changed",
            actor_id=actor_id,
            target=f"team:{team.id}",
            details={"roles": sorted(role.name for role in roles)},
            session=session,
        )
