"""The Developer widget page: the General tab's Rows per page input."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services
from listdock.web.sessions import SESSION_COOKIE

from ..conftest import Login
from ..widget_support import WidgetWorld, writable_chinook

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RANGE_MESSAGE = (
    "Rows per page must be a whole number from 1 to 500. Enter one, or leave the box empty "
    "for the default of the widget type."
)
TYPE_MESSAGE = (
    "Rows per page applies only to grid and cards widgets. Leave the box empty for a single "
    "record or summary widget."
)


@pytest.fixture
def world(
    client: TestClient, admin: Login, chinook_sqlite_path: Path, tmp_path: Path
) -> WidgetWorld:
    return WidgetWorld.create(client, admin, writable_chinook(chinook_sqlite_path, tmp_path))


@pytest.fixture
def browser(services: Services, world: WidgetWorld) -> TestClient:
    """The test client, signed in to the web app as the administrator."""
    cookie = services.web_sessions.login("ada@example.com", "correct horse battery", ip="1.1.1.1")
    world.client.cookies.set(SESSION_COOKIE, cookie)
    return world.client


@pytest.fixture
def widget(world: WidgetWorld) -> dict[str, Any]:
    return world.create_widget("Invoice", Name="Invoices", fields=["InvoiceId", "Total"])


def page_size_input(page: str) -> str:
    """Return the HTML of the Rows per page input."""
    match = re.search(r'<input id="g-rows"[^>]*>', page)
    assert match is not None, "the page has no Rows per page input"
    return match.group(0)


def input_value(page: str, element_id: str) -> str:
    match = re.search(rf'<input id="{element_id}"[^>]*\bvalue="([^"]*)"', page)
    assert match is not None, f"the page has no input {element_id} with a value"
    return html.unescape(match.group(1))


def post_general(browser: TestClient, widget: dict[str, Any], **changes: Any) -> Any:
    """Post the General tab with the widget's saved values, replaced by ``changes``."""
    page = browser.get(f"/developer/widgets/{widget['WidgetId']}").text
    csrf = CSRF.search(page)
    assert csrf is not None
    form: dict[str, Any] = {
        "csrf_token": csrf.group(1),
        "name": widget["Name"],
        "widget_type": widget["Type"],
        "fields": widget["Fields"],
        "allowed_origins": "\n".join(widget["AllowedOrigins"]),
        "height": "",
        "width": "",
        "summary_field_id": "",
        "group_by_field_id": "",
        "page_size": "",
        **changes,
    }
    return browser.post(
        f"/developer/widgets/{widget['WidgetId']}/general", data=form, follow_redirects=False
    )


def test_general_tab_shows_rows_per_page(browser: TestClient, widget: dict[str, Any]) -> None:
    page = browser.get(f"/developer/widgets/{widget['WidgetId']}")

    field = page_size_input(page.text)
    assert page.status_code == 200
    assert '<label for="g-rows">Rows per page' in page.text
    assert 'type="number"' in field
    assert 'min="1" max="500"' in field
    assert 'value=""' in field
    assert 'placeholder="25"' in field


def test_rows_per_page_is_saved(
    browser: TestClient, world: WidgetWorld, widget: dict[str, Any]
) -> None:
    response = post_general(browser, widget, page_size="50")
    page = browser.get(f"/developer/widgets/{widget['WidgetId']}").text
    saved = world.get(f"/widget/{widget['WidgetId']}").json()

    assert response.status_code == 303, response.text
    assert saved["PageSize"] == 50
    assert saved["Fields"] == widget["Fields"]
    assert input_value(page, "g-rows") == "50"


def test_empty_rows_per_page_resets_default(browser: TestClient, world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice", Name="Invoices", PageSize=50)

    response = post_general(browser, widget, page_size="  ")

    assert response.status_code == 303, response.text
    assert world.get(f"/widget/{widget['WidgetId']}").json()["PageSize"] == 25


@pytest.mark.parametrize("typed", ["0", "501", "-5", "12.5", "fifty", "1e3"])
def test_invalid_rows_per_page_keeps_input(
    browser: TestClient, world: WidgetWorld, widget: dict[str, Any], typed: str
) -> None:
    response = post_general(
        browser,
        widget,
        name="Renamed <invoices>",
        page_size=typed,
        allowed_origins="https://crm.example.com",
        height="400",
    )
    saved = world.get(f"/widget/{widget['WidgetId']}").json()

    assert response.status_code == 400
    assert html.escape(RANGE_MESSAGE, quote=True) in response.text
    assert input_value(response.text, "g-name") == "Renamed <invoices>"
    assert input_value(response.text, "g-rows") == typed
    assert input_value(response.text, "g-h") == "400"
    assert ">https://crm.example.com</textarea>" in response.text
    assert saved["Name"] == "Invoices"
    assert saved["PageSize"] == 25
    assert saved["AllowedOrigins"] == []


def test_rows_per_page_on_summary_rejected(
    browser: TestClient, world: WidgetWorld, widget: dict[str, Any]
) -> None:
    fields = world.fields("Invoice")

    response = post_general(
        browser,
        widget,
        widget_type="summary",
        summary_field_id=fields["Total"],
        group_by_field_id=fields["BillingCountry"],
        page_size="10",
    )
    saved = world.get(f"/widget/{widget['WidgetId']}").json()

    assert response.status_code == 400
    assert html.escape(TYPE_MESSAGE, quote=True) in response.text
    assert re.search(r'<option value="summary" selected>', response.text)
    assert input_value(response.text, "g-rows") == "10"
    assert saved["Type"] == "grid"


def test_failed_save_keeps_rows_per_page(
    browser: TestClient, world: WidgetWorld, widget: dict[str, Any]
) -> None:
    response = post_general(
        browser, widget, name="Renamed", page_size="50", allowed_origins="not an origin"
    )
    saved = world.get(f"/widget/{widget['WidgetId']}").json()

    assert response.status_code == 400
    assert "Correct it and try again." in response.text
    assert input_value(response.text, "g-name") == "Renamed"
    assert input_value(response.text, "g-rows") == "50"
    assert ">not an origin</textarea>" in response.text
    assert saved["Name"] == "Invoices"
    assert saved["PageSize"] == 25
