"""Widgets in Chromium: framed by a host page, filtered, paged, sorted, searched and acted on.

A real ``listdock serve`` runs on one loopback port and a host page server on another. The
host page on ``127.0.0.1`` is an allowed origin; the same page on ``localhost`` is a different
origin that the widget's ``frame-ancestors`` does not allow.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .conftest import ListdockServer, screenshot_directory

pytestmark = pytest.mark.browser

SCREENSHOTS = screenshot_directory()


@pytest.fixture(scope="module")
def setup(listdock_server: ListdockServer, host_server: int, chinook_copy: Path) -> dict[str, Any]:
    """Connect Chinook, define an action and a grid widget, and make a reader with tokens."""
    api = listdock_server.api
    connector = api.post(
        "/connector",
        json={
            "Name": "Chinook",
            "Type": "sqlite",
            "Settings": {},
            "Companies": [{"Name": "Main", "DatabaseName": str(chinook_copy)}],
        },
    ).json()
    company_id = connector["Companies"][0]["CompanyId"]
    entities = {
        item["Name"]: item["EntityId"]
        for item in api.get(f"/connector/{connector['ConnectorId']}/entity").json()
    }
    invoice_id = entities["Invoice"]
    fields = {
        item["ApiName"]: item["EntityFieldId"]
        for item in api.get(f"/entity/{invoice_id}/field").json()
    }

    action = api.post(
        f"/entity/{invoice_id}/action",
        json={
            "Name": "Set city",
            "ActionType": "change_field",
            "Values": {"BillingCity": None},
            "ConfirmationButton": "Save city",
            "CancelButton": "Keep it",
        },
    ).json()
    widget = api.post(
        "/widget",
        json={
            "Name": "Invoices by country",
            "Type": "grid",
            "EntityId": invoice_id,
            "CompanyId": company_id,
            "Fields": [fields["InvoiceId"], fields["BillingCity"], fields["Total"]],
            "Parameters": [
                {"Name": "country", "EntityFieldId": fields["BillingCountry"], "Required": True}
            ],
            "Actions": [action["ActionId"]],
            "AllowedOrigins": [f"http://127.0.0.1:{host_server}"],
        },
    ).json()

    reader = api.post("/user", json={"Name": "Portal", "Kind": "api"}).json()["UserId"]
    api.put(f"/user/{reader}/role", json={"Roles": ["WidgetReader"]})
    api.put(
        f"/user/{reader}/connector/{connector['ConnectorId']}",
        json={
            "Roles": ["User", "TextExporter"],
            "Companies": "all",
            "Lists": "all",
            "Actions": "all",
        },
    )
    tokens = {}
    for name, read_only in (("writer", False), ("reader", True)):
        created = api.post(
            f"/widget/{widget['WidgetId']}/token",
            json={"UserId": reader, "Name": name, "ReadOnly": read_only},
        )
        assert created.status_code == 201, created.text
        tokens[name] = created.json()["Token"]["Value"]
    return {
        "company_id": company_id,
        "invoice_id": invoice_id,
        "fields": fields,
        "reader": reader,
        "widget": widget,
        "action": action,
        "tokens": tokens,
    }


def embed_url(server: ListdockServer, setup: dict[str, Any], token_name: str) -> str:
    """Return a ready embed URL made by the back-end route, carrying only an embed session."""
    response = httpx_post(
        server,
        f"/widget/{setup['widget']['WidgetId']}/embed",
        {"country": "USA"},
        setup["tokens"][token_name],
    )
    return str(response["Url"])


def httpx_post(server: ListdockServer, path: str, body: Any, token: str) -> Any:
    import httpx

    response = httpx.post(
        f"{server.base_url}/api/v2{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.is_success, response.text
    return response.json()


def host_page(host: str, port: int, source: str) -> str:
    return f"http://{host}:{port}/host?src={quote(source, safe='')}"


def widget_frame(page: Any) -> Any:
    page.wait_for_selector("iframe#widget")
    frame = page.frame_locator("iframe#widget")
    frame.locator("#ld-widget").wait_for()
    return frame


def pager_text(frame: Any) -> str:
    return str(frame.locator(".pager span").inner_text())


def test_grid_filters_pages_sorts_and_acts(
    page: Any,
    listdock_server: ListdockServer,
    host_server: int,
    setup: dict[str, Any],
    chinook_copy: Path,
) -> None:
    page.goto(host_page("127.0.0.1", host_server, embed_url(listdock_server, setup, "writer")))
    frame = widget_frame(page)

    assert frame.locator("tbody tr").count() == 25
    assert pager_text(frame) == "1–25 of 91"

    frame.get_by_role("button", name="Next").click()
    frame.locator(".pager span", has_text="26–50 of 91").wait_for()

    frame.get_by_role("button", name="Total").click()
    frame.locator("th[aria-sort=ascending]").wait_for()
    assert frame.locator("tbody tr td.number").nth(1).inner_text() == "0.99"
    frame.get_by_role("button", name="Total").click()
    frame.locator("th[aria-sort=descending]").wait_for()
    assert frame.locator("tbody tr td.number").nth(1).inner_text() == "23.86"

    frame.locator("#ld-search select").select_option("BillingCity")
    frame.locator("#ld-search input[name=q]").fill("Boston")
    frame.get_by_role("button", name="Search").click()
    frame.locator(".pager span", has_text="of 7").wait_for()

    first_row = frame.locator("tbody tr").first
    invoice = int(first_row.locator("td").nth(1).inner_text())
    first_row.locator("input.ld-select").check()
    frame.get_by_role("button", name="Set city").click()
    frame.locator("dialog[open] input[data-prompt=BillingCity]").fill("Cambridge <MA>")
    frame.get_by_role("button", name="Save city").click()
    frame.locator("#ld-status.ok").wait_for()

    assert frame.locator("#ld-status").inner_text() == "Done: the action ran on 1 record."
    connection = sqlite3.connect(chinook_copy)
    try:
        stored = connection.execute(
            "SELECT BillingCity FROM Invoice WHERE InvoiceId = ?", (invoice,)
        ).fetchone()[0]
    finally:
        connection.close()
    assert stored == "Cambridge <MA>"

    frame.locator("#ld-search input[name=q]").fill("Cambridge")
    frame.get_by_role("button", name="Search").click()
    frame.locator("tbody td", has_text="Cambridge <MA>").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "widget-host-page.png"))


def test_read_only_token_shows_no_buttons(
    page: Any, listdock_server: ListdockServer, host_server: int, setup: dict[str, Any]
) -> None:
    page.goto(host_page("127.0.0.1", host_server, embed_url(listdock_server, setup, "reader")))
    frame = widget_frame(page)

    assert frame.locator("button[data-action]").count() == 0
    status = frame.locator("#ld-widget").evaluate(
        """async (root, actionId) => {
            const response = await fetch(root.dataset.base + "/action/" + actionId, {
                method: "POST",
                headers: {"Authorization": "Bearer " + root.dataset.session,
                          "Content-Type": "application/json"},
                body: JSON.stringify({Keys: [{InvoiceId: 1}], Values: {BillingCity: "X"}}),
            });
            return [response.status, (await response.json()).code];
        }""",
        setup["action"]["ActionId"],
    )
    assert status == [403, "read_only_token"]


def test_disallowed_origin_cannot_frame_widget(
    page: Any, listdock_server: ListdockServer, host_server: int, setup: dict[str, Any]
) -> None:
    page.goto(host_page("localhost", host_server, embed_url(listdock_server, setup, "writer")))
    page.wait_for_selector("iframe#widget")
    page.wait_for_timeout(2000)

    frame = page.frame_locator("iframe#widget")
    assert frame.locator("#ld-widget").count() == 0


def test_long_lived_token_not_in_server_log(
    listdock_server: ListdockServer, setup: dict[str, Any]
) -> None:
    log = listdock_server.log_text()

    assert "Opened widget" in log
    for value in setup["tokens"].values():
        assert value not in log


@pytest.mark.parametrize("widget_type", ["grid", "single_record", "cards", "summary"])
def test_screenshot_each_widget_type(
    page: Any, listdock_server: ListdockServer, setup: dict[str, Any], widget_type: str
) -> None:
    api = listdock_server.api
    fields = setup["fields"]
    body: dict[str, Any] = {
        "Name": f"Invoices ({widget_type.replace('_', ' ')})",
        "Type": widget_type,
        "EntityId": setup["invoice_id"],
        "CompanyId": setup["company_id"],
        "Fields": [
            fields[name]
            for name in ("InvoiceId", "InvoiceDate", "BillingCity", "BillingCountry", "Total")
        ],
    }
    if widget_type == "summary":
        body["Fields"] = []
        body["SummaryField"] = fields["Total"]
        body["GroupByField"] = fields["BillingCountry"]
    widget = api.post("/widget", json=body).json()

    page.goto(
        f"{listdock_server.base_url}/embed/{widget['EmbedId']}?token={listdock_server.admin_token}"
    )
    page.locator("#ld-widget").wait_for()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"widget-{widget_type}.png"), full_page=False)
    assert page.locator(f'#ld-widget[data-type="{widget_type}"]').count() == 1
