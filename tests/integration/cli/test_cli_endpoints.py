"""``listdock endpoint`` create, list and delete against a SQLite store."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from listdock.app import build_services
from listdock.cli_endpoints import endpoint_app
from listdock.connectors.engines import ConnectionSettings
from listdock.services.connectors import CompanySpec, ConnectorSpec
from listdock.settings import Settings


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, northwind_sqlite_path: Path
) -> typer.Typer:
    """A CLI with the endpoint commands over a store that has the Northwind connector."""
    secret = secrets.token_urlsafe(48)
    monkeypatch.setenv("LISTDOCK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LISTDOCK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("LISTDOCK_SECRET_KEY", secret)
    services = build_services(Settings())
    try:
        with services.sessions.begin() as session:
            services.connectors.create(
                session,
                ConnectorSpec(
                    name="Northwind",
                    type="sqlite",
                    settings=ConnectionSettings(),
                    companies=(CompanySpec("Main", str(northwind_sqlite_path)),),
                ),
                actor_id=None,
            )
    finally:
        services.close()
    app = typer.Typer()
    app.add_typer(endpoint_app, name="endpoint")
    return app


def test_create_list_delete(cli: typer.Typer) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli,
        ["endpoint", "create", "OrdersByCustomer", "--list", "orders", "--company", "main",
         "--param", "customer:CustomerID::required", "--param", "from:OrderDate:ge",
         "--max-records", "50"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "GET /api/v2/favorite/OrdersByCustomer" in created.output

    listed = runner.invoke(cli, ["endpoint", "list"])
    assert listed.exit_code == 0, listed.output
    assert "OrdersByCustomer" in listed.output
    assert "customer (eq), from (ge)" in listed.output

    deleted = runner.invoke(cli, ["endpoint", "delete", "ordersbycustomer"])
    assert deleted.exit_code == 0, deleted.output
    assert "No endpoints yet" in runner.invoke(cli, ["endpoint", "list"]).output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--list", "Nothing", "--company", "Main"], "No list is named 'Nothing'"),
        (["--list", "Orders", "--company", "Other"], "no company 'Other'"),
        (["--list", "Orders", "--company", "Main", "--param", "x:Missing"], "no visible field"),
        (
            ["--list", "Orders", "--company", "Main", "--param", "x:ShipCity:between"],
            "unknown operator",
        ),
        (["--list", "Orders", "--company", "Main", "--param", "bad"], "must look like"),
    ],
)
def test_create_mistakes_exit_1(cli: typer.Typer, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["endpoint", "create", "Orders1", *arguments])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_duplicate_name_exits_1(cli: typer.Typer) -> None:
    runner = CliRunner()
    arguments = ["--list", "Orders", "--company", "Main"]
    assert runner.invoke(cli, ["endpoint", "create", "Orders1", *arguments]).exit_code == 0
    again = runner.invoke(cli, ["endpoint", "create", "ORDERS1", *arguments])
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_delete_unknown_exits_1(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["endpoint", "delete", "Nope"])
    assert result.exit_code == 1
    assert "no endpoint is named 'Nope'" in result.output
