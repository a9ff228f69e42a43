"""The widget embed runtime: pages, parameters, embed sessions, scopes and headers."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from itsdangerous.encoding import base64_decode, base64_encode

from listdock.app import Services

from .conftest import FakeClock, Login
from .widget_support import API, WidgetWorld, session_value, writable_chinook


@pytest.fixture
def world(
    client: TestClient, admin: Login, chinook_sqlite_path: Path, tmp_path: Path
) -> WidgetWorld:
    return WidgetWorld.create(client, admin, writable_chinook(chinook_sqlite_path, tmp_path))


@pytest.fixture
def widget(world: WidgetWorld) -> dict[str, Any]:
    """A grid of invoices filtered by the required parameter ``customer``."""
    return world.create_widget(
        "Invoice",
        fields=["InvoiceId", "BillingCity", "Total"],
        parameters=[("customer", "CustomerId", True)],
    )


@pytest.fixture
def reader(world: WidgetWorld) -> str:
    return world.api_user("Portal")


@pytest.fixture
def token(world: WidgetWorld, widget: dict[str, Any], reader: str) -> dict[str, Any]:
    return world.widget_token(widget["WidgetId"], reader)


def invoice_ids(html: str) -> list[int]:
    """Return the invoice ids in a rendered grid (the first cell of each data row)."""
    ids = []
    for row in html.split("<tr")[2:]:
        cells = row.split("<td")
        first = cells[1].split(">", 1)[1].split("<", 1)[0] if len(cells) > 1 else ""
        if first.isdigit():
            ids.append(int(first))
    return ids


# Pages --------------------------------------------------------------------------------------


def test_page_filters_by_parameter(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.open(widget["EmbedId"], token["Value"], customer=2)

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert invoice_ids(response.text) == [1, 12, 67, 196, 219, 241, 293]


def test_page_has_security_headers(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.open(widget["EmbedId"], token["Value"], customer=2)

    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "form-action 'self'" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_allowed_origins_become_frame_ancestors(world: WidgetWorld, reader: str) -> None:
    widget = world.create_widget(
        "Invoice", AllowedOrigins=["https://crm.example.com", "http://127.0.0.1:8123/"]
    )
    token = world.widget_token(widget["WidgetId"], reader)

    response = world.open(widget["EmbedId"], token["Value"])

    assert widget["AllowedOrigins"] == ["https://crm.example.com", "http://127.0.0.1:8123"]
    assert response.headers["Content-Security-Policy"].endswith(
        "frame-ancestors https://crm.example.com http://127.0.0.1:8123"
    )


def test_page_never_contains_long_lived_token(
    world: WidgetWorld,
    widget: dict[str, Any],
    token: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    response = world.open(widget["EmbedId"], token["Value"], customer=2)
    session = session_value(response.text)
    view = world.client.get(
        f"/embed/{widget['EmbedId']}/view",
        params={"skip": 0},
        headers={"Authorization": f"Bearer {session}"},
    )

    assert token["Value"] not in response.text
    assert token["Value"] not in view.text
    # The test client's own httpx logger prints the URL it requests; only the server counts.
    server_lines = [
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    ]
    assert any("Opened widget" in line for line in server_lines)
    assert not [line for line in server_lines if token["Value"] in line]


def test_data_is_html_escaped(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    hostile = '<script>alert("x")</script> O\'Brien & Sons'
    connection = sqlite3.connect(world.path)
    with connection:
        connection.execute("UPDATE Invoice SET BillingCity = ? WHERE InvoiceId = 1", (hostile,))
    connection.close()

    response = world.open(widget["EmbedId"], token["Value"], customer=2)

    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &amp; Sons" in response.text


def test_each_widget_type_renders(world: WidgetWorld, reader: str) -> None:
    fields = world.fields("Invoice")
    for widget_type, extra in (
        ("single_record", {}),
        ("cards", {}),
        ("summary", {"SummaryField": fields["Total"], "GroupByField": fields["BillingCountry"]}),
    ):
        widget = world.create_widget(
            "Invoice", Name=f"Invoices {widget_type}", Type=widget_type, **extra
        )
        token = world.widget_token(widget["WidgetId"], reader, name=widget_type)

        response = world.open(widget["EmbedId"], token["Value"])

        assert response.status_code == 200, (widget_type, response.text)
        assert f'data-type="{widget_type}"' in response.text


def test_summary_counts_and_totals(world: WidgetWorld, reader: str) -> None:
    fields = world.fields("Invoice")
    widget = world.create_widget(
        "Invoice",
        Type="summary",
        SummaryField=fields["Total"],
        GroupByField=fields["BillingCountry"],
    )
    token = world.widget_token(widget["WidgetId"], reader)

    html = world.open(widget["EmbedId"], token["Value"]).text

    assert '<td>Argentina</td><td class="number">7</td><td class="number">37.62</td>' in html
    assert '<th class="number">412</th>' in html


# Parameters ---------------------------------------------------------------------------------


def test_missing_required_parameter_is_400_page(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.open(widget["EmbedId"], token["Value"])

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert "This widget needs the parameter customer." in response.text
    assert "Add customer=… to the widget address" in response.text


def test_unknown_parameter_is_400_page(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.open(widget["EmbedId"], token["Value"], customer=2, colour="red")

    assert response.status_code == 400
    assert "Unknown parameter colour; accepted: customer." in response.text
    assert "Remove that parameter" in response.text


def test_reserved_parameters_are_accepted(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.open(
        widget["EmbedId"], token["Value"], customer=2, theme="dark", locale="fr-CA"
    )

    assert response.status_code == 200
    assert '<html lang="fr-CA">' in response.text
    assert 'class="theme-dark"' in response.text


def test_bad_parameter_value_is_400(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.open(widget["EmbedId"], token["Value"], customer="two")

    assert response.status_code == 400
    assert "Invalid value for parameter customer: expected an integer" in response.text


def test_parameters_route_lists_parameters(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.client.get(
        f"/embed/{widget['EmbedId']}/parameters", params={"token": token["Value"]}
    )

    assert response.status_code == 200
    assert response.json() == [
        {
            "Name": "customer",
            "EntityFieldId": world.fields("Invoice")["CustomerId"],
            "ApiName": "CustomerId",
            "DisplayName": "CustomerId",
            "Type": "integer",
            "Required": True,
        }
    ]


def test_parameters_route_needs_token(world: WidgetWorld, widget: dict[str, Any]) -> None:
    response = world.client.get(f"/embed/{widget['EmbedId']}/parameters")

    assert response.status_code == 401
    assert response.json()["code"] == "token_required"


# Token scope --------------------------------------------------------------------------------


def test_widget_token_refused_on_other_widget(world: WidgetWorld, token: dict[str, Any]) -> None:
    other = world.create_widget("Customer", Name="Customers")

    response = world.open(other["EmbedId"], token["Value"])

    assert response.status_code == 403
    assert "made for another widget" in response.text


def test_widget_token_refused_on_rest_api(world: WidgetWorld, token: dict[str, Any]) -> None:
    response = world.client.get(
        f"{API}/entity", headers={"Authorization": f"Bearer {token['Value']}"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


def test_widget_token_refused_on_named_endpoint(world: WidgetWorld, token: dict[str, Any]) -> None:
    created = world.post(
        "/endpoint",
        {
            "Endpoint": "invoices",
            "EntityId": world.connector.entity_id("Invoice"),
            "CompanyId": world.company_id,
        },
    )
    assert created.status_code == 201, created.text

    response = world.client.get(f"{API}/favorite/invoices", params={"token": token["Value"]})

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


def test_user_token_opens_any_widget(world: WidgetWorld, widget: dict[str, Any]) -> None:
    response = world.open(widget["EmbedId"], world.admin.token, customer=2)

    assert response.status_code == 200


def test_invalid_token_is_401_page(world: WidgetWorld, widget: dict[str, Any]) -> None:
    response = world.open(widget["EmbedId"], "ldk_" + "A" * 36, customer=2)

    assert response.status_code == 401
    assert "not valid" in response.text


def test_owner_without_widget_reader_is_403(world: WidgetWorld, widget: dict[str, Any]) -> None:
    user_id = world.api_user("No role", roles=[])
    token = world.widget_token(widget["WidgetId"], user_id)

    response = world.open(widget["EmbedId"], token["Value"], customer=2)

    assert response.status_code == 403
    assert "WidgetReader" in response.text


def test_use_is_recorded_on_widget_surface(
    world: WidgetWorld, services: Services, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    world.open(widget["EmbedId"], token["Value"], customer=2)
    services.usage.flush()

    response = world.get(f"/token/{token['TokenId']}")

    assert response.json()["LastUsedSurface"] == "widget"


# Embed sessions -----------------------------------------------------------------------------


def view(world: WidgetWorld, embed_id: str, session: str, **params: Any) -> Any:
    return world.client.get(
        f"/embed/{embed_id}/view", params=params, headers={"Authorization": f"Bearer {session}"}
    )


def test_session_pages_and_sorts(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)

    response = view(world, widget["EmbedId"], session, sort="Total", desc="1")

    assert response.status_code == 200
    assert invoice_ids("<tr>" + response.text)[:3] == [12, 67, 241]
    assert response.headers["X-Embed-Session"].startswith("lde_")


def test_session_search(world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]) -> None:
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)

    response = view(world, widget["EmbedId"], session, field="InvoiceId", q="19")

    assert invoice_ids("<tr>" + response.text) == [196, 219]


def next_skip(html: str) -> int | None:
    """Return the skip of the pager's Next button, or None when the button is disabled."""
    match = re.search(r'data-skip="(\d+)"( disabled)?>Next</button>', html)
    assert match is not None, "the page has no Next button"
    return None if match.group(2) else int(match.group(1))


