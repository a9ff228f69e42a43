"""The web app in Chromium, used the way an administrator uses it, and its tokens over HTTP.

A real ``listdock serve`` runs on a free loopback port with a store created by ``listdock init``
and Chinook added by ``listdock connector add``. Every object is created through the pages:
an API user with its first token, a user token, a widget with an action and two widget tokens,
roles and a connector grant, and a named endpoint. Each token is then used with plain HTTP
requests. With ``LISTDOCK_UPDATE_SCREENSHOTS=1`` the screenshots in ``docs/screenshots`` are
rewritten.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError

from .conftest import (
    HtmlPage,
    listdock_environment,
    screenshot_directory,
    serve_listdock,
    serve_pages,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = screenshot_directory()
ADMIN_EMAIL = "ada@example.com"
ADMIN_PASSWORD = "correct horse battery"
TOKEN_PATTERN = re.compile(r"^ldk_[0-9A-Za-z]{36}$")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Hub:
    """A running listdock server created through the CLI, and the files it uses."""

    base_url: str
    log_path: Path
    environment: dict[str, str]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class CreatedObjects:
    """What the setup created through the pages: ids, names and token values."""

    admin_id: str = ""
    api_user_id: str = ""
    api_user_name: str = "Portal"
    api_token: str = ""
    user_token: str = ""
    widget_id: str = ""
    embed_id: str = ""
    read_only_token: str = ""
    writer_token: str = ""
    endpoint_name: str = "InvoicesByCountry"
    endpoint_id: str = ""
    tokens_page_url: str = ""

    def token_values(self) -> list[str]:
        return [self.api_token, self.user_token, self.read_only_token, self.writer_token]


def run_cli(executable: Path, arguments: list[str], environment: dict[str, str]) -> None:
    completed = subprocess.run(
        [str(executable), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"listdock {arguments[0]} failed:\n{completed.stdout}\n{completed.stderr}")


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: Path, chinook_copy: Path
) -> Iterator[Hub]:
    """Create a store with ``listdock init``, add Chinook, and run ``listdock serve``."""
    folder = tmp_path_factory.mktemp("web-app")
    environment = listdock_environment(folder, "INFO")
    executable = Path(sys.executable).parent / "listdock"
    run_cli(
        executable,
        [
            "init",
            "--admin-email",
            ADMIN_EMAIL,
            "--admin-password",
            ADMIN_PASSWORD,
            "--admin-name",
            "Ada Admin",
        ],
        environment,
    )
    run_cli(
        executable,
        ["connector", "add", "sqlite", str(chinook_copy), "--name", "Chinook"],
        environment,
    )

    log_path = folder / "server.log"
    with serve_listdock(environment, log_path, "/login") as base_url:
        yield Hub(base_url, log_path, environment)


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


@pytest.fixture(scope="module")
def admin_state(browser: Any, hub: Hub) -> dict[str, Any]:
    """Log in through the login page and return the browser storage state of that session."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, hub.base_url)
        state: dict[str, Any] = context.storage_state()
    finally:
        context.close()
    return state


@pytest.fixture
def admin_page(browser: Any, admin_state: dict[str, Any]) -> Iterator[Any]:
    """A page in a fresh browser context signed in as the administrator, 1280 px wide."""
    context = browser.new_context(viewport=DESKTOP, storage_state=admin_state)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


def open_dialog(page: Any, name: str) -> Any:
    """Open the ``<details>`` dialog whose summary reads ``name`` and return its body."""
    page.locator("details.dialog > summary", has_text=name).first.click()
    dialog = page.get_by_role("dialog", name=name)
    dialog.wait_for()
    return dialog


def shown_token(page: Any) -> str:
    """Return the value on the token-shown-once page."""
    page.get_by_text("Copy this token now.").wait_for()
    return str(page.locator("#token-value").inner_text()).strip()


