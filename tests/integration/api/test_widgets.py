"""Widget definitions and widget tokens through the REST API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services

from ..conftest import FakeClock, Login
from ..widget_support import API, WidgetWorld, writable_chinook


@pytest.fixture
def world(
    client: TestClient, admin: Login, chinook_sqlite_path: Path, tmp_path: Path
) -> WidgetWorld:
    return WidgetWorld.create(client, admin, writable_chinook(chinook_sqlite_path, tmp_path))


def login_for(world: WidgetWorld, services: Services, name: str, roles: list[str]) -> Login:
    """Create an API user with ``roles`` and full grants, and return a token for it."""
    user_id = world.api_user(name, roles=roles)
    with services.sessions.begin() as session:
        owner = services.principals.get(session, user_id)
        value = services.tokens.create(session, owner, "main", created_by=None).value
    return Login(user_id, None, value)


# Definitions --------------------------------------------------------------------------------


def test_create_widget_returns_ids(world: WidgetWorld) -> None:
    widget = world.create_widget(
        "Invoice", fields=["InvoiceId", "Total"], parameters=[("customer", "CustomerId", True)]
    )

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", widget["EmbedId"])
    assert widget["EmbedId"] not in widget["WidgetId"]
    assert widget["Parameters"] == [
        {
            "Name": "customer",
            "EntityFieldId": world.fields("Invoice")["CustomerId"],
            "ApiName": "CustomerId",
            "Required": True,
        }
    ]


def test_widget_routes_read_back(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice", parameters=[("customer", "CustomerId", False)])

    listed = world.get("/widget").json()
    read = world.get(f"/widget/{widget['WidgetId']}").json()
    parameters = world.get(f"/widget/{widget['WidgetId']}/parameter").json()

    assert [item["WidgetId"] for item in listed] == [widget["WidgetId"]]
    assert read == widget
    assert [item["Name"] for item in parameters] == ["customer"]


def test_patch_widget_keeps_other_keys(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice", parameters=[("customer", "CustomerId", True)])

    response = world.client.patch(
        f"{API}/widget/{widget['WidgetId']}",
        json={"Name": "Invoices", "Height": 400},
        headers=world.admin.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["Name"] == "Invoices"
    assert response.json()["Height"] == 400
    assert response.json()["Parameters"] == widget["Parameters"]


def test_unknown_key_is_422(world: WidgetWorld) -> None:
    response = world.post(
        "/widget",
        {
            "Name": "W",
            "Type": "grid",
            "EntityId": world.connector.entity_id("Invoice"),
            "Colour": "red",
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_body"


@pytest.mark.parametrize(
    "origin",
    [
        "https://crm.example.com/path",
        "ftp://crm.example.com",
        "crm.example.com",
        "https://user@crm.example.com",
        "https://*.example.com",
        "https://crm.example.com?x=1",
    ],
)
def test_invalid_origin_is_400(world: WidgetWorld, origin: str) -> None:
    response = world.post(
        "/widget",
        {
            "Name": "W",
            "Type": "grid",
            "EntityId": world.connector.entity_id("Invoice"),
            "AllowedOrigins": [origin],
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_origin"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"Parameters": [{"Name": "token", "EntityFieldId": "x"}]}, "invalid_parameter_name"),
        ({"Fields": ["not-a-field"]}, "unknown_field"),
        ({"Actions": ["not-an-action"]}, "unknown_action"),
        ({"Type": "summary"}, "invalid_summary"),
        ({"Height": 0}, "invalid_size"),
    ],
)
def test_invalid_definition_is_400(world: WidgetWorld, extra: dict[str, Any], code: str) -> None:
    body = {"Name": "W", "Type": "grid", "EntityId": world.connector.entity_id("Invoice")}
    response = world.post("/widget", {**body, **extra})

    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_summary_needs_numeric_field(world: WidgetWorld) -> None:
    fields = world.fields("Invoice")
    response = world.post(
        "/widget",
        {
            "Name": "W",
            "Type": "summary",
            "EntityId": world.connector.entity_id("Invoice"),
            "SummaryField": fields["BillingCity"],
            "GroupByField": fields["BillingCountry"],
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_summary"


def test_widget_over_favorite(world: WidgetWorld) -> None:
    fields = world.fields("Invoice")
    favorite = world.post(
        "/favorite",
        {
            "Name": "German invoices",
            "EntityId": world.connector.entity_id("Invoice"),
            "Fields": [fields["InvoiceId"], fields["BillingCountry"]],
            "Restrictions": [
                {"EntityFieldId": fields["BillingCountry"], "Operator": "eq", "Value": "Germany"}
            ],
        },
    )
    assert favorite.status_code == 201, favorite.text

    response = world.post(
        "/widget",
        {
            "Name": "Germany",
            "Type": "grid",
            "FavoriteId": favorite.json()["FavoriteId"],
            "CompanyId": world.company_id,
        },
    )
    page = world.open(response.json()["EmbedId"], world.admin.token)

    assert response.status_code == 201, response.text
    assert page.status_code == 200
    assert page.text.count("<td>Germany</td>") == 25


def test_developer_needs_to_see_list(world: WidgetWorld, services: Services) -> None:
    user_id = world.api_user("Dev", roles=["Developer"], grant={"Roles": [], "Lists": []})
    with services.sessions.begin() as session:
        owner = services.principals.get(session, user_id)
        value = services.tokens.create(session, owner, "t", created_by=None).value

    response = world.post(
        "/widget",
        {"Name": "W", "Type": "grid", "EntityId": world.connector.entity_id("Invoice")},
        Login(user_id, None, value),
    )

    assert response.status_code == 404


def test_widget_reader_cannot_create_widgets(world: WidgetWorld, services: Services) -> None:
    login = login_for(world, services, "Reader", ["WidgetReader"])

    response = world.post(
        "/widget",
        {"Name": "W", "Type": "grid", "EntityId": world.connector.entity_id("Invoice")},
        login,
    )

    assert response.status_code == 403
    assert response.json()["code"] == "missing_role"


# Page size ----------------------------------------------------------------------------------


def patch_widget(world: WidgetWorld, widget_id: str, body: dict[str, Any]) -> Any:
    return world.client.patch(f"{API}/widget/{widget_id}", json=body, headers=world.admin.headers)


def summary_fields(world: WidgetWorld) -> dict[str, str]:
    fields = world.fields("Invoice")
    return {"SummaryField": fields["Total"], "GroupByField": fields["BillingCountry"]}


def test_page_size_defaults_by_type(world: WidgetWorld) -> None:
    grid = world.create_widget("Invoice", Name="Grid")
    cards = world.create_widget("Invoice", Name="Cards", Type="cards")
    single = world.create_widget("Invoice", Name="Single", Type="single_record")
    summary = world.create_widget(
        "Invoice", Name="Summary", Type="summary", **summary_fields(world)
    )

    assert grid["PageSize"] == 25
    assert cards["PageSize"] == 12
    assert single["PageSize"] is None
    assert summary["PageSize"] is None


def test_page_size_created_and_read_back(world: WidgetWorld) -> None:
    grid = world.create_widget("Invoice", Name="Grid", PageSize=50)
    cards = world.create_widget("Invoice", Name="Cards", Type="cards", PageSize=500)

    read = world.get(f"/widget/{grid['WidgetId']}").json()
    listed = {item["Name"]: item["PageSize"] for item in world.get("/widget").json()}

    assert grid["PageSize"] == 50
    assert cards["PageSize"] == 500
    assert read["PageSize"] == 50
    assert listed == {"Cards": 500, "Grid": 50}


def test_patch_page_size_sets_keeps_and_resets(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice")
    widget_id = widget["WidgetId"]

    set_to_one = patch_widget(world, widget_id, {"PageSize": 1})
    renamed = patch_widget(world, widget_id, {"Name": "Invoices"})
    to_cards = patch_widget(world, widget_id, {"Type": "cards"})
    reset = patch_widget(world, widget_id, {"PageSize": None})

    assert set_to_one.status_code == 200, set_to_one.text
    assert set_to_one.json()["PageSize"] == 1
    assert renamed.json()["PageSize"] == 1
    assert to_cards.json()["PageSize"] == 1
    assert reset.status_code == 200, reset.text
    assert reset.json()["PageSize"] == 12
    assert world.get(f"/widget/{widget_id}").json()["PageSize"] == 12


def test_summary_type_needs_page_size_cleared(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice", PageSize=50)

    rejected = patch_widget(world, widget["WidgetId"], {"Type": "summary", **summary_fields(world)})
    reset = patch_widget(
        world,
        widget["WidgetId"],
        {"Type": "summary", "PageSize": None, **summary_fields(world)},
    )

    assert rejected.status_code == 400
    assert rejected.json() == {
        "error": "PageSize applies only to grid and cards widgets",
        "code": "invalid_page_size",
    }
    assert reset.status_code == 200, reset.text
    assert reset.json()["Type"] == "summary"
    assert reset.json()["PageSize"] is None


@pytest.mark.parametrize("page_size", [0, -1, 501, 10**12])
def test_page_size_out_of_range_is_400(world: WidgetWorld, page_size: int) -> None:
    body = {"Name": "W", "Type": "grid", "EntityId": world.connector.entity_id("Invoice")}

    response = world.post("/widget", {**body, "PageSize": page_size})

    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": f"PageSize must be between 1 and 500, got {page_size}",
        "code": "invalid_page_size",
    }
    assert world.get("/widget").json() == []


@pytest.mark.parametrize("page_size", ["50", 12.5, True, [50]])
def test_page_size_not_integer_is_422(world: WidgetWorld, page_size: Any) -> None:
    body = {"Name": "W", "Type": "grid", "EntityId": world.connector.entity_id("Invoice")}

    response = world.post("/widget", {**body, "PageSize": page_size})

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_body"
    assert response.json()["error"].startswith("Invalid PageSize")
    assert world.get("/widget").json() == []


@pytest.mark.parametrize("widget_type", ["single_record", "summary"])
def test_page_size_on_unpaged_type_is_400(world: WidgetWorld, widget_type: str) -> None:
    extra = summary_fields(world) if widget_type == "summary" else {}
    body = {"Name": "W", "Type": widget_type, "EntityId": world.connector.entity_id("Invoice")}

    response = world.post("/widget", {**body, **extra, "PageSize": 10})

    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "PageSize applies only to grid and cards widgets",
        "code": "invalid_page_size",
    }
    assert world.get("/widget").json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"Name": "Renamed", "PageSize": 501}, 400, "invalid_page_size"),
        ({"Name": "Renamed", "PageSize": 0}, 400, "invalid_page_size"),
        ({"Name": "Renamed", "PageSize": "100"}, 422, "invalid_body"),
        ({"Name": "Renamed", "Type": "single_record"}, 400, "invalid_page_size"),
    ],
)
def test_failed_page_size_patch_saves_nothing(
    world: WidgetWorld, clock: FakeClock, body: dict[str, Any], status: int, code: str
) -> None:
    widget = world.create_widget("Invoice", Name="Invoices", PageSize=50)
    clock.advance(minutes=1)

    response = patch_widget(world, widget["WidgetId"], body)
    read = world.get(f"/widget/{widget['WidgetId']}").json()

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert read["Name"] == "Invoices"
    assert read["Type"] == "grid"
    assert read["PageSize"] == 50
    assert read["Modified"] == widget["Modified"]


# Widget tokens ------------------------------------------------------------------------------


def test_widget_token_listed_on_widget_and_owner(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice")
    user_id = world.api_user("Portal")
    token = world.widget_token(widget["WidgetId"], user_id, read_only=True)

    on_widget = world.get(f"/widget/{widget['WidgetId']}/token").json()
    on_owner = world.get(f"/user/{user_id}/token").json()

    assert token["WidgetId"] == widget["WidgetId"]
    assert token["ReadOnly"] is True
    assert token["Value"].startswith("ldk_")
    assert [item["TokenId"] for item in on_widget] == [token["TokenId"]]
    assert [item["TokenId"] for item in on_owner] == [token["TokenId"]]
    assert "Value" not in on_widget[0]


def test_batch_creates_tokens_for_many_users(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice")
    users = [world.api_user(f"Portal {index}") for index in range(3)]

    response = world.post(
        f"/widget/{widget['WidgetId']}/tokens",
        {"Tokens": [{"UserId": user, "Name": "embed"} for user in users]},
    )

    assert response.status_code == 201, response.text
    assert [item["UserId"] for item in response.json()["Tokens"]] == users


def test_batch_is_all_or_nothing(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice")
    user = world.api_user("Portal")

    response = world.post(
        f"/widget/{widget['WidgetId']}/tokens",
        {"Tokens": [{"UserId": user, "Name": "embed"}, {"UserId": user, "Name": "embed"}]},
    )

    assert response.status_code == 409
    assert world.get(f"/widget/{widget['WidgetId']}/token").json() == []


def test_developer_creates_widget_token_for_itself(world: WidgetWorld, services: Services) -> None:
    widget = world.create_widget("Invoice")
    developer = login_for(world, services, "Dev", ["Developer", "WidgetReader"])

    own = world.post(
        f"/widget/{widget['WidgetId']}/token",
        {"UserId": developer.principal_id, "Name": "mine"},
        developer,
    )
    other = world.post(
        f"/widget/{widget['WidgetId']}/token",
        {"UserId": world.admin.principal_id, "Name": "theirs"},
        developer,
    )

    assert own.status_code == 201, own.text
    assert other.status_code == 403


def test_security_manager_creates_widget_token_for_others(
    world: WidgetWorld, services: Services
) -> None:
    widget = world.create_widget("Invoice")
    manager = login_for(world, services, "Security", ["SecurityManager"])
    user_id = world.api_user("Portal")

    for_user = world.post(
        f"/widget/{widget['WidgetId']}/token", {"UserId": user_id, "Name": "embed"}, manager
    )
    for_admin = world.post(
        f"/widget/{widget['WidgetId']}/token",
        {"UserId": world.admin.principal_id, "Name": "embed"},
        manager,
    )

    assert for_user.status_code == 201, for_user.text
    assert for_admin.status_code == 403
    assert for_admin.json()["code"] == "cannot_manage"


def test_widget_token_cannot_create_tokens(world: WidgetWorld) -> None:
    widget = world.create_widget("Invoice")
    user_id = world.api_user("Portal")
    token = world.widget_token(widget["WidgetId"], user_id)

    response = world.client.post(
        f"{API}/widget/{widget['WidgetId']}/token",
        json={"UserId": user_id, "Name": "again"},
        headers={"Authorization": f"Bearer {token['Value']}"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"