def test_grid_page_size_pages_through_list(world: WidgetWorld, reader: str) -> None:
    widget = world.create_widget("Invoice", fields=["InvoiceId", "Total"], PageSize=50)
    token = world.widget_token(widget["WidgetId"], reader)

    first = world.open(widget["EmbedId"], token["Value"])
    session = session_value(first.text)
    skip = next_skip(first.text)
    second = view(world, widget["EmbedId"], session, skip=skip)
    last = view(world, widget["EmbedId"], session, skip=400)

    assert first.status_code == 200, first.text
    assert invoice_ids(first.text) == list(range(1, 51))
    assert "<span>1–50 of 412</span>" in first.text
    assert 'data-skip="0" disabled>Previous' in first.text
    assert skip == 50
    assert second.status_code == 200, second.text
    assert invoice_ids("<tr>" + second.text) == list(range(51, 101))
    assert next_skip(second.text) == 100
    assert 'data-skip="0">Previous' in second.text
    assert invoice_ids("<tr>" + last.text) == list(range(401, 413))
    assert next_skip(last.text) is None


def test_cards_use_page_size(world: WidgetWorld, reader: str) -> None:
    default = world.create_widget("Invoice", Name="Default cards", Type="cards")
    sized = world.create_widget("Invoice", Name="Five cards", Type="cards", PageSize=5)
    default_token = world.widget_token(default["WidgetId"], reader, name="default")
    sized_token = world.widget_token(sized["WidgetId"], reader, name="sized")

    default_page = world.open(default["EmbedId"], default_token["Value"]).text
    sized_page = world.open(sized["EmbedId"], sized_token["Value"]).text

    assert default_page.count('<div class="card" data-key=') == 12
    assert next_skip(default_page) == 12
    assert sized_page.count('<div class="card" data-key=') == 5
    assert next_skip(sized_page) == 5


