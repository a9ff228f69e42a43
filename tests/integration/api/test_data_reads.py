"""Cached data requests: the same responses on the event loop as in a worker thread, never stale.

A data request whose token, rights and list are cached is served on the event loop when
the store and the source are SQLite. These tests count worker-thread hops to tell the two
ways apart, compare their responses, and change the store behind the cache's back with plain
SQL, as another process or tool would.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from listdock.api import data_reads
from listdock.api.data_reads import DataReads
from listdock.app import build_services, create_app
from listdock.domain.models import Base
from listdock.settings import Settings

from .conftest import API, Api, ApiConnector

if TYPE_CHECKING:
    from tests.integration.conftest import FakeClock, Login

    from listdock.app import Services

# Tables whose changes never decide what a data request returns.
UNWATCHED_TABLES = {"audit_events", "web_sessions"}
MIGRATION = Path(__file__).parents[3] / "src/listdock/migrations/versions/0006_change_counter.py"


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions data requests ran in a worker thread, in order."""
    calls: list[str] = []
    original = data_reads.run_data_work

    async def counting(request: Any, function: Any, *args: Any) -> Any:
        calls.append(getattr(function, "__name__", repr(function)))
        return await original(request, function, *args)

    monkeypatch.setattr(data_reads, "run_data_work", counting)
    return calls


def threaded(client: TestClient, monkeypatch: pytest.MonkeyPatch, url: str, **kwargs: Any) -> Any:
    """Send a GET that is served in a worker thread even when the event loop could serve it."""
    with monkeypatch.context() as patch:
        patch.setattr(DataReads, "_answers_inline", lambda _self, _prepared: False)
        return client.get(url, **kwargs)


def cached_hops(services: Services, requests: int) -> list[str]:
    """The hops of cached requests: none on a SQLite store, one each on PostgreSQL.

    Reading PostgreSQL's change counter waits for the network, so only a SQLite store's
    requests are served on the event loop.
    """
    if services.change_counter.reads_without_waiting:
        return []
    return ["_serve_waiting"] * requests


def same_answer(first: Any, second: Any) -> None:
    assert first.status_code == second.status_code
    assert first.content == second.content
    for header in ("content-type", "link", "content-disposition", "x-total-count"):
        assert first.headers.get(header) == second.headers.get(header), header


ENTITY_CASES = [
    {"MaxRecords": "100", "orderby": "InvoiceLineId"},
    {"MaxRecords": "7", "skip": "3", "format": "csv"},
    {"fields": "InvoiceLineId,UnitPrice", "orderby": "UnitPrice desc", "format": "xml"},
    {"MaxRecords": "5", "skip": "2235"},
    {},
]


@pytest.mark.parametrize("params", ENTITY_CASES)
def test_inline_entity_page_matches_threaded(
    api: Api,
    chinook: ApiConnector,
    services: Services,
    hops: list[str],
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
) -> None:
    url = f"{API}/entity/{chinook.entity_id('InvoiceLine')}/data"
    headers = api.login.headers

    reference = threaded(api.client, monkeypatch, url, params=params, headers=headers)
    hops.clear()
    inline = api.client.get(url, params=params, headers=headers)

    assert reference.status_code == 200, reference.text
    assert hops == cached_hops(services, 1)
    same_answer(reference, inline)


