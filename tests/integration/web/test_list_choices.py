"""The "List and company" options of the endpoint and widget create forms."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services
from listdock.security.policy import load_access
from listdock.web.list_choices import list_company_choices
from listdock.web.sessions import SESSION_COOKIE

from ..api.conftest import ApiConnector, connector_body, create_connector
from ..api.security_support import PASSWORD, Caller, add_principal, put_grant
from ..conftest import Login

LIST_SELECT = re.compile(
    r'<select id="[^"]+" name="list_and_company" required>(.*?)</select>', re.S
)
OPTION = re.compile(r'<option value="([^"]*)" [^>]*>([^<]*)</option>')


@pytest.fixture
def two_companies(client: TestClient, admin: Login, chinook_sqlite_path: Path) -> ApiConnector:
    """Chinook with two companies, Company 1 and Company 2, both on the sample file."""
    sample = str(chinook_sqlite_path)
    return create_connector(client, admin, connector_body("Chinook", "sqlite", [sample, sample]))


@pytest.fixture
def developer(
    services: Services, client: TestClient, admin: Login, two_companies: ApiConnector
) -> Caller:
    """A user with the Developer role, granted Artist and Album in the second company only."""
    caller = add_principal(services, "Dev", ("Developer",), kind="user")
    response = put_grant(
        client,
        admin.headers,
        f"/user/{caller.principal_id}",
        two_companies.id,
        Companies=[two_companies.company_ids[1]],
        Lists=[two_companies.entity_id("Artist"), two_companies.entity_id("Album")],
    )
    assert response.status_code == 200, response.text
    return caller


def choices_of(services: Services, principal_id: str) -> list[tuple[str, str]]:
    with services.sessions() as session:
        return list_company_choices(
            services.connectors, session, load_access(session, principal_id)
        )


def page_options(
    services: Services, client: TestClient, email: str, path: str
) -> list[tuple[str, str]]:
    """Return the ``(value, label)`` options of the List and company select on a page."""
    client.cookies.set(SESSION_COOKIE, services.web_sessions.login(email, PASSWORD, ip="1.1.1.1"))
    response = client.get(path)
    assert response.status_code == 200, response.text
    select = LIST_SELECT.search(response.text)
    assert select is not None, f"{path} has no List and company select"
    return [
        (html.unescape(value), html.unescape(label))
        for value, label in OPTION.findall(select.group(1))
    ]


def test_choices_only_granted_lists_and_companies(
    services: Services, developer: Caller, two_companies: ApiConnector
) -> None:
    company = two_companies.company_ids[1]

    assert choices_of(services, developer.principal_id) == [
        (f"{two_companies.entity_id('Album')}|{company}", "Album — Company 2"),
        (f"{two_companies.entity_id('Artist')}|{company}", "Artist — Company 2"),
    ]


def test_choices_every_company_for_administrator(
    services: Services, admin: Login, two_companies: ApiConnector
) -> None:
    choices = choices_of(services, admin.principal_id)
    album = two_companies.entity_id("Album")
    first, second = two_companies.company_ids

    assert len(choices) == 2 * len(two_companies.entities)
    assert choices[:2] == [
        (f"{album}|{first}", "Album — Company 1"),
        (f"{album}|{second}", "Album — Company 2"),
    ]


@pytest.mark.parametrize("path", ["/developer/endpoints", "/developer/widgets"])
def test_create_form_offers_choices(
    services: Services, client: TestClient, developer: Caller, path: str
) -> None:
    options = page_options(services, client, "dev@example.com", path)

    assert options == choices_of(services, developer.principal_id)