def test_expired_session_is_refused(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any], clock: FakeClock
) -> None:
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)

    clock.advance(minutes=15, seconds=1)
    response = view(world, widget["EmbedId"], session)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_session_for_other_widget_is_refused(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    other = world.create_widget("Customer", Name="Customers")
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)

    response = view(world, other["EmbedId"], session)

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


def test_tampered_session_is_refused(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)
    payload_text, signature = session[len("lde_") :].rsplit(".", 1)
    raw = base64_decode(payload_text.lstrip("."))
    payload = json.loads(zlib.decompress(raw) if payload_text.startswith(".") else raw)
    payload["parameters"] = {"customer": "3"}
    forged_payload = base64_encode(json.dumps(payload).encode()).decode()

    response = view(world, widget["EmbedId"], f"lde_{forged_payload}.{signature}")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_revoked_token_stops_sessions_at_once(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)
    assert view(world, widget["EmbedId"], session).status_code == 200

    revoked = world.client.delete(f"{API}/token/{token['TokenId']}", headers=world.admin.headers)
    response = view(world, widget["EmbedId"], session)

    assert revoked.status_code == 200
    assert response.status_code == 401


def test_removed_grant_stops_sessions_at_once(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any], reader: str
) -> None:
    session = session_value(world.open(widget["EmbedId"], token["Value"], customer=2).text)

    world.client.put(f"{API}/user/{reader}/role", json={"Roles": []}, headers=world.admin.headers)
    response = view(world, widget["EmbedId"], session)

    assert response.status_code == 403