def test_inline_endpoint_call_matches_threaded(
    api: Api,
    northwind: ApiConnector,
    services: Services,
    hops: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = api.fields(northwind.entity_id("Orders"))
    body = {
        "Endpoint": "OrdersByCustomer",
        "EntityId": northwind.entity_id("Orders"),
        "CompanyId": northwind.company_ids[0],
        "Parameters": [
            {"Name": "customer", "EntityFieldId": fields["CustomerID"], "Required": True},
            {"Name": "from", "EntityFieldId": fields["OrderDate"], "Operator": "ge"},
        ],
    }
    created = api.client.post(f"{API}/endpoint", json=body, headers=api.login.headers)
    assert created.status_code == 201, created.text
    url = f"{API}/favorite/OrdersByCustomer"
    params = {"customer": "ALFKI", "from": "1997-01-01", "MaxRecords": "2"}

    reference = threaded(api.client, monkeypatch, url, params=params, headers=api.login.headers)
    hops.clear()
    inline = api.client.get(url, params=params, headers=api.login.headers)
    other = api.client.get(
        url, params={"customer": "VINET", "format": "csv"}, headers=api.login.headers
    )

    assert reference.status_code == 200, reference.text
    assert len(reference.json()) == 2
    assert hops == cached_hops(services, 2)
    same_answer(reference, inline)
    assert other.status_code == 200
    assert other.text.count("VINET") == 5


def test_cold_cache_uses_one_thread_hop(
    api: Api, chinook: ApiConnector, services: Services, hops: list[str]
) -> None:
    # Creating the connector changed the store, so nothing about the list is cached yet.
    url = f"{API}/entity/{chinook.entity_id('Invoice')}/data"

    first = api.client.get(url, headers=api.login.headers)
    second = api.client.get(url, headers=api.login.headers)

    assert first.status_code == second.status_code == 200
    assert hops == ["_serve_waiting", *cached_hops(services, 1)]


def test_slow_page_moves_to_thread(
    api: Api, chinook: ApiConnector, services: Services, hops: list[str]
) -> None:
    url = f"{API}/entity/{chinook.entity_id('Track')}/data"
    params = {"MaxRecords": "50", "orderby": "Name"}
    expected = api.client.get(url, params=params, headers=api.login.headers)
    services.reads.inline_budget = 0.0
    hops.clear()

    over_budget = api.client.get(url, params=params, headers=api.login.headers)
    marked_slow = api.client.get(url, params=params, headers=api.login.headers)

    same_answer(expected, over_budget)
    same_answer(expected, marked_slow)
    if services.change_counter.reads_without_waiting:
        assert hops == ["data_response", "data_response"]


def store_engine(services: Services) -> sa.Engine:
    return sa.create_engine(services.settings.store_url())


def test_plain_sql_revoke_applies_at_once(
    api: Api, chinook: ApiConnector, services: Services, admin: Login
) -> None:
    url = f"{API}/entity/{chinook.entity_id('Album')}/data"
    assert api.client.get(url, headers=admin.headers).status_code == 200
    assert api.client.get(url, headers=admin.headers).status_code == 200

    engine = store_engine(services)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE tokens SET status = 'Revoked'"))
    engine.dispose()
    response = api.client.get(url, headers=admin.headers)

    assert response.status_code == 401


def test_plain_sql_hidden_field_applies_at_once(
    api: Api, chinook: ApiConnector, services: Services
) -> None:
    entity_id = chinook.entity_id("Album")
    url = f"{API}/entity/{entity_id}/data"
    before = api.client.get(url, params={"MaxRecords": "1"}, headers=api.login.headers)

    engine = store_engine(services)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE entity_fields SET hidden = :hidden "
                "WHERE entity_id = :entity AND api_name = 'Title'"
            ),
            {"hidden": True, "entity": entity_id},
        )
    engine.dispose()
    after = api.client.get(url, params={"MaxRecords": "1"}, headers=api.login.headers)

    assert "Title" in before.json()[0]
    assert "Title" not in after.json()[0]


def test_rolled_back_change_keeps_counter(services: Services) -> None:
    before = services.change_counter.read()
    engine = store_engine(services)
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(sa.text("UPDATE account SET name = 'Changed'"))
        transaction.rollback()
    engine.dispose()

    assert before is not None
    assert services.change_counter.read() == before


def test_token_usage_keeps_counter(api: Api, services: Services) -> None:
    api.client.get(f"{API}/account", headers=api.login.headers)
    before = services.change_counter.read()

    services.usage.flush()
    after = services.change_counter.read()

    assert before is not None
    assert after == before


def test_grant_change_moves_counter(api: Api, services: Services) -> None:
    before = services.change_counter.read()
    response = api.client.post(f"{API}/team", json={"Name": "Readers"}, headers=api.login.headers)

    assert response.status_code == 201, response.text
    assert before is not None
    after = services.change_counter.read()
    assert after is not None
    assert after > before


def watched_tables() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("change_counter_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tables: dict[str, Any] = module.WATCHED_TABLES
    return tables


def test_every_table_watched_or_exempt() -> None:
    watched = set(watched_tables())

    assert watched.isdisjoint(UNWATCHED_TABLES)
    assert set(Base.metadata.tables) == watched | UNWATCHED_TABLES


def test_every_watched_table_has_triggers(services: Services) -> None:
    engine = store_engine(services)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            names = set(
                connection.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            expected = {
                f"change_counter_{table}_{event}"
                for table in watched_tables()
                for event in ("insert", "update", "delete")
            }
        else:
            names = set(
                connection.execute(
                    sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
                ).scalars()
            )
            expected = {f"change_counter_{table}" for table in watched_tables()}
    engine.dispose()

    assert expected <= names


@pytest.fixture
def limited_client(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[TestClient, Services]]:
    """A client of a second app over the same store whose tokens allow three requests a minute."""
    limited = settings.model_copy(
        update={"token_request_limit": "3/minute", "data_dir": tmp_path / "limited"}
    )
    built = build_services(limited, clock)
    try:
        with TestClient(create_app(built)) as client:
            yield client, built
    finally:
        built.close()


def test_each_request_counts_once(
    chinook: ApiConnector,
    admin: Login,
    limited_client: tuple[TestClient, Services],
    hops: list[str],
) -> None:
    client, limited = limited_client
    url = f"{API}/entity/{chinook.entity_id('Genre')}/data"

    statuses = [client.get(url, headers=admin.headers).status_code for _ in range(4)]

    assert hops == ["_serve_waiting", *cached_hops(limited, 3)]
    assert statuses == [200, 200, 200, 429]
