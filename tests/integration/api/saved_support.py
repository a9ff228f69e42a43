"""Helpers for the endpoint, favorite, detail and custom list tests.

Roles and grants are written straight into the store, so these tests do not depend on the
security management routes.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ElementTree
from typing import Any

import openpyxl
from httpx import Response

from listdock.app import Services
from listdock.domain.models import ConnectorGrant, Team, TeamMember

from ..conftest import Login


def api_user(
    services: Services,
    name: str,
    roles: list[str],
    *,
    connector_id: str | None = None,
    connector_roles: list[str] | None = None,
    lists: Any = "all",
    companies: Any = "all",
    details: Any = "all",
) -> Login:
    """Create an API user with system ``roles``, an optional grant, and a token."""
    with services.sessions.begin() as session:
        user = services.principals.create_api_user(session, name=name, actor_id=None)
        services.principals.assign_system_roles(session, user, roles, actor_id=None)
        if connector_id is not None:
            session.add(
                ConnectorGrant(
                    connector_id=connector_id,
                    principal_id=user.id,
                    roles=connector_roles if connector_roles is not None else ["User"],
                    companies=companies,
                    lists=lists,
                    details=details,
                    actions="all",
                    modified=services.clock.now(),
                )
            )
        issued = services.tokens.create(session, user, f"{name} token", created_by=None)
        return Login(principal_id=user.id, email=None, token=issued.value)


def team_with(services: Services, name: str, member_ids: list[str]) -> str:
    """Create a team with the given members and return its id."""
    with services.sessions.begin() as session:
        now = services.clock.now()
        team = Team(name=name, name_normalized=name.casefold(), created=now, modified=now)
        session.add(team)
        session.flush()
        for member_id in member_ids:
            session.add(TeamMember(team_id=team.id, principal_id=member_id))
        return team.id


def rows_of(response: Response, column: str) -> list[str]:
    """Return one column of a data response as text, whatever its format."""
    media = response.headers["content-type"]
    if media.startswith("application/json"):
        return [_text(row[column]) for row in response.json()]
    if media.startswith("text/csv"):
        reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
        return [row[column] for row in reader]
    if "xml" in media and "spreadsheet" not in media:
        root = ElementTree.fromstring(response.content)
        return [record.findtext(column) or "" for record in root]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    index = list(rows[0]).index(column)
    return [_text(row[index]) for row in rows[1:]]


def _text(value: Any) -> str:
    return "" if value is None else str(value)