def test_deleting_widget_revokes_its_tokens(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    deleted = world.client.delete(f"{API}/widget/{widget['WidgetId']}", headers=world.admin.headers)

    response = world.get(f"/token/{token['TokenId']}")

    assert deleted.status_code == 204
    assert response.json()["Status"] == "Revoked"


# Embed URLs from a back end -----------------------------------------------------------------


def test_embed_url_carries_only_session(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.client.post(
        f"{API}/widget/{widget['WidgetId']}/embed",
        json={"customer": 2},
        headers={"Authorization": f"Bearer {token['Value']}"},
    )
    assert response.status_code == 200, response.text
    url = response.json()["Url"]
    query = parse_qs(urlsplit(url).query)

    page = world.client.get(url)

    assert list(query) == ["token"]
    assert query["token"][0].startswith("lde_")
    assert token["Value"] not in url
    assert invoice_ids(page.text) == [1, 12, 67, 196, 219, 241, 293]


def test_embed_url_needs_required_parameters(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    response = world.client.post(
        f"{API}/widget/{widget['WidgetId']}/embed",
        json={},
        headers={"Authorization": f"Bearer {token['Value']}"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "missing_parameter"


def test_embed_url_refuses_other_widget_token(
    world: WidgetWorld, reader: str, token: dict[str, Any]
) -> None:
    other = world.create_widget("Customer", Name="Customers")

    response = world.client.post(
        f"{API}/widget/{other['WidgetId']}/embed",
        json={},
        headers={"Authorization": f"Bearer {token['Value']}"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


# Details and exports ------------------------------------------------------------------------


def test_detail_rows_of_a_record(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    html = world.open(widget["EmbedId"], token["Value"], customer=2).text
    relationship_id = html.split('data-detail="', 1)[1].split('"', 1)[0]

    response = world.client.post(
        f"/embed/{widget['EmbedId']}/detail/{relationship_id}",
        json={"Key": {"InvoiceId": 1}},
        headers={"Authorization": f"Bearer {session_value(html)}"},
    )

    assert response.status_code == 200, response.text
    assert response.text.count("<tr>") == 3  # the header row and the two lines of invoice 1


def test_detail_outside_parameters_is_404(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any]
) -> None:
    html = world.open(widget["EmbedId"], token["Value"], customer=2).text
    relationship_id = html.split('data-detail="', 1)[1].split('"', 1)[0]

    response = world.client.post(
        f"/embed/{widget['EmbedId']}/detail/{relationship_id}",
        json={"Key": {"InvoiceId": 3}},
        headers={"Authorization": f"Bearer {session_value(html)}"},
    )

    assert response.status_code == 404


def test_export_needs_exporter_role(
    world: WidgetWorld, widget: dict[str, Any], token: dict[str, Any], reader: str
) -> None:
    html = world.open(widget["EmbedId"], token["Value"], customer=2).text
    refused = world.client.post(
        f"/embed/{widget['EmbedId']}/export",
        data={"session": session_value(html), "format": "csv"},
    )
    world.client.put(
        f"{API}/user/{reader}/connector/{world.connector.id}",
        json={"Roles": ["User", "TextExporter"], "Companies": "all", "Lists": "all"},
        headers=world.admin.headers,
    )
    html = world.open(widget["EmbedId"], token["Value"], customer=2).text

    exported = world.client.post(
        f"/embed/{widget['EmbedId']}/export",
        data={"session": session_value(html), "format": "csv"},
    )

    assert "Export CSV" in html
    assert "Export XLSX" not in html
    assert refused.status_code == 403
    assert exported.status_code == 200
    assert exported.text.splitlines()[0] == "InvoiceId,BillingCity,Total"
    assert len(exported.text.splitlines()) == 8


def test_owner_without_list_grant_told_what_to_ask(
    world: WidgetWorld, widget: dict[str, Any]
) -> None:
    owner = world.api_user("No lists", grant={"Roles": ["User"], "Companies": "all", "Lists": []})
    token = world.widget_token(widget["WidgetId"], owner)

    response = world.open(widget["EmbedId"], token["Value"], customer=2)

    assert response.status_code == 404
    assert "Ask an administrator for a grant on the list and its company." in response.text