def add_user_token(page: Any, base_url: str, user_id: str, name: str) -> str:
    """Add a token on a user's Tokens tab and return the value the page shows once."""
    page.goto(f"{base_url}/security/users/{user_id}?tab=tokens")
    summary = page.locator("#add-token-dialog > summary")
    summary.click()
    dialog = page.get_by_role("dialog", name="Add token")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_role("button", name="Add token").click()
    return shown_token(page)


def create_api_user(page: Any, base_url: str, created: CreatedObjects) -> None:
    page.goto(f"{base_url}/security/api-users")
    dialog = open_dialog(page, "Add API user")
    dialog.get_by_label("Name", exact=True).fill(created.api_user_name)
    assert dialog.get_by_label("Token name").is_hidden()
    dialog.get_by_label("Add an API token").check()
    dialog.get_by_label("Token name").fill("portal-backend")
    dialog.get_by_role("button", name="Add API user").click()

    created.api_token = shown_token(page)
    done = page.get_by_role("link", name="Done").get_attribute("href")
    created.api_user_id = done.split("/security/users/")[1].split("?")[0]


def create_widget(page: Any, base_url: str, created: CreatedObjects) -> None:
    page.goto(f"{base_url}/developer/widgets")
    dialog = open_dialog(page, "Add widget")
    dialog.get_by_label("Name", exact=True).fill("Invoices")
    dialog.get_by_label("Type").select_option(label="Grid")
    dialog.get_by_label("List and company").select_option(label="Invoice — chinook")
    dialog.get_by_role("button", name="Add widget").click()
    page.get_by_role("status").filter(has_text="Widget saved.").wait_for()
    created.widget_id = page.url.split("/developer/widgets/")[1].split("?")[0]

    page.get_by_role("link", name="Actions").click()
    dialog = open_dialog(page, "New action")
    dialog.get_by_label("Name", exact=True).fill("Set city")
    dialog.get_by_label("Values").fill('{"BillingCity": null}')
    dialog.get_by_label("Confirmation button").fill("Save city")
    dialog.get_by_role("button", name="Add action").click()
    page.get_by_role("status").filter(has_text="Widget saved.").wait_for()

    page.get_by_role("link", name="Embed code").click()
    embed_code = page.locator("code.value").first.inner_text()
    created.embed_id = embed_code.split("/embed/")[1].split("?")[0]


def secure_api_user(page: Any, base_url: str, created: CreatedObjects) -> None:
    """Give the API user ApiReader, WidgetReader and a User grant on every company and list."""
    page.goto(f"{base_url}/security/users/{created.api_user_id}?tab=roles")
    page.locator("input[name=roles][value=ApiReader]").check()
    page.locator("input[name=roles][value=WidgetReader]").check()
    page.get_by_role("button", name="Save roles").click()
    page.get_by_role("status").filter(has_text="Roles saved.").wait_for()

    page.goto(f"{base_url}/security/users/{created.api_user_id}?tab=connectors")
    grant = page.locator("section.card", has_text="Chinook")
    grant.locator("input[name=connector_roles][value=User]").check()
    grant.get_by_label("All companies").check()
    grant.get_by_label("All lists").check()
    grant.get_by_label("All actions").check()
    grant.get_by_role("button", name="Save grant").click()
    page.get_by_role("status").filter(has_text="Connector grant saved.").wait_for()


def add_widget_token(
    page: Any, base_url: str, created: CreatedObjects, name: str, read_only: bool
) -> str:
    page.goto(f"{base_url}/developer/widgets/{created.widget_id}?tab=security")
    dialog = open_dialog(page, "Add token")
    dialog.get_by_label("User").select_option(label=f"{created.api_user_name} (API user)")
    dialog.get_by_label("Name", exact=True).fill(name)
    if read_only:
        dialog.get_by_label("Read only").check()
    dialog.get_by_role("button", name="Add token").click()
    return shown_token(page)


