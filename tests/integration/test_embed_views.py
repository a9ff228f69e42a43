"""Cached embed views: the same fragment as the full route, and never stale.

``GET /embed/{EmbedId}/view`` is served from cached store data when it can be, on the
event loop for a SQLite store and source. These tests compare it with the full route, which
reads everything from the store, and change the store with plain SQL behind its back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from listdock.app import Services
from listdock.web import embed as embed_routes
from listdock.web.embed_views import EmbedViews

from .conftest import Login
from .widget_support import WidgetWorld, session_value, writable_chinook


@pytest.fixture
def world(
    client: TestClient, admin: Login, chinook_sqlite_path: Path, tmp_path: Path
) -> WidgetWorld:
    return WidgetWorld.create(client, admin, writable_chinook(chinook_sqlite_path, tmp_path))


@pytest.fixture
def full_routes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The embed ids of view requests the full route served, in order."""
    calls: list[str] = []
    original = embed_routes.full_embed_view

    def counting(embed_id: str, request: Any) -> Any:
        calls.append(embed_id)
        return original(embed_id, request)

    monkeypatch.setattr(embed_routes, "full_embed_view", counting)
    return calls


def opened(world: WidgetWorld, **options: Any) -> tuple[str, str]:
    """Create a grid widget and a reader's widget token; return its EmbedId and a session.

    A widget with parameters is opened with ``customer=2``.
    """
    widget = world.create_widget("Invoice", **options)
    reader = world.api_user("Portal")
    token = world.widget_token(widget["WidgetId"], reader)
    values = {"customer": 2} if options.get("parameters") else {}
    page = world.open(widget["EmbedId"], token["Value"], **values)
    assert page.status_code == 200, page.text
    return widget["EmbedId"], session_value(page.text)


def view(world: WidgetWorld, embed_id: str, session: str, **params: Any) -> Any:
    return world.client.get(
        f"/embed/{embed_id}/view", params=params, headers={"Authorization": f"Bearer {session}"}
    )


def full_view(
    world: WidgetWorld, monkeypatch: pytest.MonkeyPatch, embed_id: str, session: str, **params: Any
) -> Any:
    """Send a view request that the full route serves."""
    with monkeypatch.context() as patch:
        patch.setattr(EmbedViews, "_respond", lambda *_args, **_kwargs: None)
        return view(world, embed_id, session, **params)


VIEWS = [
    {},
    {"skip": "2"},
    {"sort": "Total", "desc": "1"},
    {"field": "BillingCity", "q": "o"},
]


@pytest.mark.parametrize("params", VIEWS)
def test_cached_view_matches_full_route(
    world: WidgetWorld,
    monkeypatch: pytest.MonkeyPatch,
    full_routes: list[str],
    params: dict[str, str],
) -> None:
    embed_id, session = opened(
        world,
        fields=["InvoiceId", "BillingCity", "Total"],
        parameters=[("customer", "CustomerId", True)],
    )

    expected = full_view(world, monkeypatch, embed_id, session, **params)
    view(world, embed_id, session, **params)  # fills the cache
    full_routes.clear()
    cached = view(world, embed_id, session, **params)

    assert expected.status_code == 200, expected.text
    assert full_routes == []
    assert cached.status_code == 200
    assert cached.text == expected.text
    assert cached.headers["X-Embed-Session"].startswith("lde_")
    for header in ("content-security-policy", "cache-control", "x-content-type-options"):
        assert cached.headers[header] == expected.headers[header]


def test_bad_view_state_is_400(world: WidgetWorld) -> None:
    embed_id, session = opened(world, fields=["InvoiceId", "Total"])
    view(world, embed_id, session)

    response = view(world, embed_id, session, sort="NoSuchField")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_plain_sql_revoke_stops_cached_sessions(world: WidgetWorld, services: Services) -> None:
    embed_id, session = opened(world, fields=["InvoiceId", "Total"])
    assert view(world, embed_id, session).status_code == 200
    assert view(world, embed_id, session).status_code == 200

    engine = sa.create_engine(services.settings.store_url())
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE tokens SET status = 'Revoked'"))
    engine.dispose()
    response = view(world, embed_id, session)

    assert response.status_code == 401


def test_source_change_shows_at_once(world: WidgetWorld) -> None:
    embed_id, session = opened(world, fields=["InvoiceId", "BillingCity"])
    before = view(world, embed_id, session)

    engine = sa.create_engine(f"sqlite:///{world.path}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE Invoice SET BillingCity = 'Changed city'"))
    engine.dispose()
    after = view(world, embed_id, session)

    assert "Changed city" not in before.text
    assert "Changed city" in after.text


def test_long_lived_token_uses_full_route(
    world: WidgetWorld, full_routes: list[str], admin: Login
) -> None:
    widget = world.create_widget("Invoice", fields=["InvoiceId"])

    response = world.client.get(
        f"/embed/{widget['EmbedId']}/view", headers={"Authorization": f"Bearer {admin.token}"}
    )

    assert response.status_code == 200
    assert full_routes == [widget["EmbedId"]]
