"""Actions: definitions, runs through the REST API and the embed page, webhooks and audit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services
from listdock.security.webhook_targets import WebhookTargets, parse_networks

from ..conftest import Login
from ..widget_support import API, WidgetWorld, session_value, sql_value, writable_chinook


@pytest.fixture
def world(
    client: TestClient, admin: Login, chinook_sqlite_path: Path, tmp_path: Path
) -> WidgetWorld:
    return WidgetWorld.create(client, admin, writable_chinook(chinook_sqlite_path, tmp_path))


@pytest.fixture
def set_city(world: WidgetWorld) -> dict[str, Any]:
    """A record action that sets BillingCity to a prompted value, on several records."""
    return world.create_action(
        "Invoice",
        {
            "Name": "Move",
            "ActionType": "change_field",
            "Values": {"BillingCity": None, "BillingState": "ZZ"},
            "AllowMultiple": True,
        },
    )


def run(
    world: WidgetWorld, action_id: str, body: dict[str, Any], login: Login | None = None
) -> Any:
    return world.post(f"/action/{action_id}/run", {"Company": world.company_id, **body}, login)


def city(world: WidgetWorld, invoice_id: int) -> Any:
    return sql_value(world.path, "SELECT BillingCity FROM Invoice WHERE InvoiceId = ?", invoice_id)


class Recorder(BaseHTTPRequestHandler):
    """Records each POST body; sleeps first when the server's ``delay`` is set."""

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        server: Any = self.server
        time.sleep(server.delay)
        server.bodies.append(json.loads(body))
        self.send_response(server.status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def webhook_server() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.bodies = []
    server.delay = 0.0
    server.status = 200
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Definitions --------------------------------------------------------------------------------


def test_create_action_returns_id(world: WidgetWorld, set_city: dict[str, Any]) -> None:
    listed = world.get(f"/entity/{world.connector.entity_id('Invoice')}/action")

    assert set_city["ActionId"]
    assert set_city["ConfirmationButton"] == "Apply"
    assert [item["ActionId"] for item in listed.json()] == [set_city["ActionId"]]


def test_action_unknown_key_is_422(world: WidgetWorld) -> None:
    response = world.post(
        f"/entity/{world.connector.entity_id('Invoice')}/action",
        {"Name": "X", "ActionType": "delete", "Colour": "red"},
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ActionType": "change_field", "Values": {"Total": "lots"}}, "invalid_value"),
        ({"ActionType": "change_field", "Values": {"Nope": 1}}, "unknown_field"),
        ({"ActionType": "change_field", "Values": {"InvoiceId": 1}}, "invalid_values"),
        ({"ActionType": "change_field", "Values": {}}, "invalid_values"),
        ({"ActionType": "webhook", "Url": "ftp://127.0.0.1/x"}, "invalid_url"),
        ({"ActionType": "webhook"}, "invalid_url"),
        ({"ActionType": "webhook", "Url": "http://169.254.169.254/latest/"}, "invalid_url"),
        ({"ActionType": "webhook", "Url": "http://[fd00:ec2::254]/"}, "invalid_url"),
        ({"ActionType": "webhook", "Url": "http://[::ffff:169.254.169.254]/"}, "invalid_url"),
    ],
)
def test_invalid_action_is_400(world: WidgetWorld, body: dict[str, Any], code: str) -> None:
    response = world.post(
        f"/entity/{world.connector.entity_id('Invoice')}/action", {"Name": "Bad", **body}
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_patch_and_delete_action(world: WidgetWorld, set_city: dict[str, Any]) -> None:
    action_id = set_city["ActionId"]
    patched = world.client.patch(
        f"{API}/action/{action_id}", json={"Name": "Relocate"}, headers=world.admin.headers
    )
    deleted = world.client.delete(f"{API}/action/{action_id}", headers=world.admin.headers)
    after = world.get(f"/action/{action_id}")

    assert patched.json()["Name"] == "Relocate"
    assert deleted.status_code == 204
    assert after.status_code == 404


def test_reader_cannot_define_actions(world: WidgetWorld, services: Services) -> None:
    user_id = world.api_user("Reader", roles=["ApiReader"])
    with services.sessions.begin() as session:
        owner = services.principals.get(session, user_id)
        value = services.tokens.create(session, owner, "t", created_by=None).value
    login = Login(user_id, None, value)

    response = world.post(
        f"/entity/{world.connector.entity_id('Invoice')}/action",
        {"Name": "Nope", "ActionType": "delete"},
        login,
    )

    assert response.status_code == 403
    assert response.json()["code"] == "missing_role"


# Runs through the REST API ------------------------------------------------------------------


def test_change_field_on_many_records(world: WidgetWorld, set_city: dict[str, Any]) -> None:
    response = run(
        world,
        set_city["ActionId"],
        {"Keys": [{"InvoiceId": 1}, {"InvoiceId": 2}], "Values": {"BillingCity": "Lyon"}},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"Changed": 2}
    assert [city(world, 1), city(world, 2)] == ["Lyon", "Lyon"]
    assert sql_value(world.path, "SELECT BillingState FROM Invoice WHERE InvoiceId = 1") == "ZZ"


def test_missing_record_changes_nothing(world: WidgetWorld, set_city: dict[str, Any]) -> None:
    before = city(world, 1)

    response = run(
        world,
        set_city["ActionId"],
        {"Keys": [{"InvoiceId": 1}, {"InvoiceId": 99999}], "Values": {"BillingCity": "Lyon"}},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "record_not_found"
    assert city(world, 1) == before


def test_bad_value_changes_nothing(world: WidgetWorld) -> None:
    action = world.create_action(
        "Invoice",
        {"Name": "Retotal", "ActionType": "change_field", "Values": {"Total": None}},
    )
    before = sql_value(world.path, "SELECT Total FROM Invoice WHERE InvoiceId = 1")

    response = run(
        world, action["ActionId"], {"Keys": [{"InvoiceId": 1}], "Values": {"Total": "x"}}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_value"
    assert sql_value(world.path, "SELECT Total FROM Invoice WHERE InvoiceId = 1") == before


def test_single_record_action_refuses_many(world: WidgetWorld) -> None:
    action = world.create_action(
        "Invoice", {"Name": "Fix", "ActionType": "change_field", "Values": {"BillingState": "A"}}
    )

    response = run(world, action["ActionId"], {"Keys": [{"InvoiceId": 1}, {"InvoiceId": 2}]})

    assert response.status_code == 400
    assert response.json()["code"] == "multiple_not_allowed"


def test_missing_prompted_value_is_400(world: WidgetWorld, set_city: dict[str, Any]) -> None:
    response = run(world, set_city["ActionId"], {"Keys": [{"InvoiceId": 1}]})

    assert response.status_code == 400
    assert response.json()["code"] == "missing_value"


def test_delete_with_captions(world: WidgetWorld) -> None:
    action = world.create_action(
        "InvoiceLine",
        {
            "Name": "Remove line",
            "ActionType": "delete",
            "ConfirmationButton": "Yes, remove it",
            "CancelButton": "Keep it",
        },
    )

    response = run(world, action["ActionId"], {"Keys": [{"InvoiceLineId": 1}]})

    assert action["ConfirmationButton"] == "Yes, remove it"
    assert action["CancelButton"] == "Keep it"
    assert response.json() == {"Changed": 1}
    assert sql_value(world.path, "SELECT count(*) FROM InvoiceLine WHERE InvoiceLineId = 1") == 0


def test_run_without_action_grant_is_403(
    world: WidgetWorld, set_city: dict[str, Any], services: Services
) -> None:
    grant = {"Roles": ["User"], "Companies": "all", "Lists": "all", "Actions": []}
    user_id = world.api_user("No actions", roles=["ApiReader"], grant=grant)
    with services.sessions.begin() as session:
        owner = services.principals.get(session, user_id)
        value = services.tokens.create(session, owner, "t", created_by=None).value

    response = run(
        world,
        set_city["ActionId"],
        {"Keys": [{"InvoiceId": 1}], "Values": {"BillingCity": "Lyon"}},
        Login(user_id, None, value),
    )

    assert response.status_code == 403
    assert response.json()["code"] == "no_action_grant"


def test_runs_are_audited(world: WidgetWorld, set_city: dict[str, Any], services: Services) -> None:
    run(
        world, set_city["ActionId"], {"Keys": [{"InvoiceId": 1}], "Values": {"BillingCity": "Oslo"}}
    )
    run(
        world,
        set_city["ActionId"],
        {"Keys": [{"InvoiceId": 99999}], "Values": {"BillingCity": "X"}},
    )

    events = world.get("/audit").json()
    runs = [event for event in events if event["Event"] == "action_run"]

    assert [event["Outcome"] for event in runs] == ["failure", "success"]
    assert "Oslo" not in json.dumps(runs)
    assert runs[1]["Details"]["count"] == 1
    assert runs[1]["Details"]["action_id"] == set_city["ActionId"]


def test_list_action_changes_every_record(world: WidgetWorld) -> None:
    action = world.create_action(
        "Invoice",
        {"Name": "Flag all", "ActionType": "change_field", "Scope": "list",
         "Values": {"BillingState": "ZZ"}},
    )  # fmt: skip

    response = run(world, action["ActionId"], {})

    assert response.status_code == 200, response.text
    assert response.json() == {"Changed": 412}
    assert sql_value(world.path, "SELECT count(*) FROM Invoice WHERE BillingState = 'ZZ'") == 412


def test_list_action_over_limit_changes_nothing(world: WidgetWorld, services: Services) -> None:
    action = world.create_action(
        "Invoice",
        {"Name": "Flag all", "ActionType": "change_field", "Scope": "list",
         "Values": {"BillingState": "ZZ"}},
    )  # fmt: skip
    services.data._max_records_limit = 400

    response = run(world, action["ActionId"], {})

    assert response.status_code == 400
    assert response.json() == {
        "error": "A list action changes at most 400 records, and this list has more",
        "code": "too_many_records",
    }
    assert sql_value(world.path, "SELECT count(*) FROM Invoice WHERE BillingState = 'ZZ'") == 0


# Webhooks -----------------------------------------------------------------------------------


def test_webhook_posts_selected_records(world: WidgetWorld, webhook_server: Any) -> None:
    url = f"http://127.0.0.1:{webhook_server.server_port}/hook?key=secret-value"
    action = world.create_action(
        "Invoice", {"Name": "Notify", "ActionType": "webhook", "Url": url, "AllowMultiple": True}
    )

    response = run(world, action["ActionId"], {"Keys": [{"InvoiceId": 1}, {"InvoiceId": 2}]})

    assert response.json() == {"Changed": 2}
    body = webhook_server.bodies[0]
    assert body["ActionId"] == action["ActionId"]
    assert [record["InvoiceId"] for record in body["Records"]] == [1, 2]
    assert "secret-value" not in json.dumps(world.get("/audit").json())


def test_webhook_timeout_reports_failure(
    world: WidgetWorld, webhook_server: Any, services: Services
) -> None:
    services.actions._webhook_timeout = 0.5
    webhook_server.delay = 2.0
    action = world.create_action(
        "Invoice",
        {
            "Name": "Slow",
            "ActionType": "webhook",
            "Url": f"http://127.0.0.1:{webhook_server.server_port}/",
        },
    )

    response = run(world, action["ActionId"], {"Keys": [{"InvoiceId": 1}]})

    assert response.status_code == 504
    assert response.json() == {
        "error": "The webhook timed out after 0.5 seconds",
        "code": "webhook_timeout",
    }


def test_webhook_error_status_reports_failure(world: WidgetWorld, webhook_server: Any) -> None:
    webhook_server.status = 500
    action = world.create_action(
        "Invoice",
        {
            "Name": "Broken",
            "ActionType": "webhook",
            "Url": f"http://127.0.0.1:{webhook_server.server_port}/",
        },
    )

    response = run(world, action["ActionId"], {"Keys": [{"InvoiceId": 1}]})

    assert response.status_code == 502
    assert response.json()["code"] == "webhook_failed"


def test_webhook_to_blocked_network_sends_nothing(
    world: WidgetWorld, webhook_server: Any, services: Services
) -> None:
    action = world.create_action(
        "Invoice",
        {
            "Name": "Local",
            "ActionType": "webhook",
            "Url": f"http://localhost:{webhook_server.server_port}/",
        },
    )
    # A deployment that blocks loopback: the host name resolves there at run time.
    services.actions._webhook_targets = WebhookTargets(parse_networks("127.0.0.0/8,::1"))

    response = run(world, action["ActionId"], {"Keys": [{"InvoiceId": 1}]})

    assert response.status_code == 502
    assert response.json() == {
        "error": "The webhook address is in a blocked network",
        "code": "webhook_blocked",
    }
    assert webhook_server.bodies == []


# Widget tokens on action routes ---------------------------------------------------------------


@pytest.fixture
def widget_with_action(world: WidgetWorld, set_city: dict[str, Any]) -> dict[str, Any]:
    return world.create_widget(
        "Invoice",
        fields=["InvoiceId", "BillingCity"],
        parameters=[("customer", "CustomerId", True)],
        Actions=[set_city["ActionId"]],
    )


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_read_only_token_refused_on_every_action_route(
    world: WidgetWorld, widget_with_action: dict[str, Any], set_city: dict[str, Any], method: str
) -> None:
    reader = world.api_user("Viewer")
    token = world.widget_token(widget_with_action["WidgetId"], reader, read_only=True)
    headers = {"Authorization": f"Bearer {token['Value']}"}
    page = world.open(widget_with_action["EmbedId"], token["Value"], customer=2)
    session_headers = {"Authorization": f"Bearer {session_value(page.text)}"}

    paths = [
        (f"{API}/action/{set_city['ActionId']}/run", headers),
        (f"{API}/action", headers),
        (f"{API}/entity/{world.connector.entity_id('Invoice')}/action", headers),
        (f"/embed/{widget_with_action['EmbedId']}/action/{set_city['ActionId']}", session_headers),
    ]
    for path, path_headers in paths:
        response = world.client.request(method, path, headers=path_headers, json={})

        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "read_only_token"


def test_read_only_page_has_no_action_buttons(
    world: WidgetWorld, widget_with_action: dict[str, Any]
) -> None:
    reader = world.api_user("Viewer")
    read_only = world.widget_token(widget_with_action["WidgetId"], reader, "ro", read_only=True)
    writable = world.widget_token(widget_with_action["WidgetId"], reader, "rw")

    read_only_page = world.open(widget_with_action["EmbedId"], read_only["Value"], customer=2)
    writable_page = world.open(widget_with_action["EmbedId"], writable["Value"], customer=2)

    assert "data-action=" not in read_only_page.text
    assert "data-action=" in writable_page.text


def test_owner_without_action_grant_sees_no_buttons(
    world: WidgetWorld, widget_with_action: dict[str, Any], set_city: dict[str, Any]
) -> None:
    grant = {"Roles": ["User"], "Companies": "all", "Lists": "all", "Actions": []}
    reader = world.api_user("No actions", grant=grant)
    token = world.widget_token(widget_with_action["WidgetId"], reader)

    page = world.open(widget_with_action["EmbedId"], token["Value"], customer=2)
    response = world.client.post(
        f"/embed/{widget_with_action['EmbedId']}/action/{set_city['ActionId']}",
        json={"Keys": [{"InvoiceId": 1}], "Values": {"BillingCity": "Lyon"}},
        headers={"Authorization": f"Bearer {session_value(page.text)}"},
    )

    assert "data-action=" not in page.text
    assert response.status_code == 403
    assert response.json()["code"] == "no_action_grant"


def test_widget_token_refused_on_api_action_routes(
    world: WidgetWorld, widget_with_action: dict[str, Any]
) -> None:
    reader = world.api_user("Portal")
    token = world.widget_token(widget_with_action["WidgetId"], reader)

    response = world.client.get(
        f"{API}/action", headers={"Authorization": f"Bearer {token['Value']}"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope"


def test_embed_action_stays_within_parameters(
    world: WidgetWorld, widget_with_action: dict[str, Any], set_city: dict[str, Any]
) -> None:
    reader = world.api_user("Portal")
    token = world.widget_token(widget_with_action["WidgetId"], reader)
    session = session_value(
        world.open(widget_with_action["EmbedId"], token["Value"], customer=2).text
    )
    before = city(world, 3)

    # Invoice 3 belongs to customer 4, outside this widget's customer=2 filter.
    response = world.client.post(
        f"/embed/{widget_with_action['EmbedId']}/action/{set_city['ActionId']}",
        json={"Keys": [{"InvoiceId": 3}], "Values": {"BillingCity": "Lyon"}},
        headers={"Authorization": f"Bearer {session}"},
    )

    assert response.status_code == 404
    assert city(world, 3) == before


def test_embed_action_changes_record(
    world: WidgetWorld,
    widget_with_action: dict[str, Any],
    set_city: dict[str, Any],
    services: Services,
) -> None:
    reader = world.api_user("Portal")
    token = world.widget_token(widget_with_action["WidgetId"], reader)
    session = session_value(
        world.open(widget_with_action["EmbedId"], token["Value"], customer=2).text
    )

    response = world.client.post(
        f"/embed/{widget_with_action['EmbedId']}/action/{set_city['ActionId']}",
        json={"Keys": [{"InvoiceId": 1}], "Values": {"BillingCity": "Lyon"}},
        headers={"Authorization": f"Bearer {session}"},
    )
    events = [event for event in world.get("/audit").json() if event["Event"] == "action_run"]

    assert response.json() == {"Changed": 1}
    assert city(world, 1) == "Lyon"
    assert events[0]["TokenId"] == token["TokenId"]
    assert events[0]["Details"]["surface"] == "widget"
