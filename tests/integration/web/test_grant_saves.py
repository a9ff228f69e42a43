"""Saving connector grants from the user and team pages: rejected saves and kept parts."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from listdock.app import Services
from listdock.domain.models import ConnectorGrant, Entity

from ..api.conftest import API, ApiConnector, field_ids
from ..api.security_support import add_principal, invoice_action_id, put_grant
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


def detail_id(
    client: TestClient, admin: Login, connector: ApiConnector, source: str, name: str
) -> str:
    """Return the id of the detail ``name`` of the list ``source``."""
    response = client.get(
        f"{API}/entity/{connector.entity_id(source)}/relationship", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return str({item["Name"]: item for item in response.json()}[name]["RelationshipId"])


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


# Parts the form cannot show box by box ----------------------------------------------------


def test_unchanged_form_keeps_specific_ids(
    browser: TestClient, admin: Login, chinook: ApiConnector, holder: Holder
) -> None:
    details = sorted(
        [
            detail_id(browser, admin, chinook, "Customer", "Invoice"),
            detail_id(browser, admin, chinook, "Album", "Track"),
        ]
    )
    action = invoice_action_id(browser, admin, chinook)
    put = put_grant(
        browser, admin.headers, holder.api_path, chinook.id, Details=details, Actions=[action]
    )
    assert put.status_code == 200, put.text

    page = browser.get(holder.page_path).text
    response = submit(browser, holder.page_path, chinook.id)
    stored = read_grant(browser, admin, holder, chinook.id).json()

    assert (
        "2 specific details, set through the API, stay granted when you save with All details "
        "unticked: Album › Track, Customer › Invoice."
    ) in page
    assert (
        "1 specific action, set through the API, stays granted when you save with All actions "
        "unticked: Invoice › Remove invoice."
    ) in page
    assert response.status_code == 303, response.text
    assert stored["Details"] == details
    assert stored["Actions"] == [action]


def test_unticked_all_grants_none(
    browser: TestClient, admin: Login, chinook: ApiConnector, holder: Holder
) -> None:
    put_grant(browser, admin.headers, holder.api_path, chinook.id, Details="all", Actions="all")

    response = submit(browser, holder.page_path, chinook.id, untick=("details_all", "actions_all"))
    stored = read_grant(browser, admin, holder, chinook.id).json()

    assert response.status_code == 303, response.text
    assert stored["Details"] == []
    assert stored["Actions"] == []


def test_ticked_all_replaces_specific_ids(
    browser: TestClient, admin: Login, chinook: ApiConnector, holder: Holder
) -> None:
    detail = detail_id(browser, admin, chinook, "Customer", "Invoice")
    action = invoice_action_id(browser, admin, chinook)
    put_grant(
        browser, admin.headers, holder.api_path, chinook.id, Details=[detail], Actions=[action]
    )
    page = browser.get(holder.page_path).text
    _, loaded = grant_form(page, chinook.id)

    response = submit(
        browser,
        holder.page_path,
        chinook.id,
        ticked=[*loaded, ("details_all", "1"), ("actions_all", "1")],
    )
    stored = read_grant(browser, admin, holder, chinook.id).json()

    assert response.status_code == 303, response.text
    assert stored["Details"] == "all"
    assert stored["Actions"] == "all"


def test_unchanged_form_keeps_missing_list(
    browser: TestClient,
    services: Services,
    admin: Login,
    chinook: ApiConnector,
    holder: Holder,
) -> None:
    album, artist = chinook.entity_id("Album"), chinook.entity_id("Artist")
    put_grant(browser, admin.headers, holder.api_path, chinook.id, Lists=[album, artist])
    with services.sessions.begin() as session:
        session.execute(update(Entity).where(Entity.id == artist).values(missing=True))

    page = browser.get(holder.page_path).text
    _, loaded = grant_form(page, chinook.id)
    response = submit(browser, holder.page_path, chinook.id)
    stored = read_grant(browser, admin, holder, chinook.id).json()

    assert ("lists", artist) in loaded
    assert 'Artist <span class="muted">(not found in the source by the last refresh)' in page
    assert response.status_code == 303, response.text
    assert stored["Lists"] == sorted([album, artist])


def test_save_drops_ids_of_deleted_objects(
    browser: TestClient,
    services: Services,
    admin: Login,
    chinook: ApiConnector,
    holder: Holder,
) -> None:
    detail = detail_id(browser, admin, chinook, "Customer", "Invoice")
    put_grant(browser, admin.headers, holder.api_path, chinook.id, Details=[detail])
    # A grant stored before deletions cleaned grants may still name a deleted detail.
    with services.sessions.begin() as session:
        session.execute(
            update(ConnectorGrant)
            .where(ConnectorGrant.connector_id == chinook.id)
            .values(details=[detail, "deleted-detail"])
        )

    response = submit(browser, holder.page_path, chinook.id)
    stored = read_grant(browser, admin, holder, chinook.id).json()

    assert response.status_code == 303, response.text
    assert stored["Details"] == [detail]
