"""Saving connector grants from the user and team pages: rejected saves."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services

from ..api.conftest import API, ApiConnector, field_ids
from ..api.security_support import add_principal, put_grant
from ..conftest import Login

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHECKED = re.compile(r'<input type="checkbox" name="([a-z_]+)" value="([^"]*)" checked>')


@dataclass(frozen=True)
class Holder:
    """A user or team whose grant a test edits, with its page and API paths."""

    api_path: str
    page_path: str


@pytest.fixture(params=["user", "team"])
def holder(
    request: pytest.FixtureRequest, services: Services, client: TestClient, admin: Login
) -> Holder:
    """An API user (Connectors tab of its page) or a team (its page)."""
    if request.param == "user":
        principal_id = add_principal(services, "Portal", ("ApiReader",)).principal_id
        return Holder(f"/user/{principal_id}", f"/security/users/{principal_id}?tab=connectors")
    response = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    team_id = response.json()["TeamId"]
    return Holder(f"/team/{team_id}", f"/security/teams/{team_id}")


def grant_form(page: str, connector_id: str) -> tuple[str, list[tuple[str, str]]]:
    """Return the action of a connector's grant form and the boxes ticked on it."""
    match = re.search(
        rf'<form method="post" action="([^"]*/connectors/{connector_id})">(.*?)</form>',
        page,
        re.S,
    )
    assert match is not None, f"the page has no grant form for connector {connector_id}"
    return match.group(1), [
        (name, html.unescape(value)) for name, value in CHECKED.findall(match.group(2))
    ]


def submit(
    browser: TestClient,
    page_path: str,
    connector_id: str,
    *,
    ticked: list[tuple[str, str]] | None = None,
    untick: tuple[str, ...] = (),
) -> Any:
    """Load a page and post its grant form, ticked as loaded or as ``ticked``.

    ``untick`` names boxes (such as ``details_all``) to clear before posting.
    """
    page = browser.get(page_path)
    assert page.status_code == 200, page.text
    action, loaded = grant_form(page.text, connector_id)
    boxes = loaded if ticked is None else ticked
    csrf = CSRF.search(page.text)
    assert csrf is not None
    form: dict[str, list[str]] = {"csrf_token": [csrf.group(1)]}
    for name, value in boxes:
        if name not in untick:
            form.setdefault(name, []).append(value)
    return browser.post(action, data=form, follow_redirects=False)


def read_grant(client: TestClient, admin: Login, holder: Holder, connector_id: str) -> Any:
    return client.get(f"{API}{holder.api_path}/connector/{connector_id}", headers=admin.headers)


def custom_list_id(client: TestClient, admin: Login, connector: ApiConnector) -> str:
    fields = field_ids(client, admin, connector.entity_id("Invoice"))
    response = client.post(
        f"{API}/entity/{connector.entity_id('Invoice')}/custom-list",
        json={"Name": "Big invoices", "Fields": [fields["InvoiceId"], fields["Total"]]},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["EntityId"])


# Rejected saves --------------------------------------------------------------------------


def test_deleted_list_shows_form_again(
    browser: TestClient, admin: Login, chinook: ApiConnector, holder: Holder
) -> None:
    album = chinook.entity_id("Album")
    put_grant(browser, admin.headers, holder.api_path, chinook.id, Roles=["Reader"], Lists=[album])
    custom = custom_list_id(browser, admin, chinook)
    page = browser.get(holder.page_path).text
    assert f'value="{custom}"' in page
    browser.delete(f"{API}/entity/{custom}", headers=admin.headers)
    ticked = [
        ("connector_roles", "User"),
        ("companies", chinook.company_ids[0]),
        ("lists", album),
        ("lists", custom),
    ]

    response = submit(browser, holder.page_path, chinook.id, ticked=ticked)
    _, boxes_after = grant_form(response.text, chinook.id)
    stored = read_grant(browser, admin, holder, chinook.id).json()

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert (
        '<div class="error" role="alert">A list you ticked no longer exists in Chinook, so the '
        "grant was not saved. It may have been deleted after the page loaded. Check the grant "
        "below and save again.</div>"
    ) in response.text
    assert boxes_after == ticked[:3]
    assert stored["Roles"] == ["Reader"]
    assert stored["Companies"] == "all"
    assert stored["Lists"] == [album]


def test_deleted_role_shows_form_again(
    browser: TestClient, admin: Login, chinook: ApiConnector, holder: Holder
) -> None:
    role = browser.post(
        f"{API}/role", json={"Name": "Auditor", "Scope": "connector"}, headers=admin.headers
    )
    assert role.status_code == 201, role.text
    browser.delete(f"{API}/role/{role.json()['RoleId']}", headers=admin.headers)
    ticked = [("connector_roles", "Auditor"), ("connector_roles", "Reader"), ("lists_all", "1")]

    response = submit(browser, holder.page_path, chinook.id, ticked=ticked)
    _, boxes_after = grant_form(response.text, chinook.id)

    assert response.status_code == 400
    assert (
        "The connector role Auditor no longer exists, so the grant in Chinook was not saved. "
        "Choose from the roles shown and save again."
    ) in response.text
    assert boxes_after == [("connector_roles", "Reader"), ("lists_all", "1")]
    assert read_grant(browser, admin, holder, chinook.id).status_code == 404


def test_unknown_company_shows_form_again(
    browser: TestClient, admin: Login, chinook: ApiConnector, holder: Holder
) -> None:
    ticked = [("connector_roles", "User"), ("companies", "no-such-company")]

    response = submit(browser, holder.page_path, chinook.id, ticked=ticked)

    assert response.status_code == 400
    assert "A company you ticked no longer exists in Chinook" in response.text
    assert read_grant(browser, admin, holder, chinook.id).status_code == 404
