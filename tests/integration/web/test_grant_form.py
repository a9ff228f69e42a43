"""The connector grant card on the user and team security pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services

from ..api.conftest import API, ApiConnector
from ..api.security_support import Caller, add_principal, put_grant
from ..conftest import Login

CARD = re.compile(
    r'<section class="card">\s*<h3>((?:(?!</h3>).)*)</h3>\s*'
    r'<form method="post" action="([^"]*/connectors/[^"]*)">(.*?)</form>',
    re.S,
)
CHECKED = re.compile(r'<input type="checkbox" name="([a-z_]+)" value="([^"]*)" checked>')


@pytest.fixture
def granted_user(
    services: Services, client: TestClient, admin: Login, chinook: ApiConnector
) -> Caller:
    """An API user granted Reader on the Album list in the connector's one company."""
    caller = add_principal(services, "Portal")
    response = put_grant(
        client,
        admin.headers,
        f"/user/{caller.principal_id}",
        chinook.id,
        Roles=["Reader"],
        Companies=chinook.company_ids,
        Lists=[chinook.entity_id("Album")],
        Details="all",
    )
    assert response.status_code == 200, response.text
    return caller


def grant_card(browser: TestClient, path: str) -> tuple[str, str, str]:
    """Return the heading, form action and form body of the only grant card on a page."""
    response = browser.get(path)
    assert response.status_code == 200, response.text
    cards = CARD.findall(response.text)
    assert len(cards) == 1, f"{path} shows {len(cards)} grant cards"
    heading, action, form = cards[0]
    return heading, action, form


def test_user_card_shows_saved_grant(
    browser: TestClient, granted_user: Caller, chinook: ApiConnector
) -> None:
    user_id = granted_user.principal_id
    heading, action, form = grant_card(browser, f"/security/users/{user_id}?tab=connectors")

    assert heading.strip() == "Chinook"
    assert action == f"/security/users/{user_id}/connectors/{chinook.id}"
    assert CHECKED.findall(form) == [
        ("connector_roles", "Reader"),
        ("companies", chinook.company_ids[0]),
        ("lists", chinook.entity_id("Album")),
        ("details_all", "1"),
    ]
    assert 'name="remove" value="1">Remove grant</button>' in form


def test_team_card_without_grant(browser: TestClient, admin: Login, chinook: ApiConnector) -> None:
    team = browser.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()
    heading, action, form = grant_card(browser, f"/security/teams/{team['TeamId']}")

    assert heading == 'Connector: Chinook <span class="muted">(nothing granted)</span>'
    assert action == f"/security/teams/{team['TeamId']}/connectors/{chinook.id}"
    assert CHECKED.findall(form) == []
    assert "Remove grant" not in form
