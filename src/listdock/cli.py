"""The ``listdock`` command line.

Each command reads its settings from ``LISTDOCK_*`` variables, builds the services through
``listdock.app.build_services`` and turns every user mistake into one sentence on standard
error with exit status 1.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from listdock.app import Services, build_services
from listdock.connectors.engines import ConnectionSettings
from listdock.errors import ListdockError
from listdock.services.connectors import CompanySpec, ConnectorSpec
from listdock.settings import STORE_FILE, Settings

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="listdock: a self-hosted data access hub.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Create tokens.", no_args_is_help=True)
connector_app = typer.Typer(help="Add data sources.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(connector_app, name="connector")

CommandT = TypeVar("CommandT", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print ``message`` on standard error and return the exit to raise (status 1)."""
    typer.echo(message, err=True)
    return typer.Exit(code=1)


def user_errors(command: CommandT) -> CommandT:
    """Turn listdock's domain errors in ``command`` into one sentence and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ListdockError as error:
            message = error.message if error.message.endswith(".") else error.message + "."
            if error.code == "user_not_found":
                message += " " + store_hint(Settings())
            raise fail(f"Error: {message}") from None

    return wrapper  # type: ignore[return-value]


def store_hint(settings: Settings) -> str:
    """Return a sentence naming the store a command used, without any password in its URL."""
    if settings.database_url:
        return "The store is the one LISTDOCK_DATABASE_URL names; check that it is the right one."
    directory = settings.data_dir.resolve()
    return (
        f"The store used is in {directory}; set LISTDOCK_DATA_DIR to the data directory "
        "you initialized if that is not it."
    )


def configure_logging(settings: Settings) -> None:
    """Log to standard error; one-shot commands show only warnings unless the level is set."""
    level = settings.log_level.upper()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if "LISTDOCK_LOG_LEVEL" not in os.environ and command not in ("serve", "demo"):
        level = "WARNING"
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def load_services(settings: Settings | None = None, *, new_store: bool = False) -> Services:
    """Build the services over the store; it must exist unless ``new_store`` allows creating it.

    Raises typer.Exit (status 1, with a message) when the default SQLite store is missing, so
    a command run in the wrong directory does not quietly create an empty store there.
    """
    settings = settings or Settings()
    configure_logging(settings)
    store = settings.data_dir / STORE_FILE
    if not new_store and not settings.database_url and not store.exists():
        raise fail(
            f"Error: there is no listdock store in {settings.data_dir.resolve()}. Run "
            "`listdock init` there first, or set LISTDOCK_DATA_DIR to your data directory."
        )
    return build_services(settings)


@app.command()
@user_errors
def init(
    admin_email: Annotated[
        str | None, typer.Option(help="Email of the first administrator.")
    ] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(help="Password of the first administrator; asked for when omitted."),
    ] = None,
    admin_name: Annotated[
        str, typer.Option(help="Display name of the first administrator.")
    ] = "Administrator",
) -> None:
    """Create or upgrade the store and, on a new store, its first administrator."""
    services = load_services(new_store=True)
    try:
        with services.sessions.begin() as session:
            if services.principals.has_any_user(session):
                if admin_email is not None:
                    raise fail(
                        "Error: the store already has users, so --admin-email is not used. "
                        "Create more users with `listdock user create`."
                    )
                typer.echo("The store is up to date and already has an administrator.")
                return
            email = admin_email or typer.prompt("Administrator email")
            password = admin_password or typer.prompt(
                "Administrator password", hide_input=True, confirmation_prompt=True
            )
            admin = services.principals.create_user(
                session, name=admin_name, email=email, password=password, actor_id=None
            )
            services.principals.assign_system_roles(
                session, admin, ["Administrator"], actor_id=None
            )
        typer.echo(f"Created the store and the administrator {email}.")
    finally:
        services.close()


@app.command()
@user_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (LISTDOCK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (LISTDOCK_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Number of server processes (LISTDOCK_WORKERS).")
    ] = None,
) -> None:
    """Run the server; the store is migrated first."""
    settings = Settings()
    services = load_services(settings, new_store=True)
    services.close()
    run_server(settings, host or settings.host, port or settings.port, workers or settings.workers)


def run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    # Workers are separate processes that rebuild the settings from the environment.
    os.environ["LISTDOCK_DATA_DIR"] = str(settings.data_dir.resolve())
    uvicorn.run(
        "listdock.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@token_app.command("create")
@user_errors
def token_create(
    user: Annotated[str, typer.Option(help="Email or name of the user or API user.")],
    name: Annotated[str, typer.Option(help="Name of the token, unique for its owner.")],
    expires_at: Annotated[
        datetime | None,
        typer.Option(help="Expiry as an ISO 8601 time in UTC, e.g. 2027-01-31T00:00:00."),
    ] = None,
) -> None:
    """Create a token and print only its value; it is never shown again."""
    services = load_services()
    try:
        with services.sessions.begin() as session:
            owner = services.principals.find_by_login(session, user)
            account = services.accounts.get(session)
            expiry = expires_at.replace(tzinfo=expires_at.tzinfo or UTC) if expires_at else None
            issued = services.tokens.create(
                session,
                owner,
                name,
                created_by=None,
                expires_at=expiry,
                max_lifetime_days=account.max_token_lifetime_days,
            )
        typer.echo(issued.value)
    finally:
        services.close()


@connector_app.command("add")
@user_errors
def connector_add(
    connector_type: Annotated[str, typer.Argument(metavar="TYPE", help="sqlite")],
    path: Annotated[Path, typer.Argument(help="Path of the SQLite database file.")],
    name: Annotated[
        str | None, typer.Option(help="Connector name; the file name by default.")
    ] = None,
) -> None:
    """Add a SQLite connector with one company, testing the file and discovering its lists."""
    if connector_type != "sqlite":
        raise fail(
            f"Error: the CLI adds sqlite connectors only, not {connector_type!r}. "
            "Add PostgreSQL and MySQL connectors with POST /api/v2/connector."
        )
    resolved = path.expanduser().resolve()
    spec = ConnectorSpec(
        name=name or resolved.stem,
        type="sqlite",
        settings=ConnectionSettings(),
        companies=(CompanySpec(name=resolved.stem, database_name=str(resolved)),),
    )
    services = load_services()
    try:
        with services.sessions.begin() as session:
            connector = services.connectors.create(session, spec, actor_id=None)
            lists = services.connectors.count_lists(session, connector)
        typer.echo(f"Added connector {connector.name} ({connector.id}) with {lists} lists.")
    finally:
        services.close()


def main() -> None:
    app()


@app.command()
@user_errors
def demo(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Directory of the demo store; <LISTDOCK_DATA_DIR>/demo by default."),
    ] = None,
) -> None:
    """Create a demo store with a generated sample database, print a token, and serve."""
    from listdock.demo import prepare_demo
    from listdock.demo_data import generate_demo_database

    base = Settings()
    demo_dir = (data_dir or base.data_dir / "demo").resolve()
    settings = base.model_copy(update={"data_dir": demo_dir, "database_url": None})
    sample = demo_dir / "orders.db"
    demo_dir.mkdir(parents=True, exist_ok=True)
    if not sample.exists():
        counts = generate_demo_database(sample)
        typer.echo(f"Generated the sample database {sample} ({sum(counts.values())} rows).")

    services = load_services(settings, new_store=True)
    try:
        with services.sessions.begin() as session:
            credentials = prepare_demo(services, session, sample)
    finally:
        services.close()

    base_url = f"http://{host}:{port}"
    lines = [
        "",
        f"listdock demo is starting at {base_url} (stop it with Ctrl+C).",
        "These values are shown once; a new run of `listdock demo` makes new ones.",
        "",
        f"  Web app:        {base_url}/login",
        f"                  {credentials.admin_email} / {credentials.admin_password}",
        f"  API docs:       {base_url}/docs",
        f"  API token:      {credentials.api_token}",
        f'  Lists:          curl -H "Authorization: Bearer {credentials.api_token}" '
        f"{base_url}/api/v2/entity",
        f'  Named endpoint: curl -H "Authorization: Bearer {credentials.api_token}" '
        f'"{base_url}/api/v2/favorite/{credentials.endpoint_name}?customer=1"',
        "  Widget (read-only token, customer 1):",
        f"                  {base_url}/embed/{credentials.embed_id}"
        f"?token={credentials.widget_token}&customer=1",
        "",
    ]
    typer.echo("\n".join(lines))
    run_server(settings, host, port, 1)


def _register_subcommands() -> None:
    """Attach the command groups that live in their own modules (they import this one)."""
    from listdock.cli_endpoints import endpoint_app
    from listdock.cli_users import api_user_app, user_app

    app.add_typer(user_app, name="user")
    app.add_typer(api_user_app, name="api-user")
    app.add_typer(endpoint_app, name="endpoint")


_register_subcommands()