def create_endpoint(page: Any, base_url: str, created: CreatedObjects) -> None:
    page.goto(f"{base_url}/developer/endpoints")
    dialog = open_dialog(page, "Add endpoint")
    dialog.get_by_label("Endpoint name").fill(created.endpoint_name)
    dialog.get_by_label("List and company").select_option(label="Invoice — chinook")
    dialog.get_by_role("button", name="Add endpoint").click()
    page.get_by_role("status").filter(has_text="Endpoint saved.").wait_for()
    created.endpoint_id = page.url.split("/developer/endpoints/")[1].split("?")[0]

    page.get_by_label("Name", exact=True).fill("country")
    page.get_by_label("Field").select_option(label="BillingCountry")
    page.get_by_label("Operator").select_option("eq")
    page.get_by_role("button", name="Add parameter").click()
    page.get_by_role("status").filter(has_text="Endpoint saved.").wait_for()


@pytest.fixture(scope="module")
def created(browser: Any, hub: Hub, admin_state: dict[str, Any]) -> CreatedObjects:
    """Create the API user, tokens, widget, grants and endpoint through the pages."""
    context = browser.new_context(viewport=DESKTOP, storage_state=admin_state)
    result = CreatedObjects()
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{hub.base_url}/")
        profile_link = page.locator("header .who a").get_attribute("href")
        result.admin_id = profile_link.rsplit("/", 1)[1]

        create_api_user(page, hub.base_url, result)
        result.user_token = add_user_token(page, hub.base_url, result.admin_id, "local testing")
        result.tokens_page_url = f"{hub.base_url}/security/users/{result.admin_id}?tab=tokens"
        create_widget(page, hub.base_url, result)
        secure_api_user(page, hub.base_url, result)
        result.read_only_token = add_widget_token(page, hub.base_url, result, "viewer", True)
        result.writer_token = add_widget_token(page, hub.base_url, result, "editor", False)
        create_endpoint(page, hub.base_url, result)
    finally:
        context.close()
    return result


def entity_ids(hub: Hub, token: str) -> dict[str, dict[str, Any]]:
    with hub.client(token) as client:
        response = client.get("/api/v2/entity")
    assert response.status_code == 200, response.text
    return {item["Name"]: item for item in response.json()}


def invoice_data(hub: Hub, token: str) -> httpx.Response:
    """Fetch five invoices with ``token`` through the REST API's data route."""
    invoice = entity_ids(hub, token)["Invoice"]
    with hub.client(token) as client:
        companies = client.get(f"/api/v2/connector/{invoice['ConnectorId']}/company").json()
        return client.get(
            f"/api/v2/entity/{invoice['EntityId']}/data",
            params={"company": companies[0]["CompanyId"], "MaxRecords": 5},
        )


def test_tokens_have_documented_format(created: CreatedObjects) -> None:
    for value in created.token_values():
        assert TOKEN_PATTERN.match(value), value[:8]
    assert len(set(created.token_values())) == 4


def test_api_user_token_lists_entities(hub: Hub, created: CreatedObjects) -> None:
    names = entity_ids(hub, created.api_token)

    assert "Invoice" in names
    assert "Customer" in names


def test_api_user_token_reads_data(hub: Hub, created: CreatedObjects) -> None:
    response = invoice_data(hub, created.api_token)

    assert response.status_code == 200, response.text
    assert len(response.json()) == 5
    assert "InvoiceId" in response.json()[0]


def test_user_token_reads_data(hub: Hub, created: CreatedObjects) -> None:
    response = invoice_data(hub, created.user_token)

    assert response.status_code == 200, response.text
    assert len(response.json()) == 5


def test_named_endpoint_filters_by_parameter(hub: Hub, created: CreatedObjects) -> None:
    with hub.client(created.api_token) as client:
        response = client.get(
            f"/api/v2/favorite/{created.endpoint_name}", params={"country": "USA"}
        )

    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(rows) == 91
    assert {row["BillingCountry"] for row in rows} == {"USA"}


def test_named_endpoint_accepts_query_token(hub: Hub, created: CreatedObjects) -> None:
    with hub.client() as client:
        response = client.get(
            f"/api/v2/favorite/{created.endpoint_name}",
            params={"country": "Norway", "token": created.user_token},
        )

    assert response.status_code == 200, response.text
    assert {row["BillingCountry"] for row in response.json()} == {"Norway"}


