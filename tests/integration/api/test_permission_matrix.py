"""The permission matrix: every principal setup and token state against each route family.

The cells are the product of principal kind, system role, the way rights reach the principal,
token state and route family. ``expected_outcome`` computes each cell's status and error code
from those coordinates alone, so it reads as the access rule:

- Any token that is not active (expired, disabled, revoked, the old value of a rotated token,
  or a token whose owner is disabled or deleted) gets 401 ``invalid_token``.
- Management and audit routes need an Administrator or SecurityManager (403 ``missing_role``).
- Data routes need ApiReader (403 ``missing_role``) and a connector grant on the list (404
  ``entity_not_found``, the same response as for a list that does not exist). An Administrator
  has both everywhere.

Every principal is set up once per test function in one store, and each test walks the cells
of one route family.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session

from listdock.domain.models import Principal, Team
from listdock.services.grants import GrantSpec
from listdock.settings import Settings

from .conftest import API
from .security_support import PASSWORD, error_code

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import FakeClock

    from listdock.app import Services

    from .conftest import ApiConnector

PRINCIPAL_KINDS = ("user", "api")
SYSTEM_ROLES = ("no role", "ApiReader", "SecurityManager", "Administrator")
# How the system role and the connector grant reach the principal. With "direct grant" both
# are on the principal. With "team grant" the role is on the principal and the grant on a team
# it belongs to. With "team role" the role is on the team and the grant on the principal. With
# "no grant" the role is on the principal and there is no connector grant.
GRANT_SOURCES = ("direct grant", "team grant", "team role", "no grant")
TOKEN_STATES = (
    "active",
    "expired",
    "disabled",
    "revoked",
    "rotated old value",
    "owner disabled",
    "owner deleted",
)
ROUTE_FAMILIES = ("management", "data", "query", "audit")

# Token states set on the token itself. The other two states are set on its owner.
TOKEN_LEVEL_STATES = TOKEN_STATES[:5]
MANAGERS = ("SecurityManager", "Administrator")
DATA_READERS = ("ApiReader", "Administrator")
SUCCESS_STATUS = {"management": 201, "data": 200, "query": 200, "audit": 200}
TOKEN_LIFETIME = timedelta(hours=1)
# Principal kind, system role, grant source and token state.
TokenKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Cell:
    """One coordinate of the matrix."""

    kind: str
    role: str
    source: str
    state: str
    family: str

    @property
    def label(self) -> str:
        return f"{self.kind} / {self.role} / {self.source} / {self.state} / {self.family}"


def expected_outcome(cell: Cell) -> tuple[int, str | None]:
    """Return the status and error code the cell must get (None: no error body)."""
    if cell.state != "active":
        return 401, "invalid_token"
    if cell.family in ("management", "audit"):
        if cell.role in MANAGERS:
            return SUCCESS_STATUS[cell.family], None
        return 403, "missing_role"
    if cell.role not in DATA_READERS:
        return 403, "missing_role"
    if cell.source == "no grant" and cell.role != "Administrator":
        return 404, "entity_not_found"
    return SUCCESS_STATUS[cell.family], None


def cells_of(family: str) -> list[Cell]:
    return [
        Cell(kind, role, source, state, family)
        for kind, role, source, state in itertools.product(
            PRINCIPAL_KINDS, SYSTEM_ROLES, GRANT_SOURCES, TOKEN_STATES
        )
    ]


# Setup -------------------------------------------------------------------------------------


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    """Settings that allow the matrix's many refused tokens from one client address.

    The default limit of failed token attempts per address would turn most 401 cells into 429.
    """
    return Settings(
        data_dir=tmp_path / "data",
        database_url=store_url,
        secret_key=secrets.token_urlsafe(48),
        max_records_limit=5000,
        failed_token_limit="100000/minute",
    )


class MatrixBuilder:
    """Builder of the matrix's teams, principals and tokens in one store session."""

    def __init__(self, services: Services, session: Session, connector_id: str) -> None:
        self.services = services
        self.session = session
        self.connector_id = connector_id
        self.count = 0
        self.grant_team = self._team("Grant team")
        self.role_teams = {role: self._team(f"{role} team") for role in SYSTEM_ROLES}
        self._grant(team_id=self.grant_team.id)
        for role, team in self.role_teams.items():
            if role != "no role":
                services.teams.assign_system_roles(session, team, [role], actor_id=None)

    def _team(self, name: str) -> Team:
        return self.services.teams.create(self.session, name=name, description="", actor_id=None)

    def _grant(self, *, principal_id: str | None = None, team_id: str | None = None) -> None:
        spec = GrantSpec(roles=["User"], companies="all", lists="all", details=[], actions=[])
        self.services.grants.put(
            self.session,
            self.connector_id,
            spec,
            principal_id=principal_id,
            team_id=team_id,
            actor_id=None,
        )

    def principal(self, kind: str, role: str, source: str) -> Principal:
        """Create a principal whose role and grant reach it the way ``source`` names."""
        self.count += 1
        name = f"Matrix {self.count}"
        principals = self.services.principals
        if kind == "user":
            owner = principals.create_user(
                self.session,
                name=name,
                email=f"matrix{self.count}@example.com",
                password=PASSWORD,
                actor_id=None,
            )
        else:
            owner = principals.create_api_user(self.session, name=name, actor_id=None)

        if role != "no role" and source != "team role":
            principals.assign_system_roles(self.session, owner, [role], actor_id=None)
        if source == "team role":
            team = self.role_teams[role]
            self.services.teams.add_member(self.session, team, owner, actor_id=None)
        if source == "team grant":
            self.services.teams.add_member(self.session, self.grant_team, owner, actor_id=None)
        if source in ("direct grant", "team role"):
            self._grant(principal_id=owner.id)
        return owner

    def token(self, owner: Principal, state: str) -> str:
        """Create a token of ``owner`` in ``state`` and return the value to send.

        An "expired" token expires after TOKEN_LIFETIME, and the fixture then moves the clock
        past that.
        """
        tokens = self.services.tokens
        expires_at = None
        if state == "expired":
            expires_at = self.services.clock.now() + TOKEN_LIFETIME
        issued = tokens.create(self.session, owner, state, created_by=None, expires_at=expires_at)
        if state == "disabled":
            tokens.update(self.session, issued.token, name=None, status="Disabled", actor_id=None)
        if state == "revoked":
            tokens.revoke(self.session, issued.token, actor_id=None)
        if state == "rotated old value":
            tokens.rotate(self.session, issued.token, grace_seconds=0, actor_id=None)
        return issued.value


