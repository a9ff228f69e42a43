"""The web list page: details, actions on ticked records, and favorites."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from listdock.app import Services
from listdock.connectors.engines import ConnectionSettings
from listdock.domain.models import Entity
from listdock.security.policy import load_access
from listdock.services.actions import ActionSpec
from listdock.services.connectors import CompanySpec, ConnectorSpec
from listdock.web.sessions import SESSION_COOKIE

from ..conftest import Login

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def chinook_copy(chinook_sqlite_path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "chinook.sqlite"
    shutil.copyfile(chinook_sqlite_path, copy)
    return copy


@pytest.fixture
def customer_list(services: Services, admin: Login, chinook_copy: Path) -> str:
    with services.sessions.begin() as session:
        services.connectors.create(
            session,
            ConnectorSpec(
                name="Chinook",
                type="sqlite",
                settings=ConnectionSettings(),
                companies=(CompanySpec("Chinook", str(chinook_copy)),),
            ),
            actor_id=admin.principal_id,
        )
        entity_id = session.scalar(select(Entity.id).where(Entity.source_name == "Customer"))
    assert entity_id is not None
    return entity_id


@pytest.fixture
def browser(services: Services, client: TestClient, admin: Login) -> TestClient:
    cookie = services.web_sessions.login("ada@example.com", "correct horse battery", ip="1.1.1.1")
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None
    return match.group(1)


def test_list_page_links_details(browser: TestClient, customer_list: str) -> None:
    page = browser.get(f"/lists/{customer_list}?orderby=CustomerId")

    assert page.status_code == 200
    link = re.search(r'href="(/lists/[^"]+/details/[^"]+)"', page.text)
    assert link is not None
    detail = browser.get(link.group(1).replace("&amp;", "&"))
    assert detail.status_code == 200
    assert "Invoice" in detail.text
    assert "<td>" in detail.text


def test_action_changes_ticked_record(
    services: Services, browser: TestClient, admin: Login, customer_list: str, chinook_copy: Path
) -> None:
    with services.sessions.begin() as session:
        action = services.actions.create(
            session,
            load_access(session, admin.principal_id),
            customer_list,
            ActionSpec(name="Set city", action_type="change_field", values={"City": None}),
            actor_id=admin.principal_id,
        )
        action_id = action.id
    page = browser.get(f"/lists/{customer_list}?orderby=CustomerId")
    assert 'name="keys"' in page.text

    response = browser.post(
        f"/lists/{customer_list}/actions",
        data={
            "csrf_token": csrf_of(page.text),
            "action_id": action_id,
            "keys": json.dumps({"CustomerId": 1}),
            "value__City": "Ljubljana",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    with sqlite3.connect(chinook_copy) as connection:
        city = connection.execute("SELECT City FROM Customer WHERE CustomerId = 1").fetchone()[0]
    assert city == "Ljubljana"


def test_action_without_csrf_rejected(
    browser: TestClient, customer_list: str, chinook_copy: Path
) -> None:
    response = browser.post(
        f"/lists/{customer_list}/actions",
        data={"action_id": "x", "keys": json.dumps({"CustomerId": 1})},
        follow_redirects=False,
    )

    assert response.status_code == 403


def test_saved_favorite_reopens_view(browser: TestClient, customer_list: str) -> None:
    page = browser.get(f"/lists/{customer_list}?search_field=Country&q=Brazil")
    state = "search_field=Country&q=Brazil"

    saved = browser.post(
        f"/lists/{customer_list}/favorites",
        data={"csrf_token": csrf_of(page.text), "name": "Brazil", "state_query": state},
        follow_redirects=False,
    )

    assert saved.status_code == 303
    reopened = browser.get(saved.headers["location"])
    assert reopened.status_code == 200
    assert "Favorite “Brazil”" in reopened.text
    assert "of 5 Customer" in reopened.text