def test_widget_token_refused_on_rest_api(hub: Hub, created: CreatedObjects) -> None:
    with hub.client(created.read_only_token) as client:
        response = client.get("/api/v2/entity")

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


def test_read_only_widget_shows_no_actions(hub: Hub, created: CreatedObjects) -> None:
    with hub.client() as client:
        response = client.get(
            f"/embed/{created.embed_id}", params={"token": created.read_only_token}
        )

    assert response.status_code == 200, response.text
    assert 'id="ld-widget"' in response.text
    assert "data-action=" not in response.text


def test_writer_widget_shows_action_button(hub: Hub, created: CreatedObjects) -> None:
    with hub.client() as client:
        response = client.get(f"/embed/{created.embed_id}", params={"token": created.writer_token})

    assert response.status_code == 200, response.text
    assert "data-action=" in response.text
    assert "Set city" in response.text


def test_revoked_token_is_refused(hub: Hub, created: CreatedObjects, admin_page: Any) -> None:
    value = add_user_token(admin_page, hub.base_url, created.admin_id, "revoke me")
    assert invoice_data(hub, value).status_code == 200

    admin_page.goto(created.tokens_page_url)
    row = admin_page.locator("tbody tr", has_text="revoke me")
    row.locator("summary", has_text="Revoke").click()
    dialog = admin_page.get_by_role("dialog", name="Revoke revoke me")
    dialog.get_by_role("button", name="Revoke token").click()
    admin_page.get_by_role("status").filter(has_text="Token revoked.").wait_for()
    assert row.locator(".badge").inner_text() == "Revoked"

    with hub.client(value) as client:
        response = client.get("/api/v2/entity")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_api_user_cannot_log_in(hub: Hub, created: CreatedObjects, page: Any) -> None:
    page.goto(f"{hub.base_url}/login")
    page.get_by_label("Email").fill("portal@example.com")
    page.get_by_label("Password").fill(created.api_token)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Log in").click()

    assert posted.value.status == 401
    assert page.get_by_role("alert").inner_text().startswith("The email or password")
    assert urlsplit(page.url).path == "/login"


def test_api_users_page_shows_no_email(hub: Hub, created: CreatedObjects, admin_page: Any) -> None:
    admin_page.goto(f"{hub.base_url}/security/api-users")
    headers = admin_page.locator("thead th").all_inner_texts()
    row = admin_page.locator("tbody tr", has_text=created.api_user_name)

    assert "Email" not in headers
    assert "@" not in row.inner_text()

    admin_page.goto(f"{hub.base_url}/security/users/{created.api_user_id}")
    assert admin_page.get_by_text("Email", exact=True).count() == 0


class ForgedFormPage(HtmlPage):
    """Serves ``/forge?action=URL``: a page that posts a form to ``URL`` when it loads."""

    def page(self, query: dict[str, list[str]]) -> str:
        action = escape(query.get("action", [""])[0], quote=True)
        return (
            "<!DOCTYPE html><html><head><title>Another site</title></head><body>"
            f'<form id="forged" method="post" action="{action}">'
            '<input name="name" value="Forged from page"></form>'
            '<script>document.getElementById("forged").submit();</script>'
            "</body></html>"
        )


@pytest.fixture(scope="module")
def forged_page_port() -> Iterator[int]:
    """Start the forged-form page server on another 127.0.0.1 port and return the port."""
    with serve_pages(ForgedFormPage) as port:
        yield port


def api_user_names(hub: Hub, admin_page: Any) -> list[str]:
    admin_page.goto(f"{hub.base_url}/security/api-users")
    return [
        name.strip() for name in admin_page.locator("tbody tr td:first-child").all_inner_texts()
    ]