@pytest.fixture
def token_values(
    services: Services, chinook: ApiConnector, clock: FakeClock
) -> dict[TokenKey, str]:
    """Create every principal and token of the matrix and return the token values.

    One token serves every route family, so the keys leave the family out.
    """
    values: dict[TokenKey, str] = {}
    with services.sessions.begin() as session:
        builder = MatrixBuilder(services, session, chinook.id)
        for kind, role, source in itertools.product(PRINCIPAL_KINDS, SYSTEM_ROLES, GRANT_SOURCES):
            live = builder.principal(kind, role, source)
            for state in TOKEN_LEVEL_STATES:
                values[(kind, role, source, state)] = builder.token(live, state)

            disabled = builder.principal(kind, role, source)
            values[(kind, role, source, "owner disabled")] = builder.token(disabled, "active")
            services.principals.update(
                session, disabled, name=None, status="Disabled", actor_id=None
            )

            deleted = builder.principal(kind, role, source)
            values[(kind, role, source, "owner deleted")] = builder.token(deleted, "active")
            services.principals.delete(session, deleted, actor_id=None)

    clock.advance(seconds=TOKEN_LIFETIME.total_seconds() + 60)
    return values


# Requests ----------------------------------------------------------------------------------


def send_management(client: TestClient, cell: Cell, headers: dict[str, str], _: str) -> Any:
    body = {"Name": f"Created by {cell.label}", "Kind": "api"}
    return client.post(f"{API}/user", json=body, headers=headers)


def send_data(client: TestClient, cell: Cell, headers: dict[str, str], entity_id: str) -> Any:
    return client.get(f"{API}/entity/{entity_id}/data", params={"MaxRecords": 1}, headers=headers)


def send_query(client: TestClient, cell: Cell, headers: dict[str, str], entity_id: str) -> Any:
    body = {"Id": entity_id, "Query": {"MaxRecords": 1}}
    return client.post(f"{API}/query", json=body, headers=headers)


def send_audit(client: TestClient, cell: Cell, headers: dict[str, str], _: str) -> Any:
    return client.get(f"{API}/audit", params={"limit": 1}, headers=headers)


SENDERS: dict[str, Callable[[TestClient, Cell, dict[str, str], str], Any]] = {
    "management": send_management,
    "data": send_data,
    "query": send_query,
    "audit": send_audit,
}


@pytest.mark.parametrize("family", ROUTE_FAMILIES)
def test_route_family_by_cell(
    client: TestClient,
    chinook: ApiConnector,
    token_values: dict[TokenKey, str],
    family: str,
) -> None:
    entity_id = chinook.entity_id("Invoice")
    send = SENDERS[family]

    for cell in cells_of(family):
        value = token_values[(cell.kind, cell.role, cell.source, cell.state)]
        headers = {"Authorization": f"Bearer {value}"}

        response = send(client, cell, headers, entity_id)

        expected_status, expected_code = expected_outcome(cell)
        actual = (response.status_code, error_code(response) if expected_code else None)
        assert actual == (expected_status, expected_code), (
            f"cell {cell.label}: expected {expected_status} {expected_code}, "
            f"got {response.status_code}: {response.text[:300]}"
        )
