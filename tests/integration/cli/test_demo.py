"""The demo store: every object it promises exists, its tokens work, and it can run twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services
from listdock.demo import prepare_demo
from listdock.demo_data import generate_demo_database


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "orders.db"
    generate_demo_database(path)
    return path


def test_demo_tokens_read_data(services: Services, client: TestClient, sample: Path) -> None:
    with services.sessions.begin() as session:
        credentials = prepare_demo(services, session, sample)
    headers = {"Authorization": f"Bearer {credentials.api_token}"}

    lists = client.get("/api/v2/entity", headers=headers)
    assert lists.status_code == 200
    assert {"Customers", "Orders", "OrderLines", "Products"} <= {e["Name"] for e in lists.json()}

    orders = client.get(f"/api/v2/favorite/{credentials.endpoint_name}?customer=1", headers=headers)
    assert orders.status_code == 200
    assert orders.json()
    assert {row["CustomerId"] for row in orders.json()} == {1}
    without_customer = client.get(f"/api/v2/favorite/{credentials.endpoint_name}", headers=headers)
    assert without_customer.status_code == 400
    assert without_customer.json()["code"] == "missing_parameter"

    widget = client.get(
        f"/embed/{credentials.embed_id}?token={credentials.widget_token}&customer=1"
    )
    assert widget.status_code == 200
    assert credentials.widget_token not in widget.text


def test_demo_runs_twice(services: Services, client: TestClient, sample: Path) -> None:
    with services.sessions.begin() as session:
        first = prepare_demo(services, session, sample)
    with services.sessions.begin() as session:
        second = prepare_demo(services, session, sample)

    assert second.api_token != first.api_token
    assert second.embed_id == first.embed_id
    assert (
        client.get(
            "/api/v2/entity", headers={"Authorization": f"Bearer {first.api_token}"}
        ).status_code
        == 200
    )


def test_demo_admin_password_logs_in(services: Services, client: TestClient, sample: Path) -> None:
    with services.sessions.begin() as session:
        credentials = prepare_demo(services, session, sample)

    cookie = services.web_sessions.login(
        credentials.admin_email, credentials.admin_password, ip="127.0.0.1"
    )

    assert services.web_sessions.resolve(cookie) is not None