@pytest.mark.parametrize("csrf_token", [None, "not-the-session-token"])
def test_form_post_without_csrf_rejected(
    hub: Hub,
    created: CreatedObjects,
    admin_state: dict[str, Any],
    admin_page: Any,
    csrf_token: str | None,
) -> None:
    cookies = {cookie["name"]: cookie["value"] for cookie in admin_state["cookies"]}
    form = {"name": "Forged with httpx"}
    if csrf_token is not None:
        form["csrf_token"] = csrf_token
    with httpx.Client(base_url=hub.base_url, cookies=cookies, timeout=30) as client:
        assert client.get("/security/api-users").status_code == 200
        response = client.post("/security/api-users", data=form)

    assert response.status_code == 403
    assert "security token is missing or expired" in response.text
    assert "Forged with httpx" not in api_user_names(hub, admin_page)


def test_cross_origin_form_post_rejected(
    hub: Hub, created: CreatedObjects, admin_page: Any, forged_page_port: int
) -> None:
    target = f"{hub.base_url}/security/api-users"
    forge = f"http://127.0.0.1:{forged_page_port}/forge?action={target}"
    with admin_page.expect_response(lambda response: response.request.method == "POST") as posted:
        admin_page.goto(forge)

    assert posted.value.status == 403
    assert "Forged from page" not in api_user_names(hub, admin_page)


def test_tokens_page_never_shows_values(hub: Hub, created: CreatedObjects, admin_page: Any) -> None:
    pages = [
        created.tokens_page_url,
        f"{hub.base_url}/security/users/{created.api_user_id}?tab=tokens",
        f"{hub.base_url}/developer/widgets/{created.widget_id}?tab=security",
    ]
    for url in pages:
        admin_page.goto(url)
        content = admin_page.content()
        for value in created.token_values():
            assert value not in content, url


def settled_content(page: Any) -> str:
    """Return the page's HTML once a navigation in progress has finished (at most 5 tries)."""
    for _ in range(4):
        page.wait_for_load_state()
        try:
            return str(page.content())
        except PlaywrightError:
            page.wait_for_timeout(500)
    return str(page.content())


def test_token_value_not_shown_again(hub: Hub, created: CreatedObjects, admin_page: Any) -> None:
    value = add_user_token(admin_page, hub.base_url, created.admin_id, "shown once")
    assert value in admin_page.content()

    admin_page.get_by_role("link", name="Done").click()
    admin_page.locator("tr", has_text="shown once").wait_for()
    assert value not in admin_page.content()

    # Chromium does not re-post a form when going back to a no-store page: it shows its
    # "Confirm form resubmission" error page (net::ERR_CACHE_MISS) instead.
    try:
        admin_page.go_back()
    except PlaywrightError as error:
        assert "ERR_CACHE_MISS" in str(error)
    assert value not in settled_content(admin_page)


def test_reloading_token_page_hides_value(
    hub: Hub, created: CreatedObjects, admin_page: Any
) -> None:
    value = add_user_token(admin_page, hub.base_url, created.admin_id, "reloaded")

    # Reloading re-posts the "Add token" form. The name is taken, so no second token is created.
    admin_page.reload()
    assert value not in settled_content(admin_page)
    assert admin_page.get_by_role("heading", name="The token was not created").is_visible()

    admin_page.goto(created.tokens_page_url)
    assert admin_page.locator("tbody tr", has_text="reloaded").count() == 1


UNLABELLED_CONTROLS = """() => Array.from(
    document.querySelectorAll("input:not([type=hidden]), select, textarea")
).filter(
    (control) => control.labels.length === 0 && !control.getAttribute("aria-label")
        && !control.getAttribute("aria-labelledby")
).map((control) => control.outerHTML.slice(0, 120))"""


def test_every_input_has_label(hub: Hub, created: CreatedObjects, admin_page: Any) -> None:
    invoice = entity_ids(hub, created.user_token)["Invoice"]
    connector = invoice["ConnectorId"]
    paths = [
        "/",
        f"/lists/{invoice['EntityId']}",
        "/security/users",
        "/security/api-users",
        "/security/teams",
        "/security/roles",
        *(
            f"/security/users/{created.api_user_id}?tab={tab}"
            for tab in ("profile", "teams", "roles", "connectors", "tokens")
        ),
        "/developer/widgets",
        *(
            f"/developer/widgets/{created.widget_id}?tab={tab}"
            for tab in ("general", "parameters", "actions", "security", "embed")
        ),
        "/developer/endpoints",
        f"/developer/endpoints/{created.endpoint_id}",
        "/connectors",
        f"/connectors/{connector}",
        f"/connectors/{connector}/lists/{invoice['EntityId']}",
        "/audit",
        "/account",
    ]
    unlabelled = {}
    for path in paths:
        response = admin_page.goto(hub.base_url + path)
        assert response.status == 200, path
        controls = admin_page.evaluate(UNLABELLED_CONTROLS)
        if controls:
            unlabelled[path] = controls

    assert unlabelled == {}


def test_api_user_dialog_works_by_keyboard(hub: Hub, admin_page: Any) -> None:
    admin_page.goto(f"{hub.base_url}/security/api-users")
    admin_page.locator("details.dialog > summary", has_text="Add API user").focus()
    admin_page.keyboard.press("Enter")
    admin_page.keyboard.press("Tab")
    assert admin_page.evaluate("document.activeElement.id") == "api-name"

    admin_page.keyboard.type("Keyboard portal")
    admin_page.keyboard.press("Tab")
    admin_page.keyboard.press("Space")
    admin_page.keyboard.press("Tab")
    assert admin_page.evaluate("document.activeElement.id") == "token-name"

    admin_page.keyboard.type("keyboard-backend")
    admin_page.keyboard.press("Enter")
    assert TOKEN_PATTERN.match(shown_token(admin_page))
    assert admin_page.get_by_role("heading", name="Keyboard portal").count() == 1


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_screenshot_main_pages(hub: Hub, created: CreatedObjects, admin_page: Any) -> None:
    """Write the screenshots of the main pages at 1280 px into ``docs/screenshots``."""
    base = hub.base_url
    invoice = entity_ids(hub, created.user_token)["Invoice"]["EntityId"]
    shots = [
        ("web-home", "/"),
        ("web-list-grid", f"/lists/{invoice}?orderby=Total&desc=1"),
        ("web-security-users", "/security/users"),
        ("web-user-tokens", f"/security/users/{created.admin_id}?tab=tokens"),
        ("web-widget-security", f"/developer/widgets/{created.widget_id}?tab=security"),
        ("web-endpoints", "/developer/endpoints"),
        ("web-endpoint", f"/developer/endpoints/{created.endpoint_id}"),
        ("web-connectors", "/connectors"),
        ("web-audit", "/audit"),
    ]
    for name, path in shots:
        response = admin_page.goto(base + path)
        assert response.status == 200, path
        screenshot(admin_page, name)

    admin_page.goto(f"{base}/security/api-users")
    dialog = open_dialog(admin_page, "Add API user")
    dialog.get_by_label("Name", exact=True).fill("Billing portal")
    dialog.get_by_label("Add an API token").check()
    dialog.get_by_label("Token name").fill("billing-backend")
    screenshot(admin_page, "web-api-user-dialog")

    # A throwaway token of this temporary server, whose store is deleted after the tests.
    add_user_token(admin_page, base, created.admin_id, "screenshot")
    screenshot(admin_page, "web-token-shown-once")


def test_screenshot_phone_width(
    hub: Hub, created: CreatedObjects, browser: Any, admin_state: Any
) -> None:
    """Write two screenshots at 390 px, the width of a common phone."""
    context = browser.new_context(viewport=PHONE, storage_state=admin_state)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        invoice = entity_ids(hub, created.user_token)["Invoice"]["EntityId"]
        page.goto(f"{hub.base_url}/lists/{invoice}")
        screenshot(page, "web-phone-list-grid")
        page.goto(f"{hub.base_url}/security/users/{created.admin_id}?tab=tokens")
        screenshot(page, "web-phone-user-tokens")
    finally:
        context.close()
